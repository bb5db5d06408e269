/**
 * Abuse limits (CONTRACT §7, src/security/throttle.ts): failed authentications per client address, and
 * requests per API key — over real sockets (the address is the socket's peer: 127.0.0.2 and
 * 127.0.0.3 are two clients on loopback), shared through a real Redis by two instances, and
 * falling back to memory when Redis is down.
 */
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createSftpgoEmulator, type SftpgoEmulator } from '../adapters/sftpgo/emulator/emulator.js';
import type { CacheStore } from '../src/cache/store.js';
import { createRedisStore, redisClientOf } from '../src/node/redis-store.js';
import { createNodeMetrics, type NodeMetrics } from '../src/node/metrics.js';
import { countedAddress, type LimiterFactory } from '../src/security/throttle.js';
import { memoryLimiters } from '../src/security/throttle-memory.js';
import { nodeLimiters, socketPeer } from '../src/node/throttle.js';
import { API_KEYS, KEYS, createTestGateway, type GatewayOptions, type TestGateway } from './helpers/gateway.js';
import { SHARED_REDIS_URL, deleteKeys, freePort, uniquePrefix } from './helpers/redis.js';

const WRONG = 'not-a-configured-key-0123456789';
const LIMITED_KEY = 'limited-key-0123456789abcdef';
const KEYS_WITH_LIMIT = [...API_KEYS.filter((k) => !k.backends), { name: 'limited', key: LIMITED_KEY, scopes: ['read'], requestsPerMinute: 5 }];

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
}

/** A gateway served on a real loopback socket, as the Node entry serves it (the socket's peer is the address). */
interface ServedGateway {
  gw: TestGateway;
  metrics: NodeMetrics;
  /** GET `path` from `from` (a 127.0.0.x address), with `key` (null: no Authorization). */
  get(path: string, opts?: { from?: string; key?: string | null; headers?: Record<string, string> }): Promise<Answer>;
  close(): Promise<void>;
}

let emu: SftpgoEmulator;
const served: ServedGateway[] = [];

beforeAll(() => {
  emu = createSftpgoEmulator();
  emu.seedUsers(3, 'plain');
});

afterEach(async () => {
  await Promise.all(served.splice(0).map((s) => s.close()));
});

async function serveGateway(opts: Partial<GatewayOptions> = {}): Promise<ServedGateway> {
  const metrics = createNodeMetrics();
  const gw = createTestGateway({
    backends: { onprem: { provider: 'sftpgo', baseUrl: 'http://sftpgo.invalid', sftpHost: 'sftp.example.com' } },
    fetchFor: () => emu.fetch as typeof fetch,
    apiKeys: KEYS_WITH_LIMIT,
    metrics,
    clientAddress: socketPeer,
    ...opts,
  });
  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: gw.app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s));
  });
  const port = (server.address() as AddressInfo).port;
  const get: ServedGateway['get'] = (path, o = {}) =>
    new Promise((resolve, reject) => {
      const key = o.key === undefined ? KEYS.ops : o.key;
      const headers: Record<string, string> = { ...o.headers, ...(key === null ? {} : { authorization: `Bearer ${key}` }) };
      const req = httpRequest({ host: '127.0.0.1', port, path, headers, localAddress: o.from ?? '127.0.0.2', agent: false }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text ? JSON.parse(text) : {} }));
      });
      req.on('error', reject);
      req.end();
    });
  const s: ServedGateway = {
    gw,
    metrics,
    get,
    close: async () => {
      await new Promise((resolve) => server.close(resolve));
      await gw.close();
    },
  };
  served.push(s);
  return s;
}

/** `n` requests in turn (an attacker's guesses arrive one after another here, as the counts must). */
async function times(n: number, send: () => Promise<Answer>): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < n; i++) statuses.push((await send()).status);
  return statuses;
}

function throttledCount(text: string, rule: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`sftp_gateway_throttled_requests_total{rule="${rule}"}`));
  return line ? Number(line.split(' ').pop()) : 0;
}

function expectRateLimited(answer: Answer, detail: RegExp): void {
  expect(answer.status).toBe(429);
  expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(answer.body).toMatchObject({ status: 429, code: 'rate_limited' });
  expect(String(answer.body.detail)).toMatch(detail);
  const retryAfter = Number(answer.headers['retry-after']);
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(60);
}

describe('failed authentications per address (on by default: 20 a minute)', () => {
  it('after 20 failures, every /v1 request from that address is a 429, even with a good key; another address is unaffected', async () => {
    const s = await serveGateway();
    // Both ways to fail count: a wrong key and no key at all.
    const failures = [...(await times(10, () => s.get('/v1/users', { key: WRONG }))), ...(await times(10, () => s.get('/v1/users', { key: null })))];
    expect(failures).toEqual(Array(20).fill(401));

    expectRateLimited(await s.get('/v1/users'), /failed authentications from this address/);
    expectRateLimited(await s.get('/v1/backends', { key: WRONG }), /failed authentications/);
    expectRateLimited(await s.get('/v1/users/1', { key: KEYS.reader }), /failed authentications/);

    // Another client: its good key works, its wrong key is a plain 401.
    expect((await s.get('/v1/users', { from: '127.0.0.3' })).status).toBe(200);
    expect((await s.get('/v1/users', { from: '127.0.0.3', key: WRONG })).status).toBe(401);
    // System routes take no key and are never throttled.
    expect((await s.get('/healthz', { key: null })).status).toBe(200);

    const text = (await s.metrics.render()).body;
    expect(throttledCount(text, 'failed-auth')).toBe(3);
    const warnings = s.gw.logs.map((l) => JSON.parse(l)).filter((l) => l.msg?.startsWith('throttling an address'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ level: 'warn', address: '127.0.0.2', failures: 20, windowSeconds: 60 });
    // The log says who was guessing, never what they sent.
    expect(s.gw.logs.join('\n')).not.toContain(WRONG);
  });

  it('counts only failures: a client with a good key is never throttled by this rule', async () => {
    const s = await serveGateway();
    expect(new Set(await times(40, () => s.get('/v1/backends')))).toEqual(new Set([200]));
  });

  it('a refused scope (403) is not a failed authentication', async () => {
    const s = await serveGateway();
    const refusals = await times(25, () => s.get('/v1/users?include=raw', { key: KEYS.reader })); // raw needs admin
    expect(new Set(refusals)).toEqual(new Set([403]));
    expect((await s.get('/v1/users')).status).toBe(200);
  });

  it('Retry-After counts down to the end of the window the first failure began; then the address may try again', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const gw = createTestGateway({
        backends: { onprem: { provider: 'sftpgo', baseUrl: 'http://sftpgo.invalid', sftpHost: 'sftp.example.com' } },
        fetchFor: () => emu.fetch as typeof fetch,
        authSettings: { failedAuthPerMinute: 3 },
        clientAddress: () => '203.0.113.9',
      });
      for (let i = 0; i < 3; i++) {
        expect((await gw.call('GET', '/v1/users', { key: WRONG })).status).toBe(401);
        vi.advanceTimersByTime(5_000);
      }
      const early = await gw.call('GET', '/v1/users');
      expect([early.status, early.headers.get('retry-after')]).toEqual([429, '45']);
      vi.advanceTimersByTime(30_000);
      const later = await gw.call('GET', '/v1/users');
      expect([later.status, later.headers.get('retry-after')]).toEqual([429, '15']);
      vi.advanceTimersByTime(15_001);
      expect((await gw.call('GET', '/v1/users')).status).toBe(200);
      expect((await gw.call('GET', '/v1/users', { key: WRONG })).status).toBe(401);
    } finally {
      vi.useRealTimers();
    }
  });

  it("reads an address's count at most once a second while it is under the limit, not on every request", async () => {
    let reads = 0;
    const counting: LimiterFactory = (name, points) => {
      const limiter = memoryLimiters(name, points);
      return { get: (key) => (reads++, limiter.get(key)), penalty: (key) => limiter.penalty(key), consume: (key) => limiter.consume(key) };
    };
    const s = await serveGateway({ limiters: counting, authSettings: { failedAuthPerMinute: 3 } });
    expect(new Set(await times(50, () => s.get('/v1/backends')))).toEqual(new Set([200]));
    expect(reads).toBeLessThanOrEqual(2);
    // A failure here is known at once: no stale "under the limit" lets the address go on.
    expect(await times(3, () => s.get('/v1/backends', { key: WRONG }))).toEqual([401, 401, 401]);
    expectRateLimited(await s.get('/v1/backends'), /failed authentications/);
  });

  it('follows auth.failedAuthPerMinute, and 0 turns the rule off', async () => {
    const three = await serveGateway({ authSettings: { failedAuthPerMinute: 3 } });
    expect(await times(4, () => three.get('/v1/users', { key: WRONG }))).toEqual([401, 401, 401, 429]);

    const off = await serveGateway({ authSettings: { failedAuthPerMinute: 0 } });
    expect(new Set(await times(60, () => off.get('/v1/users', { key: WRONG })))).toEqual(new Set([401]));
    expect((await off.get('/v1/users')).status).toBe(200);
    expect(throttledCount((await off.metrics.render()).body, 'failed-auth')).toBe(0);
  });

  it('ignores X-Forwarded-For unless server.trustProxy is on: a caller cannot name a fresh address per guess', async () => {
    const direct = await serveGateway({ authSettings: { failedAuthPerMinute: 5 } });
    let n = 0;
    const spoofed = () => direct.get('/v1/users', { key: WRONG, headers: { 'x-forwarded-for': `198.51.100.${++n}` } });
    expect(await times(6, spoofed)).toEqual([401, 401, 401, 401, 401, 429]);
  });

  it('with server.trustProxy, counts the first hop of X-Forwarded-For', async () => {
    const behindProxy = await serveGateway({ authSettings: { failedAuthPerMinute: 5 }, config: { server: { trustProxy: true } } });
    const from = (client: string, key?: string) => behindProxy.get('/v1/users', { key, headers: { 'x-forwarded-for': `${client}, 10.0.0.9` } });
    expect(await times(5, () => from('198.51.100.7', WRONG))).toEqual(Array(5).fill(401));
    expectRateLimited(await from('198.51.100.7'), /failed authentications/);
    // Another client behind the same proxy (the same socket peer) is unaffected.
    expect((await from('198.51.100.8')).status).toBe(200);
    // No header: the socket's peer counts.
    expect((await behindProxy.get('/v1/users')).status).toBe(200);
  });
});

describe('requests per API key (auth.apiKeys[].requestsPerMinute)', () => {
  it('counts every request of the key from any address; the one past the limit is a 429; other keys are unaffected', async () => {
    const s = await serveGateway();
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await s.get('/v1/backends', { key: LIMITED_KEY, from: i % 2 ? '127.0.0.3' : '127.0.0.4' })).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200]);
    expectRateLimited(await s.get('/v1/backends', { key: LIMITED_KEY, from: '127.0.0.5' }), /"limited" is over its limit of 5 requests a minute/);
    expect((await s.get('/v1/backends', { key: KEYS.reader, from: '127.0.0.5' })).status).toBe(200);
    expect(throttledCount((await s.metrics.render()).body, 'key-limit')).toBe(1);
    // A key's own refusals are not failed authentications: its address is not throttled by them.
    expect((await s.get('/v1/backends', { key: KEYS.ops, from: '127.0.0.5' })).status).toBe(200);
  });

  it('counts a request once, whether the stored page answers it or the full route does', async () => {
    const s = await serveGateway();
    const first = await s.get('/v1/users', { key: LIMITED_KEY });
    expect([first.status, first.headers['x-cache']]).toEqual([200, 'MISS']); // through the stored-page step (which found nothing) to the handler
    const hits = [];
    for (let i = 0; i < 4; i++) hits.push((await s.get('/v1/users', { key: LIMITED_KEY })).headers['x-cache']);
    expect(hits).toEqual(['HIT', 'HIT', 'HIT', 'HIT']);
    expectRateLimited(await s.get('/v1/users', { key: LIMITED_KEY }), /over its limit of 5/);
  });
});

describe('counters shared through Redis', () => {
  const prefixes: string[] = [];
  const stores: CacheStore[] = [];
  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()));
    for (const p of prefixes) await deleteKeys(SHARED_REDIS_URL, p);
  });

  /** Two instances on one Redis, as two gateway processes with the same cache config would be. */
  async function twoInstances(url: string, extra: Partial<GatewayOptions> = {}) {
    const prefix = uniquePrefix('throttle');
    prefixes.push(prefix);
    const instance = async () => {
      const store = createRedisStore({ url, commandTimeoutMs: 200 });
      stores.push(store);
      // Connected first (where Redis is up): until then a count goes to the instance's own memory, by design.
      for (let waited = 0; waited < 2000 && redisClientOf(store)?.status !== 'ready'; waited += 20) {
        await new Promise((r) => setTimeout(r, 20));
      }
      return serveGateway({ cache: store, keyPrefix: prefix, limiters: nodeLimiters(store, prefix), ...extra });
    };
    return { a: await instance(), b: await instance(), prefix };
  }

  it('failures at one instance count at the other, and so do a key\'s requests', async () => {
    const { a, b } = await twoInstances(SHARED_REDIS_URL, { authSettings: { failedAuthPerMinute: 6 } });
    expect(await times(3, () => a.get('/v1/users', { key: WRONG }))).toEqual([401, 401, 401]);
    expect(await times(3, () => b.get('/v1/users', { key: WRONG }))).toEqual([401, 401, 401]);
    expectRateLimited(await b.get('/v1/users'), /failed authentications/);
    // `a` read this address's count (under the limit) less than a second ago: it reads again after
    // at most a second (docs/security.md), rather than ask Redis on every request.
    await new Promise((r) => setTimeout(r, 1100));
    expectRateLimited(await a.get('/v1/users'), /failed authentications/);

    const limited = (s: ServedGateway) => s.get('/v1/backends', { key: LIMITED_KEY, from: '127.0.0.3' });
    expect([(await limited(a)).status, (await limited(b)).status, (await limited(a)).status, (await limited(b)).status, (await limited(a)).status])
      .toEqual([200, 200, 200, 200, 200]);
    expectRateLimited(await limited(b), /over its limit of 5/);
  });

  it('keeps the counters under the cache key prefix, keyed by address and key name (never a key itself)', async () => {
    const { a, prefix } = await twoInstances(SHARED_REDIS_URL);
    await a.get('/v1/users', { key: WRONG });
    await a.get('/v1/backends', { key: LIMITED_KEY });
    const { dumpKeys } = await import('./helpers/redis.js');
    const keys = [...(await dumpKeys(SHARED_REDIS_URL, `${prefix}throttle:`)).keys()].map((k) => k.slice(prefix.length));
    expect(keys.sort()).toEqual(['throttle:failed-auth:127.0.0.2', 'throttle:key:limited:limited']);
    expect(keys.join()).not.toContain(LIMITED_KEY);
  });

  it('with Redis down, each instance still counts in its own memory (no request waits for Redis)', async () => {
    const deadUrl = `redis://127.0.0.1:${await freePort()}/0`;
    const { a, b } = await twoInstances(deadUrl, { authSettings: { failedAuthPerMinute: 4 } });
    const started = performance.now();
    expect(await times(4, () => a.get('/v1/users', { key: WRONG }))).toEqual([401, 401, 401, 401]);
    expectRateLimited(await a.get('/v1/users'), /failed authentications/);
    // Not shared while Redis is down: the other instance has its own count.
    expect((await b.get('/v1/users', { key: WRONG })).status).toBe(401);
    expect((await b.get('/v1/backends')).status).toBe(200);
    expect(performance.now() - started).toBeLessThan(5000); // generous: each request must not wait for a command timeout chain
  });
});

describe('the counted address', () => {
  it.each([
    ['127.0.0.1', '127.0.0.1'],
    ['::ffff:203.0.113.7', '203.0.113.7'],
    [' 198.51.100.7 ', '198.51.100.7'],
    ['2001:db8:1:2:aaaa:bbbb:cccc:dddd', '2001:db8:1:2::/64'],
    ['2001:DB8:1:2::1', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['fe80::1%eth0', 'fe80::1%eth0'],
    ['not an address', 'not an address'],
    ['x'.repeat(300), 'x'.repeat(100)],
  ])('%s counts as %s', (text, counted) => {
    expect(countedAddress(text)).toBe(counted);
  });

  it('two addresses of one IPv6 /64 share a count; another /64 does not', () => {
    expect(countedAddress('2001:db8:1:2::a')).toBe(countedAddress('2001:db8:1:2:ffff::b'));
    expect(countedAddress('2001:db8:1:3::a')).not.toBe(countedAddress('2001:db8:1:2::a'));
  });
});
