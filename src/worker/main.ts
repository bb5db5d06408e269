/**
 * The Cloudflare Workers entry: reads the config from bindings and serves the app. The only file
 * of the Workers bundle that reads bindings (as src/node/main.ts is the only one reading process.env).
 *
 * - `GATEWAY_CONFIG` (a var or a secret) holds CONTRACT §7's JSON; `${NAME}` inside it resolves
 *   against the Worker's string bindings (vars and secrets, e.g. `wrangler secret put OPS_KEY`).
 * - The app is built once per isolate and kept while the config text stays the same.
 * - A missing or invalid config answers every request with a 500 `invalid_configuration`
 *   problem naming the field, and is logged once per isolate. There is no demo mode here.
 * - Cache drivers: `memory` (per isolate), `none`, and `kv` (the KV namespace bound as
 *   `cache.kvBinding`); `redis` needs Node and is refused.
 * - Throttling counts per isolate, by `CF-Connecting-IP`.
 * - Audit sinks: `stdout` (a `console.log` line per event) and `http` (each delivery handed to the
 *   request's `waitUntil`); `file` needs Node and is refused.
 * - `POST /v1/migrations` answers a 501 (`MIGRATIONS_REFUSAL` below says why).
 * - `/docs` is the server-rendered reference (src/http/docs.ts, as `/docs/plain` on Node): swagger-ui's
 *   2 MB of assets stay out of the bundle (`npm run build:worker` refuses them).
 *
 * Nothing Node-only may be imported from here: `npm run build:worker` fails if it is.
 */
import type { ExecutionContext, ExportedHandler, Response as WorkerResponse } from '@cloudflare/workers-types';
import { Hono } from 'hono';
import { createApp } from '../http/app.js';
import { consoleAuditSink, type AuditSink } from '../security/audit.js';
import { createHttpAuditSink } from '../security/audit-http.js';
import { requestIdOf } from '../http/request-id.js';
import { createMemoryStore, noStore, type CacheStore } from '../cache/store.js';
import { createKvStore, isKvNamespace } from './kv-store.js';
import { ConfigError, DEFAULT_KV_BINDING, type GatewayConfig } from '../config.js';
import type { GatewayEnv } from '../http/request-vars.js';
import { GatewayError } from '../domain/errors.js';
import { ListCache } from '../cache/list-cache.js';
import { createLogger, isLevelName, type Logger } from '../observability/logger.js';
import { problemResponse } from '../http/problem.js';
import { backendIdentities, createAdapters, parseConfig } from '../providers.js';

/** The Worker's bindings: see wrangler.toml and docs/workers.md. */
export interface Env {
  /** The gateway config's JSON text (CONTRACT §7). */
  GATEWAY_CONFIG?: string;
  /** Overrides the config's `logLevel`, as on Node. */
  LOG_LEVEL?: string;
  /** Secrets and vars named by `${NAME}` in the config, and the KV namespace of the `kv` driver. */
  [binding: string]: unknown;
}

type Fetch = (request: Request, env: Env, ctx: ExecutionContext) => Response | Promise<Response>;

/** What this isolate built for one config text: the app, or the answer that the config is bad. */
interface Built {
  configText: string | undefined;
  fetch: Fetch;
}

let built: Built | undefined;

/**
 * `POST /v1/migrations` answers this 501 here, dry runs included. Planning alone reads each user's
 * keys, rules and password on both sides (two or three upstream calls per user), and a run adds a
 * few per created user: past a few dozen users that exceeds a Worker request's subrequest limit
 * (50 on the free plan), failing part-way with errors that would not say why. A run's lock and
 * records also need a store every isolate shares atomically, which KV (no set-if-absent) and the
 * isolate's memory are not. A clear refusal beats a route that works only for small backends.
 */
const MIGRATIONS_REFUSAL =
  'Migrations do not run on Cloudflare Workers: a migration makes several upstream calls per user, beyond the '
  + "subrequest limit of a Worker's request. Run it through a gateway on Node.";

/**
 * The gateway for these bindings, built on the first request of the isolate and kept while
 * `GATEWAY_CONFIG` is the same text (bindings are fixed for a deployment).
 */
function gatewayFor(env: Env): Built {
  const configText = typeof env.GATEWAY_CONFIG === 'string' ? env.GATEWAY_CONFIG : undefined;
  if (built && built.configText === configText) return built;
  built = { configText, fetch: build(configText, env) };
  return built;
}

function build(configText: string | undefined, env: Env): Fetch {
  try {
    if (configText === undefined || configText.trim() === '') {
      throw new ConfigError('GATEWAY_CONFIG', 'not set: bind the config JSON as a var or a secret named GATEWAY_CONFIG (there is no demo mode on Workers)');
    }
    const config = parseConfig(configText, stringBindings(env));
    const level = env.LOG_LEVEL ?? config.logLevel;
    if (!isLevelName(level)) throw new ConfigError('LOG_LEVEL', `"${level}" is not a log level`);
    const logger = createLogger({ level });
    const cache = new ListCache(createStore(config.cache, env), {
      ttlSeconds: config.cache.ttlSeconds,
      keyPrefix: config.cache.keyPrefix,
      logger,
      identityOf: backendIdentities(config.backends),
    });
    const audit = createAuditSink(config.audit, logger);
    const { app } = createApp({
      config, adapters: createAdapters(config.backends), cache, logger, audit,
      // Cloudflare's edge sets it from the connection (a client cannot). Throttle counters are this
      // isolate's own (the default): see docs/security.md.
      clientAddress: (c) => c.req.header('cf-connecting-ip'),
      migrationsRefusal: MIGRATIONS_REFUSAL,
    });
    logger.info({ backends: Object.keys(config.backends), cache: config.cache.driver }, 'gateway built for this isolate');
    return (request, bindings, ctx) => app.fetch(request, bindings, ctx);
  } catch (err) {
    const logger = createLogger();
    if (err instanceof ConfigError) {
      logger.error({ field: err.field }, err.message);
      return refuseAll(new GatewayError(500, 'invalid_configuration', err.message));
    }
    // Building is deterministic (no I/O): what failed once fails again, so answer, do not retry.
    logger.error({ err }, 'the gateway could not be built');
    return refuseAll(new GatewayError(500, 'internal_error', 'The gateway failed to start'));
  }
}

/** Vars and secrets are strings; KV namespaces and other bindings are not, and are skipped. */
function stringBindings(env: Env): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

function createStore(cache: GatewayConfig['cache'], env: Env): CacheStore {
  switch (cache.driver) {
    case 'memory':
      return createMemoryStore(cache.maxEntries);
    case 'none':
      return noStore;
    case 'kv': {
      const binding = cache.kvBinding ?? DEFAULT_KV_BINDING;
      const namespace = env[binding];
      if (!isKvNamespace(namespace)) {
        throw new ConfigError('cache.kvBinding', `no KV namespace is bound as "${binding}" (add it to kv_namespaces in wrangler.toml)`);
      }
      return createKvStore(namespace);
    }
    case 'redis':
      throw new ConfigError('cache.driver', 'redis is not available on Cloudflare Workers: use kv, memory or none');
  }
}

function createAuditSink(audit: GatewayConfig['audit'], logger: Logger): AuditSink {
  switch (audit?.sink) {
    case undefined:
    case 'stdout':
      return consoleAuditSink();
    case 'http':
      return createHttpAuditSink({ url: audit.url, secret: audit.secret, logger });
    case 'file':
      throw new ConfigError('audit.sink', 'file is not available on Cloudflare Workers: use stdout or http');
  }
}

/** Every request gets the same problem answer; the cause was logged once, when building. */
function refuseAll(problem: GatewayError): Fetch {
  const app = new Hono<GatewayEnv>();
  app.all('*', function refused(c) {
    const requestId = requestIdOf(c.req.header('x-request-id'));
    c.set('requestId', requestId);
    const res = problemResponse(c, problem);
    res.headers.set('x-request-id', requestId);
    return res;
  });
  return (request) => app.fetch(request);
}

export default {
  async fetch(request, env, ctx) {
    // workers-types and the DOM lib each declare Request and Response; at run time they are one.
    const res = await gatewayFor(env).fetch(request as unknown as Request, env, ctx);
    return res as unknown as WorkerResponse;
  },
} satisfies ExportedHandler<Env>;
