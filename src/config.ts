/**
 * The gateway's configuration (CONTRACT §7): one zod schema, `${NAME}` interpolation from the
 * environment (or Worker bindings), and errors that name the bad field.
 */
import { z } from 'zod';

const SCOPES = ['read', 'write', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

const backendName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'backend names are 1..63 of a-z, 0-9, _ and -, starting with a letter or digit');
const httpUrl = z
  .string()
  .url()
  .refine((u) => /^https?:\/\//.test(u), 'must be an http:// or https:// URL');
const timeoutMs = z.number().int().min(100).max(120_000).default(10_000);
/** Retries of an upstream GET (never of a write), within `timeoutMs`. Absent = 2 (src/reliability/upstream.ts). */
const retries = z.number().int().min(0).max(2).optional();
/** The backend's circuit breaker (src/reliability/circuit-breaker.ts). Absent fields = 5 failures, 10 s. */
const breaker = z
  .object({
    failureThreshold: z.number().int().min(1).max(1000).optional(),
    coolDownMs: z.number().int().min(100).max(3_600_000).optional(),
  })
  .strict()
  .optional();

export const SftpToGoBackendConfig = z
  .object({
    provider: z.literal('sftptogo'),
    baseUrl: httpUrl.default('https://api.sftptogo.com'),
    organizationId: z.string().min(1),
    apiKey: z.string().min(1),
    timeoutMs,
    retries,
    breaker,
  })
  .strict();
export type SftpToGoBackendConfig = z.infer<typeof SftpToGoBackendConfig>;

export const SftpgoBackendConfig = z
  .object({
    provider: z.literal('sftpgo'),
    /**
     * `auto` finds the server's API on first use; `v1` pins SFTPGo's REST API v1 (0.9.x and 1.x,
     * told apart by the server). API v2 (SFTPGo 2.x) is not supported yet.
     */
    apiVersion: z
      .enum(['auto', 'v1'], { error: 'must be "auto" or "v1" (REST API v2, for SFTPGo 2.x, is not supported yet)' })
      .default('auto'),
    /** The server root; the adapter adds `/api/v1`. */
    baseUrl: httpUrl,
    username: z.string().min(1).optional(),
    password: z.string().min(1).optional(),
    /** The SFTP endpoint users connect to, for `host` and `uri`. */
    sftpHost: z.string().min(1).optional(),
    sftpPort: z.number().int().min(1).max(65535).default(22),
    homeDirectoryBase: z.string().regex(/^\//, 'must be an absolute path').default('/srv/sftpgo/data'),
    timeoutMs,
    retries,
    breaker,
  })
  .strict()
  .refine((b) => (b.username === undefined) === (b.password === undefined), {
    message: 'username and password go together (HTTP basic auth)',
    path: ['password'],
  });
export type SftpgoBackendConfig = z.infer<typeof SftpgoBackendConfig>;

export const BackendConfig = z.discriminatedUnion('provider', [SftpToGoBackendConfig, SftpgoBackendConfig]);
export type BackendConfig = z.infer<typeof BackendConfig>;

const ApiKeyConfig = z
  .object({
    name: z.string().min(1).max(64),
    key: z.string().min(16, 'API keys must be at least 16 characters'),
    scopes: z.array(z.enum(SCOPES)).min(1),
    backends: z.array(backendName).min(1).optional(),
    /** Every `/v1` request with this key counts, from any address; the (N+1)th within 60 s is a 429. Absent: no limit. */
    requestsPerMinute: z.number().int().min(1).max(1_000_000).optional(),
  })
  .strict();
export type ApiKeyConfig = z.infer<typeof ApiKeyConfig>;

/**
 * Where audit events go (src/security/audit.ts): `stdout` (the default), `file` (Node only) or `http`
 * (each event POSTed, signed with `secret`, retried).
 */
export const AuditConfig = z.discriminatedUnion(
  'sink',
  [
    z.object({ sink: z.literal('stdout') }).strict(),
    z.object({ sink: z.literal('file'), path: z.string().min(1) }).strict(),
    z.object({ sink: z.literal('http'), url: httpUrl, secret: z.string().min(1) }).strict(),
  ],
  { error: (issue) => (issue.code === 'invalid_union' ? 'must be "stdout", "file" or "http"' : undefined) },
);
export type AuditConfig = z.infer<typeof AuditConfig>;

export const DEFAULT_FAILED_AUTH_PER_MINUTE = 20;
export const DEFAULT_PASSWORD_MIN_LENGTH = 12;

export const GatewayConfig = z
  .object({
    server: z
      .object({
        host: z.string().min(1).default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).default(8080),
        /**
         * On SIGTERM/SIGINT, how long in-flight requests may take to finish before their sockets
         * are cut (Node entry; `SHUTDOWN_GRACE_MS` overrides). @default 10000 (DEFAULT_SHUTDOWN_GRACE_MS)
         */
        shutdownGraceMs: z.number().int().min(0).max(600_000).optional(),
        /**
         * Behind a proxy: the client's address is the first hop of `X-Forwarded-For` (else the
         * socket's peer). Only when the proxy sets it: a client could forge it otherwise.
         */
        trustProxy: z.boolean().default(false),
      })
      .strict()
      .default({ host: '127.0.0.1', port: 8080, trustProxy: false }),
    /** `auth: null` only in demo mode; a config file must list keys. */
    auth: z
      .object({
        apiKeys: z.array(ApiKeyConfig).min(1),
        /** Failed authentications an address may make in 60 s before its every `/v1` request is a 429. 0: no limit. */
        failedAuthPerMinute: z.number().int().min(0).max(1_000_000).default(DEFAULT_FAILED_AUTH_PER_MINUTE),
      })
      .strict(),
    /** `GET /metrics`: with a token, only `Authorization: Bearer <token>` may read it (API keys are not accepted). */
    metrics: z.object({ token: z.string().min(16, 'the metrics token must be at least 16 characters').optional() }).strict().default({}),
    /** The shortest caller-chosen password, in code points (a provider's own rules may ask more). */
    passwordMinLength: z.number().int().min(1).max(1024).default(DEFAULT_PASSWORD_MIN_LENGTH),
    cache: z
      .object({
        /** `kv` (Cloudflare Workers KV) exists only on Workers, `redis` only on Node. */
        driver: z.enum(['memory', 'redis', 'kv', 'none']).default('memory'),
        /** The Workers KV namespace binding the `kv` driver uses. @default 'GATEWAY_CACHE' (DEFAULT_KV_BINDING) */
        kvBinding: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a binding name (letters, digits, _)').optional(),
        /** A single Redis server, as ioredis takes it: `redis://[:password@]host:port/db`, `rediss://…`. */
        url: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL').optional(),
        /** Redis Cluster seed nodes (`redis://host:port`), instead of `url`. */
        clusterNodes: z.array(z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')).min(1).optional(),
        /** Redis Sentinel, instead of `url`: the sentinels and the master group's name. */
        sentinels: z.array(z.object({ host: z.string().min(1), port: z.number().int().min(1).max(65535) }).strict()).min(1).optional(),
        sentinelName: z.string().min(1).optional(),
        /** A Redis command slower than this fails and the cache is bypassed for a few seconds. */
        commandTimeoutMs: z.number().int().min(10).max(10_000).default(250),
        keyPrefix: z.string().default('sftp-gateway:'),
        ttlSeconds: z.number().int().min(1).max(86_400).default(30),
        maxEntries: z.number().int().min(1).default(1000),
      })
      .strict()
      .default({ driver: 'memory', keyPrefix: 'sftp-gateway:', ttlSeconds: 30, maxEntries: 1000, commandTimeoutMs: 250 }),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    defaultBackend: backendName.optional(),
    backends: z.record(backendName, BackendConfig),
    /** Absent: events go to stdout. */
    audit: AuditConfig.optional(),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    const names = Object.keys(cfg.backends);
    if (names.length === 0) ctx.addIssue({ code: 'custom', path: ['backends'], message: 'at least one backend is required' });
    if (cfg.defaultBackend && !names.includes(cfg.defaultBackend)) {
      ctx.addIssue({ code: 'custom', path: ['defaultBackend'], message: `"${cfg.defaultBackend}" is not a configured backend` });
    }
    if (!cfg.defaultBackend && names.length > 1) {
      ctx.addIssue({ code: 'custom', path: ['defaultBackend'], message: 'required when more than one backend is configured' });
    }
    const redisTargets = [cfg.cache.url, cfg.cache.clusterNodes, cfg.cache.sentinels].filter((t) => t !== undefined);
    if (cfg.cache.driver === 'redis' && redisTargets.length !== 1) {
      ctx.addIssue({ code: 'custom', path: ['cache', 'url'], message: 'the redis driver needs exactly one of url, clusterNodes or sentinels' });
    }
    const seenNames = new Set<string>();
    const seenKeys = new Set<string>();
    cfg.auth.apiKeys.forEach((k, i) => {
      if (seenNames.has(k.name)) ctx.addIssue({ code: 'custom', path: ['auth', 'apiKeys', i, 'name'], message: `duplicate key name "${k.name}"` });
      if (seenKeys.has(k.key)) ctx.addIssue({ code: 'custom', path: ['auth', 'apiKeys', i, 'key'], message: 'duplicate key value' });
      seenNames.add(k.name);
      seenKeys.add(k.key);
      for (const [j, b] of (k.backends ?? []).entries()) {
        if (!names.includes(b)) ctx.addIssue({ code: 'custom', path: ['auth', 'apiKeys', i, 'backends', j], message: `"${b}" is not a configured backend` });
      }
    });
  });
export type GatewayConfigInput = z.input<typeof GatewayConfig>;

/** The parsed config; `auth` is null only in demo mode (no key required). */
export type GatewayConfig = Omit<z.infer<typeof GatewayConfig>, 'auth' | 'defaultBackend'> & {
  auth: { apiKeys: ApiKeyConfig[]; failedAuthPerMinute: number } | null;
  defaultBackend: string;
};

/**
 * A backend's identity for stored answers and idempotency records: its name, and a fingerprint of
 * the settings that decide what its answers hold (provider, base URL, organization, API version,
 * SFTPGo's SFTP host and port), so an entry made for one upstream is never served for another after a config change.
 * Credentials, timeouts and the like are left out: they change no answer.
 *
 * @example backendIdentity('onprem', { provider: 'sftpgo', baseUrl: 'http://10.0.0.5:8081', apiVersion: 'auto', … }) // 'onprem~3f9c2a71d04b8e65'
 */
export function backendIdentity(name: string, backend: BackendConfig): string {
  const decisive = backend.provider === 'sftptogo'
    ? ['sftptogo', backend.baseUrl.replace(/\/+$/, ''), backend.organizationId]
    // SFTPGo's answers carry the configured SFTP host and port (`host`, `uri`).
    : ['sftpgo', backend.baseUrl.replace(/\/+$/, ''), backend.apiVersion, backend.sftpHost ?? null, backend.sftpPort];
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

/** `server.shutdownGraceMs` when the config does not say. */
export const DEFAULT_SHUTDOWN_GRACE_MS = 10_000;

/** The KV namespace binding of the `kv` cache driver when `cache.kvBinding` is absent. */
export const DEFAULT_KV_BINDING = 'GATEWAY_CACHE';

export class ConfigError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(field ? `invalid configuration: ${field}: ${message}` : `invalid configuration: ${message}`);
    this.name = 'ConfigError';
  }
}

/** Replaces `${NAME}` in every string of a JSON value; a missing variable is a ConfigError naming it. */
export function interpolate(value: unknown, vars: Record<string, string | undefined>, path: string[] = []): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
      const v = vars[name];
      if (v === undefined) throw new ConfigError(path.join('.'), `environment variable ${name} is not set`);
      return v;
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, vars, [...path, String(i)]));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, vars, [...path, k])]));
  }
  return value;
}

/** Parses config JSON text: interpolation, then the schema. Throws ConfigError naming the first bad field. */
export function parseConfig(text: string, vars: Record<string, string | undefined>): GatewayConfig {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError('', `not valid JSON (${(err as Error).message})`);
  }
  const result = GatewayConfig.safeParse(interpolate(json, vars));
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new ConfigError(issue.path.join('.') || '(root)', issue.message);
  }
  const cfg = result.data;
  const serverOverrides = {
    ...(vars.HOST ? { host: vars.HOST } : {}),
    ...(vars.PORT ? { port: parsePort(vars.PORT) } : {}),
  };
  return {
    ...cfg,
    server: { ...cfg.server, ...serverOverrides },
    defaultBackend: cfg.defaultBackend ?? Object.keys(cfg.backends)[0]!,
  };
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError('PORT', `"${text}" is not a port number`);
  return port;
}
