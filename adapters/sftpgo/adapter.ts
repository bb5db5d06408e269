/**
 * The SFTPGo adapter: REST API v1 (./v1-adapter.ts: SFTPGo 0.9.x and 1.x) or v2 (./v2-adapter.ts:
 * SFTPGo 2.x), as the backend's `apiVersion` pins it, or as found on first use (`auto`).
 *
 * `auto` asks the server once which API it speaks (v1 first, or v2 first when only an API key is
 * configured, since v1 has none), then carries every call to that adapter. A call that shows the
 * server now speaks the other API (it was upgraded in place: a router's 404 where the API
 * should be, so nothing was written) makes it find the server again and run that call once more.
 */
import {
  GatewayError, type AdapterDeps, type CallContext, type ProviderAdapter,
} from '../../src/provider-kit/index.js';
import { OtherApiVersion, type ApiVersion, type VersionedAdapter } from './api-version.js';
import type { SftpgoBackendConfig } from './config.js';
import { networkRuleRefusal, usernameRefusal } from './mapping.js';
import { sftpgoNaming } from './naming.js';
import { createSftpgoV1Adapter } from './v1-adapter.js';
import { createSftpgoV2Adapter } from './v2-adapter.js';

/**
 * Builds the adapter for one SFTPGo backend.
 *
 * @example
 * createSftpgoAdapter({ provider: 'sftpgo', apiVersion: 'auto', baseUrl: 'http://127.0.0.1:8080', apiKey: 'id.secret',
 *   sftpPort: 2022, homeDirectoryBase: '/srv/sftpgo/data', timeoutMs: 5000 }, { backend: 'onprem' });
 */
export function createSftpgoAdapter(config: SftpgoBackendConfig, deps: AdapterDeps): ProviderAdapter {
  if (config.apiVersion === 'v1') return createSftpgoV1Adapter(config, deps);
  if (config.apiVersion === 'v2') return createSftpgoV2Adapter(config, deps);
  return createVersionFindingAdapter(config, deps);
}

function createVersionFindingAdapter(config: SftpgoBackendConfig, deps: AdapterDeps): ProviderAdapter {
  // Built on first need: each checks the config, and a v2 one without credentials fails only when used.
  const made: Partial<Record<ApiVersion, VersionedAdapter>> = {};
  const adapterOf = (v: ApiVersion): VersionedAdapter =>
    (made[v] ??= v === 'v1' ? createSftpgoV1Adapter(config, deps) : createSftpgoV2Adapter(config, deps));
  const first: ApiVersion = config.apiKey !== undefined ? 'v2' : 'v1';
  // Until found, it answers as the adapter it will ask first.
  const assumed = adapterOf(first);

  let chosen: VersionedAdapter | null = null;
  let finding: Promise<VersionedAdapter> | null = null;

  async function find(ctx: CallContext): Promise<VersionedAdapter> {
    try {
      await adapterOf(first).identify(ctx);
      return adapterOf(first);
    } catch (err) {
      if (!(err instanceof OtherApiVersion)) throw err;
      const other = adapterOf(err.speaks);
      await other.identify(ctx);
      return other;
    }
  }

  /**
   * The adapter of the API the server speaks, found once; concurrent callers share the finding.
   * An adapter that forgot its server (a call found it replaced) is asked again.
   */
  function current(ctx: CallContext): Promise<VersionedAdapter> {
    if (chosen && chosen.server?.().apiVersion === null) chosen = null;
    if (chosen) return Promise.resolve(chosen);
    finding ??= find(ctx).then((a) => (chosen = a)).finally(() => {
      finding = null;
    });
    return finding;
  }

  /** One call on the server's adapter; once more after the server turned out to speak the other API. */
  async function run<T>(ctx: CallContext, call: (a: ProviderAdapter) => Promise<T>): Promise<T> {
    const a = await current(ctx);
    try {
      return await call(a);
    } catch (err) {
      if (!(err instanceof OtherApiVersion)) throw err;
      chosen = null;
      return call(await current(ctx));
    }
  }

  const now = () => chosen ?? assumed;
  const server = () => chosen?.server?.() ?? { apiVersion: null, serverVersion: null };
  return {
    provider: 'sftpgo',
    get fields() {
      return now().fields;
    },
    get operations() {
      return now().operations;
    },
    get permissions() {
      return now().permissions;
    },
    server,
    naming: sftpgoNaming(server),
    usernameRefusal,
    networkRuleRefusal,
    async resolve(ctx, capability) {
      const a = await current(ctx);
      await a.resolve?.(ctx, capability);
    },
    listUsers: (q, ctx) => run(ctx, (a) => a.listUsers(q, ctx)),
    getUser: (id, ctx) => run(ctx, (a) => a.getUser(id, ctx)),
    createUser: (input, ctx) => run(ctx, (a) => a.createUser(input, ctx)),
    updateUser: (id, patch, ctx) => run(ctx, (a) => a.updateUser(id, patch, ctx)),
    deleteUser: (id, ctx) => run(ctx, (a) => a.deleteUser(id, ctx)),
    async health(ctx) {
      try {
        const result = await (await current(ctx)).health(ctx);
        // A check that no longer finds its API there leaves the adapter without a server: the
        // server was replaced (upgraded in place), so it is found again and checked once more.
        if (result.ok || chosen?.server?.().apiVersion !== null) return result;
        return await (await current(ctx)).health(ctx);
      } catch (err) {
        return { ok: false, detail: err instanceof GatewayError ? err.detail : 'health check failed' };
      }
    },
    circuit: deps.breaker?.state.bind(deps.breaker),
  };
}
