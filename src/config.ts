/**
 * The gateway's configuration (CONTRACT §7): one zod schema, `${NAME}` interpolation from the
 * environment (or Worker bindings), and errors that name the bad field.
 */
import { z } from 'zod';
import { ConfigError } from './domain/errors.js';
import { httpUrl, type BackendConfig } from './provider-kit/backend-config.js';
import type { ProviderDefinition } from './provider-kit/provider.js';

export { ConfigError };

const SCOPES = ['read', 'write', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

const backendName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'backend names are 1..63 of a-z, 0-9, _ and -, starting with a letter or digit');
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

/** The config schema of a gateway with these providers: each backend is checked by its provider's own schema. */
function gatewayConfigSchema(providers: readonly ProviderDefinition[]) {
  // zod wants the union's members as a non-empty tuple; the registry has at least one.
  const schemas = providers.map((p) => p.configSchema) as unknown as [z.ZodObject, ...z.ZodObject[]];
  const BackendConfig = z.discriminatedUnion('provider', schemas);
  return z
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
}

export type GatewayConfigInput = z.input<ReturnType<typeof gatewayConfigSchema>>;

/** The parsed config; `auth` is null only in demo mode (no key required). */
export type GatewayConfig = Omit<z.infer<ReturnType<typeof gatewayConfigSchema>>, 'auth' | 'defaultBackend' | 'backends'> & {
  auth: { apiKeys: ApiKeyConfig[]; failedAuthPerMinute: number } | null;
  defaultBackend: string;
  backends: Record<string, BackendConfig>;
};

/** `server.shutdownGraceMs` when the config does not say. */
export const DEFAULT_SHUTDOWN_GRACE_MS = 10_000;

/**
 * The shutdown grace period: `SHUTDOWN_GRACE_MS` (the environment's text) overrides
 * `server.shutdownGraceMs`, in demo mode too. Throws a ConfigError naming it when it is no whole
 * number of milliseconds from 0 to 600000.
 */
export function shutdownGraceMs(config: GatewayConfig, text: string | undefined): number {
  if (text === undefined || text === '') return config.server.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS;
  const ms = Number(text);
  if (!Number.isInteger(ms) || ms < 0 || ms > 600_000) {
    throw new ConfigError('SHUTDOWN_GRACE_MS', `"${text}" is not a whole number of milliseconds from 0 to 600000`);
  }
  return ms;
}

/** The KV namespace binding of the `kv` cache driver when `cache.kvBinding` is absent. */
export const DEFAULT_KV_BINDING = 'GATEWAY_CACHE';


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

const schemas = new WeakMap<readonly ProviderDefinition[], ReturnType<typeof gatewayConfigSchema>>();

/**
 * Where a config stops being JSON, never what is there: JSON.parse's own message quotes the text
 * around the fault, which may be a key or a password.
 */
function whereJsonBreaks(text: string, message: string): string {
  const position = /at position (\d+)/.exec(message)?.[1];
  if (position === undefined) return /end of JSON input/.test(message) ? 'it ends too early' : 'a syntax error';
  const before = text.slice(0, Number(position)).split('\n');
  return `a syntax error at line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1}`;
}

/**
 * Parses config JSON text for a gateway with these providers (src/providers.ts's `parseConfig`
 * passes the registry): interpolation, then the schema. Throws ConfigError naming the first bad field.
 */
export function parseConfigFor(
  providers: readonly ProviderDefinition[], text: string, vars: Record<string, string | undefined>,
): GatewayConfig {
  let schema = schemas.get(providers);
  if (!schema) schemas.set(providers, (schema = gatewayConfigSchema(providers)));
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError('(file)', `not valid JSON: ${whereJsonBreaks(text, (err as Error).message)}`);
  }
  const result = schema.safeParse(interpolate(json, vars));
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
    // Each checked by its provider's own schema, which extends BackendConfig.
    backends: cfg.backends as unknown as Record<string, BackendConfig>,
    server: { ...cfg.server, ...serverOverrides },
    defaultBackend: cfg.defaultBackend ?? Object.keys(cfg.backends)[0]!,
  };
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError('PORT', `"${text}" is not a port number`);
  return port;
}
