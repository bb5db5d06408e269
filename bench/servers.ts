/**
 * The benchmark's servers other than the gateway, one per process (`node bench/out/dist/servers.js
 * ROLE [USERS]`, bundled by bench/run.ts), so that none shares an event loop with the gateway, another
 * server or the load generator:
 *
 *   floor            a bare `node:http` server answering a small JSON: the runtime's own limit
 *   sftpgo   USERS   the SFTPGo emulator (answering as 1.2.2) with USERS seeded users
 *   sftptogo USERS   the SFTP To Go emulator with USERS credentials (the root one included)
 *   ceiling  FILE    a bare Hono route on @hono/node-server answering FILE's text as JSON: the
 *                    gateway's own 100-user answer, pre-serialized, with nothing else to do — the
 *                    best a cache hit of that answer could do on this stack and machine
 *   envelope FILE LOG [STEPS]
 *                    the ceiling plus what every gateway request must do, with the gateway's own
 *                    functions: the request id, the API key and its read scope, the query parsed,
 *                    the request log line (to LOG, buffered as the gateway's) and the request and
 *                    cache metrics. No cache, no routing beyond one route: the least a cache hit
 *                    with auth, validation and logging on can cost here. STEPS (a comma list of
 *                    auth, query, log, metrics; all by default) keeps only those, to price each:
 *                    the request id and the pipeline around the route are always there.
 *                    `redis` (not in the default set) reads the page from Redis through the
 *                    gateway's own ListCache lookup (the generation, then the entry: two round
 *                    trips), REDIS_URL in BENCH_REDIS_URL: the least a Redis hit can cost
 *   checked-passthrough PROVIDER UPSTREAM LOG [CURSOR]
 *                    the pass-through's answer made inside the whole envelope (request id, API key,
 *                    query parse, log line, metrics): the least an uncached list with the checks on
 *                    can cost here
 *
 *   passthrough PROVIDER UPSTREAM [CURSOR]
 *                    the least an uncached list costs here (bench/passthrough.ts): undici, parse,
 *                    a plain map, stringify — the gateway's answer bytes, nothing else
 *
 * Prints one JSON line (`{"url": …}`) once listening on 127.0.0.1, then serves until SIGTERM.
 * The emulators' request logs are emptied every second: they would otherwise grow for the
 * whole benchmark (the emulators' own cost per request is unchanged: every request is still logged).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { createAuthenticator } from '../src/security/auth.js';
import { bufferedDestination, createNodeLoggers } from '../src/node/logger.js';
import { createNodeMetrics } from '../src/node/metrics.js';
import { noopMetrics } from '../src/observability/metrics.js';
import { requestPipeline } from '../src/http/pipeline.js';
import type { GatewayEnv } from '../src/http/request-vars.js';
import type { Logger } from '../src/observability/logger.js';
import { parsePlainListQuery, storedPageResponse } from '../src/http/routes/users-stored-page.js';
import { createSftpgoEmulator, serveSftpgoEmulator } from '../adapters/sftpgo/emulator/emulator.js';
import { createSftpToGoEmulator, serveSftpToGoEmulator } from '../adapters/sftptogo/emulator/emulator.js';
import { createRedisStore } from '../src/node/redis-store.js';
import { ListCache } from '../src/cache/list-cache.js';
import { passthroughAnswer, servePassthrough } from './passthrough.js';
import { BENCH_GATEWAY_KEY, BENCH_ORG, BENCH_SFTPTOGO_KEY } from './shared.js';

async function main(): Promise<void> {
  const [role, usersText] = process.argv.slice(2);
  const users = Number(usersText ?? 0);
  let url: string;
  if (role === 'floor') {
    const body = JSON.stringify({ ok: true, service: 'floor', data: [] });
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  } else if (role === 'sftpgo') {
    const emu = createSftpgoEmulator({ seedConnections: false });
    emu.seedUsers(users, 'benchuser');
    setInterval(() => emu.clearRequests(), 1000).unref();
    url = (await serveSftpgoEmulator(emu, 0)).url;
  } else if (role === 'sftptogo') {
    const emu = createSftpToGoEmulator({ apiKey: BENCH_SFTPTOGO_KEY, organizationId: BENCH_ORG });
    emu.seedCredentials(users - 1, 'benchuser'); // plus the root credential
    setInterval(() => emu.clearRequests(), 1000).unref();
    url = (await serveSftpToGoEmulator(emu, 0)).url;
  } else if (role === 'ceiling') {
    const body = new Uint8Array(readFileSync(usersText!)); // as the gateway's cache holds it: UTF-8 bytes
    const app = new Hono().get('*', (c) => c.body(body, 200, { 'content-type': 'application/json', 'x-cache': 'HIT' }));
    url = await new Promise<string>((resolve) => {
      serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info) => resolve(`http://127.0.0.1:${info.port}`));
    });
  } else if (role === 'passthrough') {
    url = await servePassthrough(usersText!, process.argv[4]!, process.argv[5] || null);
  } else if (role === 'envelope') {
    const steps = process.argv[5] === undefined ? ENVELOPE_STEPS : process.argv[5].split(',').filter(Boolean);
    url = await serveEnvelope(new Uint8Array(readFileSync(usersText!)), process.argv[4]!, new Set(steps));
  } else if (role === 'checked-passthrough') {
    const answer = passthroughAnswer(usersText!, process.argv[4]!, process.argv[6] || null);
    url = await serveEnvelope(answer, process.argv[5]!, new Set(ENVELOPE_STEPS));
  } else {
    throw new Error(`unknown role "${role}": floor | sftpgo USERS | sftptogo USERS | ceiling FILE | envelope FILE LOG [STEPS] | passthrough PROVIDER UPSTREAM [CURSOR] | checked-passthrough PROVIDER UPSTREAM LOG [CURSOR]`);
  }
  process.stdout.write(`${JSON.stringify({ url })}\n`);
}

/**
 * The envelope: each step is the one the gateway takes for a stored page, with its functions (the
 * pipeline of src/http/pipeline.ts, the API key check, the plain query parse and the answer of
 * src/http/routes/users-stored-page.ts), less the cache and the route's backend. A refused key or
 * query gets a bare 401 / 400: the bench only sends good ones, and its check asks for the 401.
 */
/** The envelope's steps beyond the request id and the pipeline around the route. */
const ENVELOPE_STEPS = ['auth', 'query', 'log', 'metrics'];

/**
 * The envelope around `page`: fixed bytes (a stored page), or a function making the answer (the
 * checked pass-through). With the `redis` step the bytes are stored first and read back per request.
 */
async function serveEnvelope(
  page: Uint8Array<ArrayBuffer> | (() => Promise<string>), logFile: string, steps: Set<string>,
): Promise<string> {
  const authenticate = createAuthenticator(
    [{ name: 'bench', key: BENCH_GATEWAY_KEY, scopes: ['read', 'write'] }],
    (text) => createHash('sha256').update(text, 'utf8').digest(),
  );
  const { logger, requestLogger } = createNodeLoggers({
    level: steps.has('log') ? 'info' : 'silent', destination: bufferedDestination(logFile),
  });
  const metrics = steps.has('metrics') ? createNodeMetrics({ processMetrics: true }) : noopMetrics;
  const stored = steps.has('redis') && page instanceof Uint8Array ? await redisPage(page, logger) : undefined;
  const app = new Hono<GatewayEnv>();
  app.use('*', requestPipeline(logger, { requestLogger, metrics }));
  app.get('/v1/users', async (c) => {
    if (steps.has('auth')) {
      const principal = await authenticate(c.req.header('authorization')).catch(() => undefined);
      if (!principal?.scopes.has('read')) return c.body(null, 401);
      c.set('principal', principal);
    }
    const url = c.req.url;
    const mark = url.indexOf('?');
    if (steps.has('query') && !parsePlainListQuery(mark < 0 ? '' : url.slice(mark + 1))) return c.body(null, 400);
    if (typeof page === 'function') {
      metrics.observeCache('bench', 'BYPASS');
      return c.body(await page(), 200, { 'content-type': 'application/json', 'x-cache': 'BYPASS' });
    }
    const hit = stored ? (await stored()).hit : { body: page, cache: 'HIT' as const, ageSeconds: 0 };
    if (!hit) return c.body(null, 503);
    metrics.observeCache('bench', 'HIT');
    return storedPageResponse(c.get('requestId'), hit);
  });
  return new Promise<string>((resolve) => {
    serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info) => resolve(`http://127.0.0.1:${info.port}`));
  });
}

/** `page` stored in Redis as the gateway stores a page; then each call is the gateway's lookup of it. */
async function redisPage(page: Uint8Array<ArrayBuffer>, logger: Logger) {
  const url = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/0';
  const cache = new ListCache(createRedisStore({ url }), {
    ttlSeconds: 3600, keyPrefix: `sftp-gateway-bench-envelope:${process.pid}:`, logger,
  });
  const text = new TextDecoder().decode(page);
  await cache.read('bench', 'page', async () => text);
  // A bench outlasting the TTL stores the page again (one request of many: the gateway's hit scenarios do the same).
  return async () => {
    const found = await cache.lookup('bench', 'page');
    return found.hit ? found : { hit: await cache.read('bench', 'page', async () => text) };
  };
}

process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
await main();
