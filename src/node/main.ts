/**
 * The Node entry: reads GATEWAY_CONFIG (or starts demo mode when asked), serves the app with Prometheus
 * metrics, and shuts down gracefully on SIGINT/SIGTERM (src/node/shutdown.ts): in-flight requests
 * get `server.shutdownGraceMs` to finish, then the cache closes and the process exits 0 — or 1
 * when the grace period ran out and requests were cut. The only file that reads process.env.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import { createApp } from '../http/app.js';
import { createNodeAuditSink } from './audit.js';
import { swaggerUiFromNodeModules } from './docs-assets.js';
import { createNodeStore } from './store.js';
import { ConfigError, shutdownGraceMs } from '../config.js';
import { DEMO_USERS, seedDemoUsers, startDemo } from './demo.js';
import { ListCache } from '../cache/list-cache.js';
import { createNodeMetrics } from './metrics.js';
import { createNodeLoggers } from './logger.js';
import { backendIdentities, createAdapters, parseConfig } from '../providers.js';
import { trackConnections } from './shutdown.js';
import { nodeLimiters, socketPeer } from './throttle.js';
import { createNodeTransports } from './transport.js';

/** How long pending audit deliveries may take at shutdown, after the drain. */
const AUDIT_CLOSE_MS = 2000;

/** Resolves with `fallback` when `work` takes longer than `ms`: shutdown must not hang on a stuck close. */
function within<T>(work: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<T>((resolve) => (timer = setTimeout(() => resolve(fallback), ms)));
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

function fail(message: string): never {
  process.stderr.write(`${JSON.stringify({ level: 'fatal', service: 'sftp-gateway', msg: message })}\n`);
  process.exit(1);
}

/** A start-up step; a ConfigError (a bad config file or environment) stops the start with its message. */
async function orFail<T>(step: () => T | Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message);
    throw err;
  }
}

/** What `npm start` passes: with no GATEWAY_CONFIG it asks for demo mode (never granted in production). */
export const DEMO_FLAG = '--demo-if-unconfigured';

/**
 * The config file's path; undefined when demo mode was asked for and may start. Without a config,
 * demo mode (no authentication) starts only when asked for, and never under NODE_ENV=production:
 * an operator's start without a config must fail, not open the API to anyone.
 */
function configPath(): string | undefined {
  const path = process.env.GATEWAY_CONFIG?.trim();
  if (path) return path;
  if (process.env.NODE_ENV === 'production') {
    fail(
      'GATEWAY_CONFIG is not set: set it to the config file\'s path. Under NODE_ENV=production the gateway never ' +
        'starts in demo mode (which checks no API key)',
    );
  }
  if (!process.argv.includes(DEMO_FLAG)) {
    fail(`GATEWAY_CONFIG is not set: set it to the config file's path (demo mode, which checks no API key, starts only when asked for with ${DEMO_FLAG}, as npm start does)`);
  }
  return undefined;
}

async function main(): Promise<void> {
  const path = configPath();
  let demo: Awaited<ReturnType<typeof startDemo>> | undefined;
  const config = await orFail(async () => {
    if (!path) {
      const port = process.env.PORT ? Number(process.env.PORT) : 8080;
      demo = await startDemo({ host: '127.0.0.1', port });
      return demo.config;
    }
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new ConfigError('GATEWAY_CONFIG', `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    return parseConfig(text, process.env);
  });
  const graceMs = await orFail(() => shutdownGraceMs(config, process.env.SHUTDOWN_GRACE_MS));

  const { logger, requestLogger } = createNodeLoggers({ level: process.env.LOG_LEVEL ?? config.logLevel });
  const store = await orFail(() => createNodeStore(config.cache, logger));
  const metrics = createNodeMetrics({ processMetrics: true });
  const cache = new ListCache(store, {
    ttlSeconds: config.cache.ttlSeconds,
    keyPrefix: config.cache.keyPrefix,
    logger,
    afterAnswer: setImmediate,
    onOutcome: (backend, outcome) => metrics.observeCache(backend, outcome),
    identityOf: backendIdentities(config.backends),
  });
  // One undici pool per backend (demo mode's emulators listen on real sockets too), closed at shutdown.
  const transports = createNodeTransports();
  // Write routes' audit events: stdout (the logger's own stream), a file, or an HTTP receiver.
  const audit = createNodeAuditSink(config.audit, logger);
  const adapters = createAdapters(config.backends, undefined, metrics, transports.transportFor);
  if (demo) {
    await seedDemoUsers(adapters, logger).catch((err: unknown) => fail(`demo mode could not create its users: ${err instanceof Error ? err.message : String(err)}`));
  }
  const { app } = createApp({
    config, adapters, cache, logger, requestLogger, metrics,
    sha256: (text) => createHash('sha256').update(text, 'utf8').digest(),
    audit,
    // Throttle counters in Redis with the Redis cache (shared by every instance), else in memory.
    limiters: nodeLimiters(store, config.cache.keyPrefix),
    clientAddress: socketPeer,
    docsAssets: swaggerUiFromNodeModules(),
  });

  const server = serve({ fetch: app.fetch, hostname: config.server.host, port: config.server.port }, (info) => {
    const url = `http://${config.server.host}:${info.port}`;
    if (demo) {
      logger.warn(
        { url, backends: Object.keys(config.backends), users: DEMO_USERS.map((u) => u.username), auth: 'none' },
        `DEMO MODE: no GATEWAY_CONFIG, so no API keys are checked and every backend is a built-in emulator. Listening on ${url}`,
      );
    } else {
      logger.info({ url, backends: Object.keys(config.backends), cache: config.cache.driver }, `listening on ${url}`);
    }
  });
  server.on('error', (err) => fail(`cannot listen on ${config.server.host}:${config.server.port}: ${err.message}`));
  // Before the first connection: every socket and request must be counted for the drain.
  const connections = trackConnections(server as Server);

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) {
      // A second signal (an impatient Ctrl-C): end the grace period now.
      logger.warn({ signal, inFlight: connections.inFlight }, 'second signal: cutting the requests still in flight now');
      connections.cutNow();
      return;
    }
    stopping = true;
    logger.info({ signal, graceMs, inFlight: connections.inFlight, connections: connections.connections }, 'shutting down');
    const drained = await connections.drain(graceMs);
    if (!drained.clean) {
      logger.error(
        { graceMs, cutRequests: drained.cutRequests, cutConnections: drained.cutConnections },
        `shutdown grace period of ${graceMs} ms ran out: cut ${drained.cutRequests} in-flight request(s) ` +
          `and ${drained.cutConnections} connection(s)`,
      );
    }
    // Closed side by side, each bounded: shutdown must not hang on a stuck close. After the drain
    // nothing new goes upstream; the upstream calls of cut requests are aborted.
    const closedWithin5s = (what: string, work: Promise<unknown>) =>
      within(
        work.then(() => true, (err: unknown) => {
          logger.error({ err: err instanceof Error ? err.message : String(err) }, `closing ${what} failed`);
          return false;
        }),
        5000,
        false,
      );
    // Pending audit deliveries get a bounded chance, alongside the closes below (never rejects).
    const auditSettled = audit.close(AUDIT_CLOSE_MS);
    const [closed, upstreamClosed] = await Promise.all([
      closedWithin5s('the cache', Promise.all([cache.close(), demo?.close()])),
      closedWithin5s('the upstream connections', transports.closeAll()),
    ]);
    await auditSettled;
    logger.info({ clean: drained.clean, elapsedMs: drained.elapsedMs, cacheClosed: closed, upstreamClosed }, 'stopped');
    process.exit(drained.clean ? 0 : 1);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

void main();
