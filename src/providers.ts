/**
 * The registry: the providers this build carries, and what needs to know them — reading a config,
 * building each backend's adapter, a backend's identity, demo mode. Only the runtime entries
 * (src/node/, src/worker/) import it; nothing else of src/ knows a provider.
 */
import { sftpgoProvider } from '../adapters/sftpgo/index.js';
import { sftpToGoProvider } from '../adapters/sftptogo/index.js';
import { parseConfigFor, type GatewayConfig } from './config.js';
import { noopMetrics, type Metrics } from './observability/metrics.js';
import type { ProviderAdapter } from './provider-kit/adapter.js';
import type { BackendConfig } from './provider-kit/backend-config.js';
import type { ProviderDefinition } from './provider-kit/provider.js';
import { CircuitBreaker } from './reliability/circuit-breaker.js';
import type { UpstreamTransport } from './reliability/upstream.js';

/** Every provider, in the order demo mode lists them (the first is its default backend). */
export const PROVIDERS: readonly ProviderDefinition[] = [sftpgoProvider, sftpToGoProvider] as readonly ProviderDefinition[];

function providerOf(config: BackendConfig): ProviderDefinition {
  const found = PROVIDERS.find((p) => p.name === config.provider);
  // parseConfig admits only registered providers: another is a programming error.
  if (!found) throw new Error(`no provider named "${config.provider}"`);
  return found;
}

/** Parses config JSON text (src/config.ts), each backend by its provider's schema; throws ConfigError naming the first bad field. */
export function parseConfig(text: string, vars: Record<string, string | undefined>): GatewayConfig {
  return parseConfigFor(PROVIDERS, text, vars);
}

/** A transport for one backend's upstream (Node's undici pool), or undefined for the global fetch. */
export type TransportFor = (backend: string, baseUrl: string) => UpstreamTransport | undefined;

export function createAdapters(
  backends: Record<string, BackendConfig>,
  fetchFor: (backend: string) => typeof fetch | undefined = () => undefined,
  metrics: Pick<Metrics, 'observeUpstream'> = noopMetrics,
  transportFor: TransportFor = () => undefined,
): Map<string, ProviderAdapter> {
  return new Map(
    Object.entries(backends).map(([name, cfg]) => {
      const fetch = fetchFor(name);
      // One breaker per backend, living as long as its adapter: the adapter's client reports to it.
      const deps = {
        backend: name,
        fetch,
        // An injected fetch wins: then no transport (and no pool) is made for the backend.
        transport: fetch ? undefined : transportFor(name, cfg.baseUrl),
        breaker: new CircuitBreaker(cfg.breaker),
        observeUpstream: (outcome: string, seconds: number) => metrics.observeUpstream(name, outcome, seconds),
      };
      return [name, providerOf(cfg).createAdapter(cfg, deps)] as const;
    }),
  );
}

/**
 * A backend's identity for stored answers and idempotency records: its name, and a fingerprint of
 * its provider and the settings its provider says decide what its answers hold (base URL,
 * organization, API version, SFTP host and port…), so an entry made for one upstream is never
 * served for another after a config change.
 *
 * @example backendIdentity('onprem', { provider: 'sftpgo', baseUrl: 'http://10.0.0.5:8081', apiVersion: 'auto', … }) // 'onprem~3f9c2a71d04b8e65'
 */
export function backendIdentity(name: string, backend: BackendConfig): string {
  const decisive = [backend.provider, ...providerOf(backend).decisiveSettings(backend)];
  return `${name}~${fnv1a64(JSON.stringify(decisive))}`;
}

/** Every backend's identity, computed once, as `ListCache`'s `identityOf` takes it. */
export function backendIdentities(backends: Record<string, BackendConfig>): (name: string) => string {
  const identities = new Map(Object.entries(backends).map(([name, cfg]) => [name, backendIdentity(name, cfg)]));
  return (name) => identities.get(name) ?? name;
}

/** FNV-1a, 64 bits, as hex: a stable fingerprint on every runtime, with no async crypto at start. */
function fnv1a64(text: string): string {
  let hash = 0xcbf29ce484222325n;
  for (const byte of new TextEncoder().encode(text)) {
    hash ^= BigInt(byte);
    hash = (hash * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return hash.toString(16).padStart(16, '0');
}
