/**
 * src/http/routes/users-stored-page.ts: a stored page of users answered by the list route's first
 * step. What it answers must be what the handler answers (bytes, headers, log line, metrics), what
 * it does not answer must be answered as the route always did, and what it found is not redone.
 */
import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import { createSftpgoEmulator, type SftpgoEmulator } from '../adapters/sftpgo/emulator/emulator.js';
import { SFTPTOGO_EMULATOR_DEFAULTS, createSftpToGoEmulator, type SftpToGoEmulator } from '../adapters/sftptogo/emulator/emulator.js';
import { createMemoryStore, type CacheStore } from '../src/cache/store.js';
import { createRedisStore } from '../src/node/redis-store.js';
import type { RequestObservation } from '../src/observability/metrics.js';
import { noopMetrics } from '../src/observability/metrics.js';
import { parsePlainListQuery } from '../src/http/routes/users-stored-page.js';
import { ListQuery } from '../src/http/routes/users.js';
import { API_KEYS, KEYS, createTestGateway, type GatewayOptions, type TestGateway } from './helpers/gateway.js';
import { SHARED_REDIS_URL, uniquePrefix } from './helpers/redis.js';

describe('parsePlainListQuery', () => {
  const plain = { limit: 100, order: 'asc', status: undefined, username: undefined, cursor: undefined };
  it.each([
    ['', plain],
    ['limit=1', { ...plain, limit: 1 }],
    ['limit=500', { ...plain, limit: 500 }],
    ['limit=25&order=desc&status=disabled', { ...plain, limit: 25, order: 'desc', status: 'disabled' }],
    ['username=alice.b-c_d~e', { ...plain, username: 'alice.b-c_d~e' }],
    ['status=active&cursor=eyJ2IjoxfQ', { ...plain, status: 'active', cursor: 'eyJ2IjoxfQ' }],
  ])('reads "%s"', (search, expected) => {
    expect(parsePlainListQuery(search)).toEqual(expected);
  });

  it.each([
    'limit=0', 'limit=501', 'limit=010', 'limit=1e2', 'limit=+5', 'limit=%35', 'limit=', 'limit',
    'limit=5&limit=6', 'order=ASC', 'status=locked', 'username=a%20b', 'username=a+b', 'username=',
    `username=${'a'.repeat(256)}`, `cursor=${'a'.repeat(513)}`, 'include=raw', 'limit=5&include=raw',
    'page=2', '=5', 'limit=5&', '&limit=5', 'limit=5&&order=asc', 'li%6Dit=5',
  ])('leaves "%s" to the route', (search) => {
    expect(parsePlainListQuery(search)).toBeUndefined();
  });

  it("reads what it accepts as the route's ListQuery does, on random queries", () => {
    const name = fc.constantFrom('limit', 'order', 'status', 'username', 'cursor', 'include', 'Limit', '');
    const value = fc.oneof(
      fc.constantFrom('0', '1', '100', '500', '501', '007', 'asc', 'desc', 'active', 'disabled', 'raw', '', '%41', 'a+b'),
      fc.stringMatching(/^[A-Za-z0-9._~%+-]{0,8}$/),
      fc.integer({ min: -5, max: 600 }).map(String),
    );
    const pair = fc.oneof(fc.tuple(name, value).map(([n, v]) => `${n}=${v}`), name);
    fc.assert(
      fc.property(fc.array(pair, { maxLength: 5 }), (pairs) => {
        const search = pairs.join('&');
        const fast = parsePlainListQuery(search);
        if (fast === undefined) return;
        const route = ListQuery.safeParse(Object.fromEntries(new URLSearchParams(search)));
        expect(route.success, search).toBe(true);
        const { include, ...read } = route.data!;
        expect(include).toBeUndefined();
        expect(fast).toEqual({ username: undefined, status: undefined, cursor: undefined, ...read });
      }),
      { numRuns: 2000 },
    );
  });
});

/** A gateway in front of both emulators (onprem, the default, and togo). */
function gatewayBefore(onprem: SftpgoEmulator, togo: SftpToGoEmulator, extra: Partial<GatewayOptions> = {}) {
  return createTestGateway({
    backends: {
      onprem: { provider: 'sftpgo', baseUrl: 'http://sftpgo.test', sftpHost: 'sftp.example.com' },
      togo: {
        provider: 'sftptogo', baseUrl: 'http://togo.test',
        organizationId: SFTPTOGO_EMULATOR_DEFAULTS.organizationId, apiKey: SFTPTOGO_EMULATOR_DEFAULTS.apiKey,
      },
    },
    defaultBackend: 'onprem',
    fetchFor: (name) => (name === 'onprem' ? onprem.fetch : togo.fetch) as typeof fetch,
    ...extra,
  });
}

/** A gateway in front of both emulators, recording its request metrics. */
function gatewayWithMetrics(onprem: SftpgoEmulator, togo: SftpToGoEmulator) {
  const observed: RequestObservation[] = [];
  const gw = gatewayBefore(onprem, togo, { metrics: { ...noopMetrics, observeRequest: (o) => observed.push(o) } });
  return { gw, observed };
}

/** The request line of a log, less what differs between any two requests. */
function requestLine(logs: string[], requestId: string) {
  const line = logs.map((l) => JSON.parse(l)).find((l) => l.msg === 'request' && l.requestId === requestId);
  expect(line, `a request line for ${requestId}`).toBeDefined();
  const { requestId: _id, durationMs, time: _time, ...rest } = line;
  expect(durationMs).toEqual(expect.any(Number));
  return rest;
}

describe('a stored page, answered by the route\'s first step', () => {
  let onprem: SftpgoEmulator;
  let togo: SftpToGoEmulator;
  let gw: TestGateway;
  let observed: RequestObservation[];

  beforeEach(() => {
    onprem = createSftpgoEmulator();
    onprem.seedUsers(40, 'plain');
    togo = createSftpToGoEmulator();
    togo.seedCredentials(40, 'plain');
    ({ gw, observed } = gatewayWithMetrics(onprem, togo));
  });

  it.each([
    ['/v1/backends/onprem/users?limit=7&order=desc', 'onprem'],
    ['/v1/users?limit=7&order=desc', 'onprem'],
    ['/v1/backends/togo/users?limit=7&status=active', 'togo'],
  ])('answers %s a second time with the bytes, headers, log line and metrics of the first', async (path, backend) => {
    const miss = await gw.call('GET', path, { key: KEYS.reader });
    const hit = await gw.call('GET', path, { key: KEYS.reader, headers: { 'x-request-id': 'second-read.1' } });
    expect([miss.status, miss.headers.get('x-cache')]).toEqual([200, 'MISS']);
    expect([hit.status, hit.headers.get('x-cache')]).toEqual([200, 'HIT']);
    expect(new Uint8Array(await hit.arrayBuffer())).toEqual(new Uint8Array(await miss.arrayBuffer()));
    // Every other header too: one added to the route or the request context must reach hits.
    const rest = (res: Response) =>
      Object.fromEntries([...res.headers].filter(([name]) => !['x-cache', 'age', 'x-request-id'].includes(name)));
    expect(rest(hit)).toEqual(rest(miss));
    expect(rest(hit)['content-type']).toBe('application/json');
    expect(hit.headers.get('x-request-id')).toBe('second-read.1');
    expect(hit.headers.get('age')).toMatch(/^\d+$/);
    expect(requestLine(gw.logs, 'second-read.1')).toEqual(requestLine(gw.logs, miss.headers.get('x-request-id')!));
    expect(requestLine(gw.logs, 'second-read.1')).toMatchObject({ backend, principal: 'reader', status: 200 });
    const [first, second] = observed.map(({ seconds: _s, ...o }) => o);
    expect(observed).toHaveLength(2);
    expect(second).toEqual(first);
  });

  it('pages by the cursors of hits as by those of misses, on random plain queries', async () => {
    const names = ['plain00003', 'plain00017', 'nobody'];
    const query = fc.record(
      {
        limit: fc.integer({ min: 1, max: 45 }),
        order: fc.constantFrom('asc', 'desc'),
        status: fc.constantFrom('active', 'disabled'),
        username: fc.constantFrom(...names),
      },
      { requiredKeys: ['limit'] },
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('onprem', 'togo'), query, async (backend, q) => {
        const search = new URLSearchParams(Object.entries(q).map(([k, v]) => [k, String(v)])).toString();
        let path: string | undefined = `/v1/backends/${backend}/users?${search}`;
        for (let pages = 0; path && pages < 3; pages += 1) {
          const first = await gw.json('GET', path);
          const again: { headers: Headers; body: { nextCursor: string | null } } = await gw.json('GET', path);
          expect(first.status, path).toBe(200);
          expect(again.headers.get('x-cache'), path).toBe('HIT');
          expect(again.body, path).toEqual(first.body);
          const cursor = again.body.nextCursor;
          path = cursor ? `/v1/backends/${backend}/users?${search}&cursor=${cursor}` : undefined;
        }
      }),
      { numRuns: 25 },
    );
  });

  it('never answers a page stored before a write', async () => {
    const before = await gw.json('GET', '/v1/users?limit=500');
    expect((await gw.json('GET', '/v1/users?limit=500')).headers.get('x-cache')).toBe('HIT');
    const created = await gw.json('POST', '/v1/users', { body: { username: 'newcomer', accessLevel: 'read-only', password: 'a-long-password-1' } });
    expect(created.status).toBe(201);
    const after = await gw.json('GET', '/v1/users?limit=500');
    expect(after.headers.get('x-cache')).toBe('MISS');
    expect(after.body.data).toHaveLength(before.body.data.length + 1);
  });
});

describe('what it leaves to validation and the handler', () => {
  const WRITE_ONLY_KEY = 'write-only-key-0123456789abcdef';
  let onprem: SftpgoEmulator;
  let togo: SftpToGoEmulator;
  let gw: TestGateway;
  /** The stored second page of 5 (its cursor is also used as another query's). */
  let secondPage: string;

  beforeEach(async () => {
    onprem = createSftpgoEmulator();
    onprem.seedUsers(12, 'plain');
    togo = createSftpToGoEmulator();
    gw = gatewayBefore(onprem, togo, { apiKeys: [...API_KEYS, { name: 'write-only', key: WRITE_ONLY_KEY, scopes: ['write'] }] });
    // Pages stored: the first page of 5, its next page, and each backend's default list.
    const first = await gw.json('GET', '/v1/backends/onprem/users?limit=5');
    secondPage = `/v1/backends/onprem/users?limit=5&cursor=${first.body.nextCursor}`;
    await gw.call('GET', secondPage);
    await gw.call('GET', '/v1/users');
    expect((await gw.call('GET', '/v1/backends/togo/users')).headers.get('x-cache')).toBe('MISS');
  });

  /** What the gateway answers, and how many user lists went upstream for it. */
  async function ask(path: string, headers: Record<string, string> = {}, method = 'GET') {
    const before = onprem.requests.filter((r) => r.path === '/api/v1/user').length;
    const res = await gw.call(method, path, { key: null, headers: { authorization: `Bearer ${KEYS.ops}`, ...headers } });
    const body = await res.text();
    const upstream = onprem.requests.filter((r) => r.path === '/api/v1/user').length - before;
    return { status: res.status, cache: res.headers.get('x-cache'), code: body.startsWith('{"type"') ? JSON.parse(body).code : undefined, upstream, body };
  }

  it.each([
    ['no key', '/v1/users', { authorization: '' }, 401, null],
    ['a wrong key', '/v1/users', { authorization: 'Bearer wrong-key-0123456789abcdef' }, 401, null],
    ['a key without the read scope', '/v1/users', { authorization: `Bearer ${WRITE_ONLY_KEY}` }, 403, null],
    ['a key for another backend', '/v1/backends/togo/users', { authorization: `Bearer ${KEYS.onpremOnly}` }, 403, null],
    ['an unknown backend', '/v1/backends/nowhere/users', {}, 404, null],
    ['a page not stored (other limit)', '/v1/backends/onprem/users?limit=6', {}, 200, 'MISS'],
    ['include=raw', '/v1/users?include=raw', {}, 200, 'BYPASS'],
    ['Cache-Control: no-cache', '/v1/users', { 'cache-control': 'no-cache' }, 200, 'MISS'],
    ['an unknown parameter', '/v1/users?sort=name', {}, 400, null],
    ['a cursor of another query', '/v1/backends/onprem/users?limit=5&order=desc&cursor=CURSOR', {}, 400, null],
    ['a cursor that is not ours', '/v1/backends/onprem/users?limit=5&cursor=bm90LWEtY3Vyc29y', {}, 400, null],
  ])('answers %s as the route does', async (_what, path, headers, status, cache) => {
    const cursor = new URL(secondPage, 'http://x').searchParams.get('cursor')!;
    const res = await ask(path.replace('CURSOR', cursor), headers);
    expect([res.status, res.cache]).toEqual([status, cache]);
    expect(res.upstream).toBe(cache === null ? 0 : 1);
  });

  it('reads other spellings of a stored query through validation, to the same stored page', async () => {
    const stored = await ask('/v1/backends/onprem/users?limit=5');
    for (const path of ['/v1/backends/onprem/users?limit=05', '/v1/backends/onprem/users?limit=5&order=%61sc']) {
      const res = await ask(path);
      expect([res.status, res.cache, res.upstream, res.body], path).toEqual([200, 'HIT', 0, stored.body]);
    }
  });

  it('answers HEAD from the stored page, and never a page stored before a write', async () => {
    const head = await ask('/v1/users', {}, 'HEAD');
    expect([head.status, head.cache, head.body, head.upstream]).toEqual([200, 'HIT', '', 0]);
    await gw.cache.invalidate('onprem');
    const after = await ask('/v1/users');
    expect([after.status, after.cache, after.upstream]).toEqual([200, 'MISS', 1]);
  });
});

describe('a miss reads the store once', () => {
  /** Every store command, by name. */
  function counted(store: CacheStore) {
    const calls: string[] = [];
    const wrap = <K extends keyof CacheStore>(name: K) =>
      (async (...args: unknown[]) => {
        calls.push(name);
        return (store[name] as (...a: unknown[]) => unknown)(...args);
      }) as CacheStore[K];
    const proxy: CacheStore = {
      driver: store.driver,
      get: wrap('get'), set: wrap('set'), getBytes: wrap('getBytes'), setBytes: wrap('setBytes'),
      setIfAbsent: wrap('setIfAbsent'), incr: wrap('incr'), del: wrap('del'), close: wrap('close'),
    };
    return { proxy, calls };
  }

  it.each([
    ['memory', () => createMemoryStore(100), ['get', 'getBytes', 'setBytes']],
    ['redis', () => createRedisStore({ url: SHARED_REDIS_URL, commandTimeoutMs: 1000 }), ['get', 'getBytes', 'setIfAbsent', 'setBytes', 'del']],
  ])('on %s: the generation and the page once, then the store of the answer', async (_driver, makeStore, expected) => {
    const onprem = createSftpgoEmulator();
    onprem.seedUsers(3, 'plain');
    const inner = makeStore();
    const { proxy, calls } = counted(inner);
    const gw = createTestGateway({
      backends: { onprem: { provider: 'sftpgo', baseUrl: 'http://sftpgo.test' } },
      fetchFor: () => onprem.fetch as typeof fetch,
      cache: proxy,
      keyPrefix: uniquePrefix('one-read'),
    });
    const res = await gw.call('GET', '/v1/users?limit=2');
    expect([res.status, res.headers.get('x-cache')]).toEqual([200, 'MISS']);
    await new Promise((r) => setImmediate(r));
    expect(calls).toEqual(expected);
    calls.length = 0;
    expect((await gw.call('GET', '/v1/users?limit=2')).headers.get('x-cache')).toBe('HIT');
    expect(calls).toEqual(['get', 'getBytes']);
    await inner.close();
  });
});
