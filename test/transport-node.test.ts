/**
 * The Node transport (src/node/transport.ts, an undici Pool) over real sockets, through
 * UpstreamClient and the adapters, against the real emulators: the same answers and errors as the
 * global fetch (each scenario runs over both), plus what only a pool can get wrong — a socket
 * kept after a timeout, a queued call that outlives its deadline, keep-alive, close() at shutdown.
 */
import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import type { CallContext } from '../src/provider-kit/adapter.js';
import { createLogger } from '../src/observability/logger.js';
import { createAdapters } from '../src/providers.js';
import { createNodeTransport } from '../src/node/transport.js';
import { UpstreamClient, type UpstreamClientOptions, type UpstreamRequest, type UpstreamTransport } from '../src/reliability/upstream.js';
import { createSftpgoEmulator, type SftpgoEmulator } from '../adapters/sftpgo/emulator/emulator.js';
import { createSftpToGoEmulator } from '../adapters/sftptogo/emulator/emulator.js';
import { parseConfig } from '../src/providers.js';
import { freePort } from './helpers/redis.js';
import { failure } from './helpers/errors.js';

const ctx: CallContext = { requestId: 'req-node-1', logger: createLogger({ level: 'error', destination: { write: () => undefined } }) };
const LIST: UpstreamRequest = { method: 'GET', path: '/user', query: { limit: 100 } };

/** A server on loopback that counts the TCP connections made to it and how many are still open. */
interface CountingServer {
  url: string;
  opened: number;
  open: number;
  close(): Promise<void>;
}

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).reverse().map((c) => c()));
});

function track(server: Server, port: number): CountingServer {
  const sockets = new Set<Socket>();
  const counting: CountingServer = {
    url: `http://127.0.0.1:${port}`,
    opened: 0,
    get open() {
      return sockets.size;
    },
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const s of sockets) s.destroy();
    }),
  };
  server.on('connection', (socket: Socket) => {
    counting.opened += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  cleanups.push(counting.close);
  return counting;
}

/** An emulator app over a real socket (a `reset` fault destroys it, as serveEmulatorApp does). */
function serveApp(app: Hono): Promise<CountingServer> {
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info) => resolve(track(server as Server, info.port)));
  });
}

/** A bare node:http server, for answers no emulator gives (a body that stalls half-way). */
async function serveRaw(handler: Parameters<typeof createHttpServer>[1]): Promise<CountingServer> {
  const server = createHttpServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return track(server, (server.address() as AddressInfo).port);
}

/** A loopback port nothing listens on (a freed one): connections to it are refused. */
const closedPort = freePort;


function nodeTransport(baseUrl: string, connections?: number): UpstreamTransport {
  const transport = createNodeTransport(baseUrl, connections ? { connections } : {});
  cleanups.push(() => transport.close!());
  return transport;
}

/** The two ways the Node gateway can reach an upstream over a socket. */
const TRANSPORTS: Array<[string, (baseUrl: string) => UpstreamTransport | undefined]> = [
  ['global fetch', () => undefined],
  ['undici Pool', (baseUrl) => nodeTransport(baseUrl)],
];

describe.each(TRANSPORTS)('UpstreamClient over %s, against the SFTPGo emulator', (_label, transportFor) => {
  let emu: SftpgoEmulator;

  async function client(opts: Partial<UpstreamClientOptions> = {}, baseUrl?: string) {
    emu = createSftpgoEmulator();
    emu.seedUsers(100, 'nodeuser');
    const base = baseUrl ?? `${(await serveApp(emu.app)).url}/api/v1`;
    return new UpstreamClient({
      baseUrl: base, headers: { authorization: 'Basic c2VjcmV0' }, timeoutMs: 2000, label: 'SFTPGo', retryBaseMs: 5,
      transport: transportFor(base), ...opts,
    });
  }

  it('lists 100 users (a ~34 KB answer), sending the headers and the request id', async () => {
    const res = await (await client()).request(LIST, ctx);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.body).toHaveLength(100);
    expect(JSON.stringify(res.body).length).toBeGreaterThan(30_000);
    expect(emu.requests).toHaveLength(1);
    expect(emu.requests[0]).toMatchObject({
      method: 'GET', path: '/api/v1/user', query: { limit: '100' },
      headers: expect.objectContaining({ authorization: 'Basic c2VjcmV0', accept: 'application/json', 'x-request-id': 'req-node-1' }),
    });
  });

  it('sends a JSON body on a write, and reads the answer', async () => {
    const c = await client();
    const res = await c.request({ method: 'POST', path: '/user', body: { username: 'posted_user', permissions: 'wrong' } }, ctx);
    expect(res).toMatchObject({ status: 400, body: { error: expect.stringMatching(/unmarshal/) } });
    const post = emu.requests.at(-1)!;
    expect(post).toMatchObject({ method: 'POST', body: { username: 'posted_user', permissions: 'wrong' } });
    expect(post.headers['content-type']).toBe('application/json');
  });

  it('connection refused is 503 upstream_unavailable, after the GET was tried 3 times', async () => {
    const base = `http://127.0.0.1:${await closedPort()}/api/v1`;
    const err = await failure((await client({}, base)).request(LIST, ctx));
    expect([err.status, err.code, err.detail]).toEqual([503, 'upstream_unavailable', 'SFTPGo could not be reached (connection refused or reset)']);
  });

  it('a connection reset is 503, after the GET was tried 3 times', async () => {
    const c = await client();
    emu.setFaults({ reset: true });
    expect((await failure(c.request(LIST, ctx))).status).toBe(503);
    expect(emu.requests).toHaveLength(3);
  });

  it('no answer within timeoutMs is 504, not retried; the next call works', async () => {
    const c = await client({ timeoutMs: 300 });
    emu.setFaults({ hang: true, times: 1 });
    const started = performance.now();
    const err = await failure(c.request(LIST, ctx));
    expect([err.status, err.code, err.detail]).toEqual([504, 'upstream_timeout', 'SFTPGo did not answer within 300 ms']);
    expect(performance.now() - started).toBeLessThan(800);
    expect(emu.requests).toHaveLength(1);
    expect((await c.request(LIST, ctx)).status).toBe(200);
  });

  it('a slow answer within timeoutMs is waited for', async () => {
    const c = await client({ timeoutMs: 1000 });
    emu.setFaults({ delayMs: 200 });
    expect((await c.request(LIST, ctx)).status).toBe(200);
  });

  it('429 is retried after its Retry-After, then answered; a lasting 429 is passed on with Retry-After', async () => {
    const c = await client({ timeoutMs: 5000 });
    emu.setFaults({ status: 429, headers: { 'Retry-After': '1' }, times: 1 });
    const started = performance.now();
    expect((await c.request(LIST, ctx)).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(950);
    expect(emu.requests).toHaveLength(2);

    emu.clearRequests();
    emu.setFaults({ status: 429, headers: { 'Retry-After': '7' } }); // beyond the 2 s cap: not waited for
    const res = await c.request(LIST, ctx);
    expect([res.status, res.headers.get('retry-after')]).toEqual([429, '7']);
    expect(emu.requests).toHaveLength(1);
  });

  it('a 503 once is retried and answered 200', async () => {
    const c = await client();
    emu.setFaults({ status: 503, times: 1 });
    expect((await c.request(LIST, ctx)).status).toBe(200);
    expect(emu.requests).toHaveLength(2);
  });
});

describe('the undici Pool transport', () => {
  async function sftpgo() {
    const emu = createSftpgoEmulator();
    emu.seedUsers(20, 'pooluser');
    const server = await serveApp(emu.app);
    return { emu, server, base: `${server.url}/api/v1` };
  }

  const clientOf = (base: string, transport: UpstreamTransport, opts: Partial<UpstreamClientOptions> = {}) =>
    new UpstreamClient({ baseUrl: base, headers: {}, timeoutMs: 2000, label: 'SFTPGo', retryBaseMs: 5, transport, ...opts });

  it('keeps the connection alive: calls share one socket', async () => {
    const { server, base } = await sftpgo();
    const c = clientOf(base, nodeTransport(base));
    for (let i = 0; i < 5; i++) {
      expect((await c.request(LIST, ctx)).status).toBe(200);
      await new Promise(setImmediate); // as between two gateway requests: see the next test
    }
    expect(server.opened).toBe(1);
  });

  it('back-to-back calls use two sockets at most: undici reuses a socket one event-loop turn after its answer', async () => {
    const { server, base } = await sftpgo();
    const c = clientOf(base, nodeTransport(base));
    for (let i = 0; i < 10; i++) expect((await c.request(LIST, ctx)).status).toBe(200);
    expect(server.opened).toBeLessThanOrEqual(2);
  });

  it('drops the socket of a timed-out call: with one connection allowed, the next call still gets through', async () => {
    const { emu, server, base } = await sftpgo();
    const c = clientOf(base, nodeTransport(base, 1), { timeoutMs: 250 });
    emu.setFaults({ hang: true, times: 1 });
    expect((await failure(c.request(LIST, ctx))).status).toBe(504);
    expect((await c.request(LIST, ctx)).status).toBe(200);
    expect(server.opened).toBe(2);
    expect(server.open).toBe(1);
  });

  it('a call waiting for a free connection still ends at its deadline', async () => {
    const { emu, base } = await sftpgo();
    const transport = nodeTransport(base, 1);
    emu.setFaults({ hang: true, times: 1 });
    const hanging = clientOf(base, transport, { timeoutMs: 1000 }).request(LIST, ctx).catch((e: unknown) => e);
    await new Promise((resolve) => setTimeout(resolve, 50)); // the hanging call holds the one socket
    const started = performance.now();
    const err = await failure(clientOf(base, transport, { timeoutMs: 200 }).request(LIST, ctx));
    expect(err.status).toBe(504);
    expect(performance.now() - started).toBeLessThan(700);
    expect(await hanging).toMatchObject({ status: 504 });
  });

  it('a body that stalls half-way is a 504 within timeoutMs, and its socket is closed', async () => {
    let stalled: Socket | undefined;
    const server = await serveRaw((req, res) => {
      stalled = req.socket;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('[{"id":1},'); // … and nothing more
    });
    const c = clientOf(server.url, nodeTransport(server.url), { timeoutMs: 250 });
    const started = performance.now();
    const err = await failure(c.request(LIST, ctx));
    expect([err.status, err.code]).toEqual([504, 'upstream_timeout']);
    expect(performance.now() - started).toBeLessThan(700);
    await expect.poll(() => stalled?.destroyed).toBe(true);
  });

  it('a reset while the body is read is 503', async () => {
    const server = await serveRaw((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      res.write('[{"id":1},', () => req.socket.destroy());
    });
    const c = clientOf(server.url, nodeTransport(server.url), { retries: 0 });
    expect((await failure(c.request(LIST, ctx))).code).toBe('upstream_unavailable');
  });

  it('keeps a base URL path prefix and the query, and normalizes the path as fetch does', async () => {
    const seen: string[] = [];
    const server = await serveRaw((req, res) => {
      seen.push(req.url!);
      res.end('[]');
    });
    const base = `${server.url}/prefix/api`;
    const c = clientOf(base, nodeTransport(base));
    await c.request({ method: 'GET', path: '/users/../user', query: { q: 'a b&c', skip: undefined } }, ctx);
    await c.request({ method: 'GET', path: '/users/%2e%2E/user/.' }, ctx); // encoded dot segments too
    await c.request({ method: 'GET', path: '/users/a%2Fb/..x/.hidden' }, ctx); // no dot segment: sent as built
    expect(seen).toEqual(['/prefix/api/user?q=a+b%26c', '/prefix/api/user/', '/prefix/api/users/a%2Fb/..x/.hidden']);
  });

  it('refuses a URL on another origin without naming it', async () => {
    const transport = nodeTransport('http://127.0.0.1:1/api');
    const sent = transport.send({ method: 'GET', url: 'http://elsewhere.test/secret-path', headers: {}, signal: AbortSignal.timeout(1000) });
    await expect(sent).rejects.toThrow(/not on the transport origin/);
    await expect(sent).rejects.not.toThrow(/elsewhere|secret/);
  });

  it('close() closes the pooled connections and aborts a call in flight; a call after it is 503', async () => {
    const { emu, server, base } = await sftpgo();
    const transport = createNodeTransport(base);
    const c = clientOf(base, transport, { retries: 0, timeoutMs: 5000 });
    expect((await c.request(LIST, ctx)).status).toBe(200);
    emu.setFaults({ hang: true });
    const inFlight = failure(c.request(LIST, ctx));
    await expect.poll(() => emu.requests.length).toBe(2);
    const closing = performance.now();
    await transport.close!();
    expect(await inFlight).toMatchObject({ status: 503, code: 'upstream_unavailable' });
    expect(performance.now() - closing).toBeLessThan(500);
    await expect.poll(() => server.open).toBe(0);
    expect((await failure(c.request(LIST, ctx))).status).toBe(503);
  });
});

describe('createAdapters with a transport per backend', () => {
  const backends = (sftpgoUrl: string, togoUrl: string, organizationId: string) =>
    parseConfig(JSON.stringify({
      auth: { apiKeys: [{ name: 'ops', key: 'ops-key-0123456789abcdef', scopes: ['read'] }] },
      defaultBackend: 'onprem',
      backends: {
        onprem: { provider: 'sftpgo', apiVersion: 'v1', baseUrl: sftpgoUrl },
        togo: { provider: 'sftptogo', baseUrl: togoUrl, organizationId, apiKey: 'togo-key-0123456789' },
      },
    }), {}).backends;

  it('gives both providers the Node transport, each kept alive', async () => {
    const sftpgo = createSftpgoEmulator();
    sftpgo.seedUsers(3, 'adapteruser');
    const togo = createSftpToGoEmulator({ apiKey: 'togo-key-0123456789' });
    const [sftpgoServer, togoServer] = await Promise.all([serveApp(sftpgo.app), serveApp(togo.app)]);
    const asked: string[] = [];
    const adapters = createAdapters(backends(sftpgoServer.url, togoServer.url, togo.organizationId), undefined, undefined, (backend, baseUrl) => {
      asked.push(`${backend} ${baseUrl}`);
      return nodeTransport(baseUrl);
    });
    expect(asked).toEqual([`onprem ${sftpgoServer.url}`, `togo ${togoServer.url}`]);
    for (let i = 0; i < 3; i++) {
      expect((await adapters.get('onprem')!.listUsers({ limit: 10, offset: 0, order: 'asc' }, ctx)).data).toHaveLength(3);
      expect((await adapters.get('togo')!.listUsers({ limit: 10, offset: 0, order: 'asc' }, ctx)).data.length).toBeGreaterThanOrEqual(1);
    }
    const { user } = await adapters.get('onprem')!.createUser({ username: 'via_pool', accessLevel: 'read-only', password: 'Via-pool-pass-1' }, ctx);
    expect((await adapters.get('onprem')!.getUser(user.id, ctx)).username).toBe('via_pool');
    // A pool each, kept alive: at most the two sockets of back-to-back calls (see above).
    expect(sftpgoServer.opened).toBeLessThanOrEqual(2);
    expect(togoServer.opened).toBeLessThanOrEqual(2);
  });

  it('an injected fetch wins: no transport is made for its backend', async () => {
    const sftpgo = createSftpgoEmulator();
    const togo = createSftpToGoEmulator({ apiKey: 'togo-key-0123456789' });
    const asked: string[] = [];
    const adapters = createAdapters(
      backends('http://sftpgo.test', 'http://togo.test', togo.organizationId),
      (backend) => (backend === 'onprem' ? (sftpgo.fetch as typeof fetch) : (togo.fetch as typeof fetch)),
      undefined,
      (backend) => {
        asked.push(backend);
        return undefined;
      },
    );
    expect((await adapters.get('onprem')!.listUsers({ limit: 10, offset: 0, order: 'asc' }, ctx)).data).toEqual([]);
    expect(sftpgo.requests).toHaveLength(1);
    expect(asked).toEqual([]);
  });
});
