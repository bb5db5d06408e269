/**
 * The list cache against a real Redis (CONTRACT §5): hits, misses and bypasses as callers see
 * them, read-your-writes across two gateways sharing Redis, single-flight and the cross-process
 * lock counted in the emulator, no secret in any stored value, and Redis killed and restarted.
 */
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createSftpgoEmulator, type SftpgoEmulator } from '../adapters/sftpgo/emulator/emulator.js';
import { createSftpToGoEmulator } from '../adapters/sftptogo/emulator/emulator.js';
import type { CacheStore } from '../src/cache/store.js';
import { createRedisStore } from '../src/node/redis-store.js';
import { createTestGateway, type TestGateway } from './helpers/gateway.js';
import { SHARED_REDIS_URL, deleteKeys, dumpKeys, freePort, startPrivateRedis, uniquePrefix, type PrivateRedis } from './helpers/redis.js';

const backends = { onprem: { provider: 'sftpgo', apiVersion: 'v1', baseUrl: 'http://sftpgo.test', sftpHost: 'sftp.example.com' } };
const listCalls = (emu: SftpgoEmulator) => emu.requests.filter((r) => r.method === 'GET' && r.path === '/api/v1/user').length;

function gatewayOn(emu: SftpgoEmulator, store: CacheStore, prefix: string, extra: { cacheRetryAfterMs?: number } = {}) {
  return createTestGateway({ backends, cache: store, keyPrefix: prefix, fetchFor: () => emu.fetch as typeof fetch, ...extra });
}

describe('redis list cache on the shared server', () => {
  let emu: SftpgoEmulator;
  let prefix: string;
  const stores: CacheStore[] = [];
  const passwords: string[] = [];
  const newStore = () => {
    // A generous command timeout: with every test file running at once on two cores, a 250 ms
    // timeout can fire and turn the cache into a bypass, which these tests are not about.
    const s = createRedisStore({ url: SHARED_REDIS_URL, commandTimeoutMs: 2000 });
    stores.push(s);
    return s;
  };

  beforeEach(() => {
    emu = createSftpgoEmulator();
    prefix = uniquePrefix('redis');
  });

  afterEach(async () => {
    // No password of any user created in the test appears in any value under our prefix.
    const stored = await dumpKeys(SHARED_REDIS_URL, prefix);
    const all = [...stored.entries()].map(([k, v]) => `${k}=${v}`).join('\n');
    for (const p of passwords) expect(all).not.toContain(p);
    await deleteKeys(SHARED_REDIS_URL, prefix);
    await Promise.all(stores.splice(0).map((s) => s.close()));
  });

  async function createUser(gw: TestGateway, username: string) {
    const res = await gw.json('POST', '/v1/users', { body: { username, accessLevel: 'read-only' } });
    expect(res.status).toBe(201);
    passwords.push(res.body.password);
    return res.body;
  }

  it('misses, then hits with Age, and stores only the list', async () => {
    const gw = gatewayOn(emu, newStore(), prefix);
    const created = await createUser(gw, 'cached_user_1');
    const first = await gw.call('GET', '/v1/users');
    expect(first.headers.get('x-cache')).toBe('MISS');
    const second = await gw.call('GET', '/v1/users');
    expect(second.headers.get('x-cache')).toBe('HIT');
    expect(Number(second.headers.get('age'))).toBeGreaterThanOrEqual(0);
    expect(await second.json()).toEqual(await first.json());
    expect(listCalls(emu)).toBe(2); // the create's username check, and the one miss
    const keys = [...(await dumpKeys(SHARED_REDIS_URL, prefix)).keys()];
    // Under the backend's identity: its name and the fingerprint of its provider and URL.
    expect(keys.some((k) => /:list:onprem~[0-9a-f]{16}:/.test(k))).toBe(true);
    expect((await dumpKeys(SHARED_REDIS_URL, prefix)).get(`${prefix}gen:${gw.cache.identity('onprem')}`)).toBe('1');
    expect(created.id).toBeDefined();
  });

  it('reads the upstream and refreshes the entry on Cache-Control: no-cache', async () => {
    const gw = gatewayOn(emu, newStore(), prefix);
    await gw.call('GET', '/v1/users');
    emu.seedUsers(1, 'behind_the_back_'); // a change the gateway did not make
    const stale = await gw.json('GET', '/v1/users');
    expect(stale.headers.get('x-cache')).toBe('HIT');
    expect(stale.body.data).toHaveLength(0);
    const fresh = await gw.json('GET', '/v1/users', { headers: { 'cache-control': 'no-cache' } });
    expect(fresh.headers.get('x-cache')).toBe('MISS');
    expect(fresh.body.data).toHaveLength(1);
    const after = await gw.json('GET', '/v1/users');
    expect(after.headers.get('x-cache')).toBe('HIT');
    expect(after.body.data).toHaveLength(1);
  });

  it('never caches an error answer', async () => {
    const gw = gatewayOn(emu, newStore(), prefix);
    emu.setFaults({ status: 500, times: 1 });
    expect((await gw.call('GET', '/v1/users')).status).toBe(502);
    const next = await gw.call('GET', '/v1/users');
    expect(next.status).toBe(200);
    expect(next.headers.get('x-cache')).toBe('MISS');
  });

  it('shows a write through one gateway in the next list through another sharing Redis', async () => {
    const a = gatewayOn(emu, newStore(), prefix);
    const b = gatewayOn(emu, newStore(), prefix);
    await createUser(a, 'shared_user_1');
    expect((await b.json('GET', '/v1/users')).body.data.map((u: { username: string }) => u.username)).toEqual(['shared_user_1']);
    expect((await b.call('GET', '/v1/users')).headers.get('x-cache')).toBe('HIT');

    const second = await createUser(a, 'shared_user_2');
    const afterCreate = await b.json('GET', '/v1/users');
    expect(afterCreate.headers.get('x-cache')).toBe('MISS');
    expect(afterCreate.body.data.map((u: { username: string }) => u.username)).toEqual(['shared_user_1', 'shared_user_2']);

    await a.call('PATCH', `/v1/users/${second.id}`, { body: { status: 'disabled' } });
    expect((await b.json('GET', '/v1/users?status=disabled')).body.data.map((u: { id: string }) => u.id)).toEqual([second.id]);
    expect((await b.json('GET', '/v1/users')).body.data.find((u: { id: string }) => u.id === second.id).status).toBe('disabled');

    await a.call('DELETE', `/v1/users/${second.id}`);
    expect((await b.json('GET', '/v1/users')).body.data.map((u: { username: string }) => u.username)).toEqual(['shared_user_1']);
  });

  it('keeps SFTP To Go credentials (whose every read carries a password) in Redis without one', async () => {
    const togo = createSftpToGoEmulator();
    const gw = createTestGateway({
      backends: { togo: { provider: 'sftptogo', baseUrl: 'http://togo.test', organizationId: togo.organizationId, apiKey: togo.apiKey } },
      cache: newStore(), keyPrefix: prefix, fetchFor: () => togo.fetch as typeof fetch,
    });
    const made = await gw.json('POST', '/v1/users', { body: { username: 'togo_cached_user', accessLevel: 'read-only' } });
    expect(made.status).toBe(201);
    expect((await gw.call('GET', '/v1/users?limit=1')).headers.get('x-cache')).toBe('MISS');
    expect((await gw.call('GET', '/v1/users?limit=1&cursor=' + (await gw.json('GET', '/v1/users?limit=1')).body.nextCursor)).status).toBe(200);
    // Every password SFTP To Go holds, the root's included, is a secret the cache must not keep.
    passwords.push(...[...togo.credentials.values()].map((c) => c.Password));
    const stored = [...(await dumpKeys(SHARED_REDIS_URL, prefix)).values()];
    expect(stored.some((v) => v.includes('togo_cached_user'))).toBe(true);
    expect(togo.requests.filter((r) => r.method === 'GET' && r.path.endsWith('/users'))).toHaveLength(1);
  });

  it.each(['redis', 'memory'] as const)(
    '%s: a hit answers the very bytes of the miss, with an Age, non-ASCII text included',
    async (driver) => {
      const togo = createSftpToGoEmulator();
      const gw = createTestGateway({
        backends: { togo: { provider: 'sftptogo', baseUrl: 'http://togo.test', organizationId: togo.organizationId, apiKey: togo.apiKey } },
        cache: driver === 'redis' ? newStore() : 'memory', keyPrefix: prefix, fetchFor: () => togo.fetch as typeof fetch,
      });
      const displayName = 'Zoë Ünïcødé 🚀 日本語';
      expect((await gw.json('POST', '/v1/users', { body: { username: 'unicode_cached', displayName, accessLevel: 'full' } })).status).toBe(201);
      const answers = [];
      for (const expected of ['MISS', 'HIT', 'HIT']) {
        const res = await gw.call('GET', '/v1/users');
        expect(res.headers.get('x-cache')).toBe(expected);
        const bytes = new Uint8Array(await res.arrayBuffer());
        answers.push({ bytes, age: res.headers.get('age') });
      }
      expect(answers[1]!.bytes).toEqual(answers[0]!.bytes);
      expect(answers[2]!.bytes).toEqual(answers[0]!.bytes);
      expect(answers[0]!.age).toBeNull();
      expect(answers[1]!.age).toMatch(/^(0|1)$/);
      const page = JSON.parse(new TextDecoder().decode(answers[1]!.bytes)) as { data: Array<{ displayName: string | null }> };
      expect(page.data.map((u) => u.displayName)).toContain(displayName);
    },
  );

  it('makes one upstream call for 20 concurrent misses in one gateway (single-flight)', async () => {
    emu.seedUsers(30, 'flight_');
    const gw = gatewayOn(emu, newStore(), prefix);
    emu.setFaults({ delayMs: 100 });
    const answers = await Promise.all(Array.from({ length: 20 }, () => gw.call('GET', '/v1/users?limit=10')));
    expect(answers.every((r) => r.status === 200)).toBe(true);
    expect(listCalls(emu)).toBe(1);
  });

  it('makes one upstream call for concurrent misses across two gateways (lock in Redis)', async () => {
    emu.seedUsers(30, 'stampede_');
    const a = gatewayOn(emu, newStore(), prefix);
    const b = gatewayOn(emu, newStore(), prefix);
    emu.setFaults({ delayMs: 150 });
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).call('GET', '/v1/users?limit=10')),
    );
    const bodies = await Promise.all(answers.map((r) => r.json()));
    expect(answers.every((r) => r.status === 200)).toBe(true);
    expect(new Set(bodies.map((b) => JSON.stringify(b))).size).toBe(1);
    expect(listCalls(emu)).toBe(1);
    // One gateway loaded (its 10 callers shared that load: MISS); the other waited for it (HIT).
    const outcomes = answers.map((r) => r.headers.get('x-cache')).sort();
    expect(outcomes).toEqual([...Array(10).fill('HIT'), ...Array(10).fill('MISS')]);
  });
});

describe('redis failure is not an outage', () => {
  let redis: PrivateRedis;
  let emu: SftpgoEmulator;
  let store: CacheStore;
  beforeAll(async () => {
    redis = await startPrivateRedis();
  });
  afterAll(async () => {
    await store?.close();
    await redis.kill().catch(() => {});
  });

  it('bypasses a killed Redis, reports degraded, and resumes the cache when it is back', async () => {
    emu = createSftpgoEmulator();
    emu.seedUsers(5, 'resilient_');
    store = createRedisStore({ url: redis.url, commandTimeoutMs: 200 });
    const gw = gatewayOn(emu, store, uniquePrefix('kill'), { cacheRetryAfterMs: 300 });
    expect((await gw.call('GET', '/v1/users')).headers.get('x-cache')).toBe('MISS');
    expect((await gw.call('GET', '/v1/users')).headers.get('x-cache')).toBe('HIT');

    await redis.kill();
    const during = await gw.json('GET', '/v1/users');
    expect(during.status).toBe(200);
    expect(during.headers.get('x-cache')).toBe('BYPASS');
    expect(during.body.data).toHaveLength(5);
    expect((await gw.json('GET', '/readyz', { key: null })).body).toMatchObject({ status: 'degraded', cache: { driver: 'redis', state: 'down' } });
    // While bypassing, a write still answers, and lists stay live.
    const created = await gw.json('POST', '/v1/users', { body: { username: 'while_down', accessLevel: 'full' } });
    expect(created.status).toBe(201);
    expect((await gw.json('GET', '/v1/users')).body.data).toHaveLength(6);

    await redis.restart();
    let outcome = '';
    for (let i = 0; i < 60 && outcome !== 'HIT'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      outcome = (await gw.call('GET', '/v1/users')).headers.get('x-cache') ?? '';
    }
    expect(outcome).toBe('HIT');
    expect((await gw.json('GET', '/readyz', { key: null })).body).toMatchObject({ status: 'ready', cache: { state: 'ok' } });
    expect((await gw.json('GET', '/v1/users')).body.data).toHaveLength(6);
  }, 20_000);
});

describe('readiness reflects whether Redis has answered', () => {
  it('connecting before Redis has ever answered (a server that takes the connection and never replies), ok once it has', async () => {
    // Something listens but never answers: ioredis connects, and its ready check waits.
    const sockets: Socket[] = [];
    const silent = createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    const store = createRedisStore({ url: `redis://127.0.0.1:${port}/0`, commandTimeoutMs: 200 });
    const emu = createSftpgoEmulator();
    const gw = gatewayOn(emu, store, uniquePrefix('silent'));
    try {
      expect((await gw.json('GET', '/readyz', { key: null })).body).toMatchObject({ status: 'degraded', cache: { driver: 'redis', state: 'connecting' } });
      await new Promise((r) => setTimeout(r, 300));
      expect((await gw.json('GET', '/readyz', { key: null })).body.cache.state).not.toBe('ok');
      // A list still answers, from the upstream.
      expect((await gw.call('GET', '/v1/users')).headers.get('x-cache')).toBe('BYPASS');
    } finally {
      await store.close();
      for (const socket of sockets) socket.destroy();
      silent.close();
    }

    const live = createRedisStore({ url: SHARED_REDIS_URL, commandTimeoutMs: 2000 });
    const ready = gatewayOn(emu, live, uniquePrefix('ready'));
    expect((await ready.json('GET', '/readyz', { key: null })).body.cache.state).toBe('connecting'); // before its first answer
    await vi.waitFor(async () => expect((await ready.json('GET', '/readyz', { key: null })).body).toMatchObject({ status: 'ready', cache: { state: 'ok' } }));
    await live.close();
  });

  it('down when nothing listens; memory is ok and none disabled from the start', async () => {
    const store = createRedisStore({ url: `redis://127.0.0.1:${await freePort()}/0`, commandTimeoutMs: 200 });
    await new Promise((r) => setTimeout(r, 200));
    expect(['down', 'connecting']).toContain(store.state!());
    expect(store.state!()).not.toBe('ok');
    await store.close();
    const emu = createSftpgoEmulator();
    for (const [cache, state] of [['memory', 'ok'], ['none', 'disabled']] as const) {
      const gw = createTestGateway({ backends, cache, fetchFor: () => emu.fetch as typeof fetch });
      expect((await gw.json('GET', '/readyz', { key: null })).body).toMatchObject({ status: 'ready', cache: { driver: cache, state } });
    }
  });
});

describe('redis topologies, as ioredis takes them', () => {
  it('builds a single client from a URL, a Cluster from seed nodes, and a Sentinel client', async () => {
    const { Cluster, Redis } = await import('ioredis');
    const { createRedisClient } = await import('../src/node/redis-store.js');
    const single = createRedisClient({ url: 'redis://:secret@127.0.0.1:1/3' });
    const cluster = createRedisClient({ clusterNodes: ['redis://127.0.0.1:1', 'redis://127.0.0.1:2'] });
    const sentinel = createRedisClient({ sentinels: [{ host: '127.0.0.1', port: 1 }], sentinelName: 'gateway' });
    for (const c of [single, cluster, sentinel]) {
      c.on('error', () => {});
      c.disconnect();
    }
    expect(single).toBeInstanceOf(Redis);
    expect((single as InstanceType<typeof Redis>).options).toMatchObject({ port: 1, db: 3, password: 'secret', enableOfflineQueue: false, maxRetriesPerRequest: 0 });
    expect(cluster).toBeInstanceOf(Cluster);
    expect((sentinel as InstanceType<typeof Redis>).options).toMatchObject({ sentinels: [{ host: '127.0.0.1', port: 1 }], name: 'gateway' });
  });
});
