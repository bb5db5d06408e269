/**
 * Builds a real gateway app in-process for tests, in front of real emulators, and captures
 * every log line. Requests go through `app.request` (the whole Hono stack); emulators are
 * reached through their in-process fetch or over a real socket.
 */
import { Writable } from 'node:stream';
import { createApp, type AppDeps } from '../../src/http/app.js';
import type { AuditEvent, AuditSink } from '../../src/security/audit.js';
import { createMemoryStore, noStore, type CacheStore } from '../../src/cache/store.js';
import { ListCache } from '../../src/cache/list-cache.js';
import type { GatewayConfig } from '../../src/config.js';
import { createNodeLogger } from '../../src/node/logger.js';
import type { Metrics } from '../../src/observability/metrics.js';
import { backendIdentities, createAdapters, parseConfig } from '../../src/providers.js';
import { createNodeTransports } from '../../src/node/transport.js';
import type { LimiterFactory } from '../../src/security/throttle.js';

export const KEYS = {
  ops: 'ops-key-0123456789abcdef',
  reader: 'reader-key-0123456789abcdef',
  writer: 'writer-key-0123456789abcdef',
  onpremOnly: 'onprem-only-key-0123456789',
} as const;

export const API_KEYS = [
  { name: 'ops', key: KEYS.ops, scopes: ['read', 'write', 'admin'] },
  { name: 'reader', key: KEYS.reader, scopes: ['read'] },
  { name: 'writer', key: KEYS.writer, scopes: ['read', 'write'] },
  { name: 'onprem-only', key: KEYS.onpremOnly, scopes: ['read', 'write', 'admin'], backends: ['onprem'] },
];

export interface TestGateway {
  app: ReturnType<typeof createApp>['app'];
  cache: ListCache;
  config: GatewayConfig;
  logs: string[];
  /** A request with the ops key unless `key` says otherwise (`null` = no Authorization). */
  call(method: string, path: string, opts?: CallOptions): Promise<Response>;
  /** Ends what the gateway holds open (the undici pools of `nodeTransport`). */
  close(): Promise<void>;
  /** `call`, then the parsed JSON body (undefined when empty). */
  json<T = any>(method: string, path: string, opts?: CallOptions): Promise<{ status: number; body: T; headers: Headers }>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export interface CallOptions {
  key?: string | null;
  body?: unknown;
  /** Sent as is (no JSON.stringify), for malformed bodies. */
  rawBody?: string;
  headers?: Record<string, string>;
}

export interface GatewayOptions {
  backends: Record<string, unknown>;
  defaultBackend?: string;
  /** fetch per backend name, e.g. an emulator's in-process fetch. */
  fetchFor?: (backend: string) => typeof fetch | undefined;
  /** A driver name, or a store (e.g. a Redis store shared by two gateways). */
  cache?: 'memory' | 'none' | CacheStore;
  cacheTtlSeconds?: number;
  /** How long a failed store is bypassed (short in tests that restart Redis). */
  cacheRetryAfterMs?: number;
  keyPrefix?: string;
  apiKeys?: unknown[];
  env?: Record<string, string>;
  /**
   * Reach the upstreams over src/node/transport.ts's undici Pool, as the Node entry does, rather
   * than the global fetch (`fetchFor` still wins for its backends). `close()` ends the pools.
   */
  nodeTransport?: boolean;
  /** Where request, upstream and cache metrics go. @default none */
  metrics?: Metrics;
  /** More top-level config (e.g. `passwordMinLength`, `server`); `auth` fields besides the keys go in `authSettings`. */
  config?: Record<string, unknown>;
  /** Settings of `auth` besides `apiKeys` (e.g. `failedAuthPerMinute`). */
  authSettings?: Record<string, unknown>;
  /** Where audit events go, e.g. `createMemoryAuditSink()`. @default a sink that keeps none (quiet test output) */
  audit?: AuditSink;
  /** The throttle's counters (e.g. `nodeLimiters` over a shared Redis store). @default memory */
  limiters?: LimiterFactory;
  /** The client's address; `app.request` has no socket. @default none ("unknown") */
  clientAddress?: AppDeps['clientAddress'];
}

/** The two upstreams of `bothProviders`: anything with an in-process fetch, and SFTP To Go's organization and key. */
interface EmulatorFetch {
  fetch: (request: Request) => Promise<Response> | Response;
}

/**
 * A gateway with both providers: `onprem` (SFTPGo, the default) and `togo` (SFTP To Go), each in
 * front of its emulator's in-process fetch.
 */
export function bothProviders(
  sftpgo: EmulatorFetch,
  togo: EmulatorFetch & { organizationId: string; apiKey: string },
  extra: Partial<GatewayOptions> = {},
): TestGateway {
  return createTestGateway({
    backends: {
      onprem: { provider: 'sftpgo', baseUrl: 'http://sftpgo.test', sftpHost: 'sftp.example.com' },
      togo: { provider: 'sftptogo', baseUrl: 'http://togo.test', organizationId: togo.organizationId, apiKey: togo.apiKey },
    },
    defaultBackend: 'onprem',
    fetchFor: (name) => (name === 'onprem' ? sftpgo.fetch : togo.fetch) as typeof fetch,
    ...extra,
  });
}

/** An audit sink that keeps every event, in order, for a test to read. */
export function createMemoryAuditSink(): AuditSink & { events: AuditEvent[] } {
  const events: AuditEvent[] = [];
  return { events, emit: (event) => void events.push(event), close: async () => true };
}

const discardAudit: AuditSink = { emit: () => {}, close: async () => true };

export function createTestGateway(opts: GatewayOptions): TestGateway {
  const config = parseConfig(
    JSON.stringify({
      // The default keys, less those limited to a backend this gateway does not have.
      auth: { apiKeys: opts.apiKeys ?? API_KEYS.filter((k) => !k.backends || k.backends.every((b) => b in opts.backends)), ...opts.authSettings },
      ...(opts.defaultBackend ? { defaultBackend: opts.defaultBackend } : {}),
      backends: opts.backends,
      cache: { driver: typeof opts.cache === 'string' ? opts.cache : 'memory', ttlSeconds: opts.cacheTtlSeconds ?? 30 },
      logLevel: 'debug',
      ...opts.config,
    }),
    opts.env ?? {},
  );
  const logs: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      logs.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  const logger = createNodeLogger({ level: 'debug', destination: destination as unknown as { write(s: string): void } });
  const store = typeof opts.cache === 'object' ? opts.cache : opts.cache === 'none' ? noStore : createMemoryStore(1000);
  const cache = new ListCache(store, {
    ttlSeconds: config.cache.ttlSeconds,
    keyPrefix: opts.keyPrefix ?? 'test:',
    logger,
    afterAnswer: setImmediate, // as src/node/main.ts
    ...(opts.cacheRetryAfterMs !== undefined ? { retryAfterMs: opts.cacheRetryAfterMs } : {}),
    ...(opts.metrics ? { onOutcome: opts.metrics.observeCache.bind(opts.metrics) } : {}),
    identityOf: backendIdentities(config.backends),
  });
  const transports = opts.nodeTransport ? createNodeTransports() : undefined;
  const adapters = createAdapters(config.backends, opts.fetchFor, opts.metrics, transports?.transportFor);
  const { app } = createApp({
    config, adapters, cache, logger, ...(opts.metrics ? { metrics: opts.metrics } : {}), audit: opts.audit ?? discardAudit,
    ...(opts.limiters ? { limiters: opts.limiters } : {}),
    ...(opts.clientAddress ? { clientAddress: opts.clientAddress } : {}),
  });

  return {
    app,
    cache,
    config,
    logs,
    ...callerFor(async (path, init) => app.request(path, init)),
    close: async () => transports?.closeAll(),
  };
}

/**
 * `call` and `json` over any way of sending a request (the in-process app, or HTTP to a server):
 * the ops key unless told otherwise, and a JSON body with its content type.
 */
export function callerFor(send: (path: string, init: RequestInit) => Promise<Response>): Pick<TestGateway, 'call' | 'json'> {
  async function call(method: string, path: string, o: CallOptions = {}): Promise<Response> {
    const headers: Record<string, string> = { ...o.headers };
    const key = o.key === undefined ? KEYS.ops : o.key;
    if (key !== null) headers.authorization = `Bearer ${key}`;
    let body: string | undefined = o.rawBody;
    if (o.body !== undefined) body = JSON.stringify(o.body);
    if (body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) {
      headers['content-type'] = 'application/json';
    }
    return send(path, { method, headers, body });
  }
  return {
    call,
    async json(method, path, o) {
      const res = await call(method, path, o);
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
    },
  };
}
