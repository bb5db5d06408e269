/**
 * `Idempotency-Key` through the HTTP API, in front of both emulators: one upstream write per key
 * (also for 20 concurrent repeats, and across two gateways sharing a real Redis), replays with
 * the same status, body and headers, 422 for a reused key, no 5xx kept, and no password or raw
 * key in any stored value (memory and Redis).
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSftpgoEmulator, type SftpgoEmulator } from '../adapters/sftpgo/emulator/emulator.js';
import { createSftpToGoEmulator, type SftpToGoEmulator } from '../adapters/sftptogo/emulator/emulator.js';
import { createMemoryStore, type CacheStore } from '../src/cache/store.js';
import { createRedisStore } from '../src/node/redis-store.js';
import { canonicalJson, idempotencyGuardFor, idempotencyStoreKey } from '../src/reliability/idempotency.js';
import { keyOf } from './fixtures/ssh-keys.js';
import { KEYS, bothProviders, type GatewayOptions, type TestGateway } from './helpers/gateway.js';
import { SHARED_REDIS_URL, deleteKeys, dumpKeys, uniquePrefix } from './helpers/redis.js';

/** A memory store that remembers every key and value ever written, to scan for secrets. */
function spyingStore(inner: CacheStore = createMemoryStore(1000)) {
  const written = new Map<string, string>();
  const store: CacheStore = {
    ...inner,
    get: (k) => inner.get(k),
    async set(k, v, ttl) {
      written.set(k, v);
      return inner.set(k, v, ttl);
    },
    async setBytes(k, v, ttl) {
      written.set(k, new TextDecoder().decode(v));
      return inner.setBytes(k, v, ttl);
    },
    async setIfAbsent(k, v, ttl) {
      const ok = await inner.setIfAbsent(k, v, ttl);
      if (ok) written.set(k, v);
      return ok;
    },
  };
  return { store, written };
}

/** A store whose every command fails, as a dead Redis does. */
const deadStore: CacheStore = {
  driver: 'redis',
  get: async () => Promise.reject(new Error('redis down')),
  set: async () => Promise.reject(new Error('redis down')),
  getBytes: async () => Promise.reject(new Error('redis down')),
  setBytes: async () => Promise.reject(new Error('redis down')),
  setIfAbsent: async () => Promise.reject(new Error('redis down')),
  incr: async () => Promise.reject(new Error('redis down')),
  del: async () => Promise.reject(new Error('redis down')),
  close: async () => {},
};

let emu: SftpgoEmulator;
let togo: SftpToGoEmulator;

function gateway(extra: Partial<GatewayOptions> = {}): TestGateway {
  return bothProviders(emu, togo, extra);
}

beforeEach(() => {
  emu = createSftpgoEmulator();
  togo = createSftpToGoEmulator();
});

const sftpgoWrites = (method: string, path: RegExp) =>
  emu.requests.filter((r) => r.method === method && path.test(r.path)).length;
const togoWrites = (method: string, path: RegExp) =>
  togo.requests.filter((r) => r.method === method && path.test(r.path.replace(`/organizations/${togo.organizationId}`, ''))).length;

const idem = (key: string, headers: Record<string, string> = {}) => ({ 'Idempotency-Key': key, ...headers });
let seq = 0;
const freshKey = () => `key-${Date.now()}-${++seq}-${Math.random().toString(36).slice(2)}`;

describe('creates', () => {
  it.each([
    ['SFTPGo', '/v1/users', 'ftp_user_twenty', () => sftpgoWrites('POST', /^\/api\/v1\/user$/)],
    ['SFTP To Go', '/v1/backends/togo/users', 'togo_user_twenty', () => togoWrites('POST', /^\/users$/)],
  ])('%s: 20 concurrent identical creates make one upstream create and get one answer', async (_name, path, username, creates) => {
    const gw = gateway();
    emu.setFaults({ delayMs: 60 });
    togo.setFaults({ delayMs: 60 });
    const key = freshKey();
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => gw.json('POST', path, { body: { username, accessLevel: 'read-only' }, headers: idem(key) })),
    );
    expect(creates()).toBe(1);
    for (const a of answers) {
      expect(a.status).toBe(201);
      expect(a.body).toEqual(answers[0]!.body);
      expect(a.headers.get('location')).toBe(answers[0]!.headers.get('location'));
    }
    expect(typeof answers[0]!.body.password).toBe('string');
    expect(answers.filter((a) => a.headers.get('idempotent-replayed') === 'true')).toHaveLength(19);
    // Each answer still carries its own request id.
    expect(new Set(answers.map((a) => a.headers.get('x-request-id'))).size).toBe(20);
  });

  it('replays a sequential repeat with the same body, Location and no upstream call', async () => {
    const gw = gateway();
    const key = freshKey();
    const first = await gw.json('POST', '/v1/users', { body: { username: 'seq_user_01', accessLevel: 'full' }, headers: idem(key) });
    expect(first.status).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const before = emu.requests.length;
    // Whitespace and key order do not matter.
    const again = await gw.call('POST', '/v1/users', {
      rawBody: '{ "accessLevel" : "full",\n  "username": "seq_user_01" }',
      headers: idem(key),
    });
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.headers.get('location')).toBe(first.headers.get('location'));
    expect(again.headers.get('content-type')).toBe('application/json');
    expect(await again.json()).toEqual(first.body);
    expect(emu.requests.length).toBe(before);
    // The scoped form of the same route is the same request.
    const scoped = await gw.json('POST', '/v1/backends/onprem/users', { body: { username: 'seq_user_01', accessLevel: 'full' }, headers: idem(key) });
    expect(scoped.status).toBe(201);
    expect(scoped.body).toEqual(first.body);
    expect(emu.requests.length).toBe(before);
  });

  it('refuses the same key with a different body (422 idempotency_key_reused), without an upstream call', async () => {
    const gw = gateway();
    const key = freshKey();
    expect((await gw.json('POST', '/v1/users', { body: { username: 'reuse_user_1', accessLevel: 'full' }, headers: idem(key) })).status).toBe(201);
    const before = emu.requests.length;
    const res = await gw.call('POST', '/v1/users', { body: { username: 'reuse_user_2', accessLevel: 'full' }, headers: idem(key) });
    expect(res.status).toBe(422);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    const problem = await res.json();
    expect(problem).toMatchObject({ status: 422, code: 'idempotency_key_reused', title: 'Idempotency key reused', backend: 'onprem' });
    expect(problem.type).toContain('idempotency_key_reused');
    // Another route with the same key is another request too.
    const other = await gw.json('POST', `/v1/users/${encodeURIComponent('1')}/password-rotations`, { headers: idem(key) });
    expect(other.status).toBe(422);
    expect(emu.requests.length).toBe(before);
  });

  it('keeps keys apart per API key name and per backend', async () => {
    const gw = gateway();
    const key = freshKey();
    const body = { username: 'shared_key_user', accessLevel: 'read-only' };
    const ops = await gw.json('POST', '/v1/users', { body, headers: idem(key) });
    expect(ops.status).toBe(201);
    // The writer key: its own request, which finds the username taken (a 409 from the upstream).
    const writer = await gw.json('POST', '/v1/users', { body, headers: idem(key), key: KEYS.writer });
    expect(writer.status).toBe(409);
    expect(writer.headers.get('idempotent-replayed')).toBeNull();
    expect(sftpgoWrites('POST', /^\/api\/v1\/user$/)).toBe(1); // the 409 came from the username check
    // The other backend: its own request, which creates there.
    const other = await gw.json('POST', '/v1/backends/togo/users', { body, headers: idem(key) });
    expect(other.status).toBe(201);
    expect(other.headers.get('idempotent-replayed')).toBeNull();
    expect(other.body.id).not.toBe(ops.body.id);
    expect(togoWrites('POST', /^\/users$/)).toBe(1);
    // And each replays its own answer.
    const writerAgain = await gw.json('POST', '/v1/users', { body, headers: idem(key), key: KEYS.writer });
    expect(writerAgain.status).toBe(409);
    expect(writerAgain.headers.get('idempotent-replayed')).toBe('true');
    const opsAgain = await gw.json('POST', '/v1/users', { body, headers: idem(key) });
    expect(opsAgain.body).toEqual(ops.body);
  });

  it('keeps no 5xx: the repeat reaches the upstream and its answer is kept', async () => {
    const gw = gateway();
    const key = freshKey();
    emu.setFaults({ status: 500, times: 1, match: { method: 'POST', pathPrefix: '/user' } });
    const body = { username: 'flaky_user_1', accessLevel: 'read-only' };
    const first = await gw.json('POST', '/v1/users', { body, headers: idem(key) });
    expect(first.status).toBe(502);
    const second = await gw.json('POST', '/v1/users', { body, headers: idem(key) });
    expect(second.status).toBe(201);
    expect(second.headers.get('idempotent-replayed')).toBeNull();
    expect(sftpgoWrites('POST', /^\/api\/v1\/user$/)).toBe(2);
    const third = await gw.json('POST', '/v1/users', { body, headers: idem(key) });
    expect(third.headers.get('idempotent-replayed')).toBe('true');
    expect(third.body).toEqual(second.body);
    expect(sftpgoWrites('POST', /^\/api\/v1\/user$/)).toBe(2);
  });

  it('answers 409 when another instance still runs the first request past the wait', async () => {
    const { store } = spyingStore();
    const gw = gateway({ cache: store, keyPrefix: 'busy:' });
    idempotencyGuardFor(gw.cache, { waitMs: 150, pollMs: 20 });
    const key = freshKey();
    await store.setIfAbsent(await idempotencyStoreKey('busy:', 'ops', gw.cache.identity('onprem'), key), 'pending', 60_000);
    const res = await gw.call('POST', '/v1/users', { body: { username: 'busy_user_01', accessLevel: 'full' }, headers: idem(key) });
    expect(res.status).toBe(409);
    expect((await res.json()).code).toBe('conflict');
    expect(res.headers.get('retry-after')).toBe('1');
    expect(sftpgoWrites('POST', /^\/api\/v1\/user$/)).toBe(0);
  });
});

describe('rotations and SSH keys', () => {
  it.each([
    ['SFTPGo', 'onprem', () => sftpgoWrites('PUT', /^\/api\/v1\/user\/\d+$/)],
    ['SFTP To Go', 'togo', () => togoWrites('POST', /^\/users\/[^/]+\/credential-rotations$/)],
  ])('%s: a replayed rotation gives the same password and rotates once', async (_name, backend, rotations) => {
    const gw = gateway();
    const user = await gw.json('POST', `/v1/backends/${backend}/users`, { body: { username: 'rotate_user_1', accessLevel: 'full' } });
    expect(user.status).toBe(201);
    emu.setFaults({ delayMs: 30 });
    togo.setFaults({ delayMs: 30 });
    const key = freshKey();
    const path = `/v1/backends/${backend}/users/${encodeURIComponent(user.body.id)}/password-rotations`;
    const [a, b] = await Promise.all([gw.json('POST', path, { headers: idem(key) }), gw.json('POST', path, { headers: idem(key) })]);
    const c = await gw.json('POST', path, { headers: idem(key) });
    for (const r of [a, b, c]) {
      expect(r.status).toBe(200);
      expect(r.body).toEqual(a.body);
      expect(r.headers.get('cache-control')).toBe('no-store');
    }
    expect(a.body.password).not.toBe(user.body.password);
    expect(c.headers.get('idempotent-replayed')).toBe('true');
    expect(rotations()).toBe(1);
    // Without the header, each rotation is a new one.
    const fresh = await gw.json('POST', path);
    expect(fresh.body.password).not.toBe(a.body.password);
    expect(rotations()).toBe(2);
  });

  it.each([
    ['SFTPGo', 'onprem', () => sftpgoWrites('PUT', /^\/api\/v1\/user\/\d+$/)],
    ['SFTP To Go', 'togo', () => togoWrites('POST', /^\/users\/[^/]+\/ssh-public-keys$/)],
  ])('%s: a replayed SSH key add gives the same key and writes once', async (_name, backend, keyWrites) => {
    const gw = gateway();
    const user = await gw.json('POST', `/v1/backends/${backend}/users`, { body: { username: 'sshkey_user_1', accessLevel: 'full' } });
    const path = `/v1/backends/${backend}/users/${encodeURIComponent(user.body.id)}/ssh-keys`;
    const key = freshKey();
    const publicKey = keyOf('ed25519').publicKey;
    const first = await gw.json('POST', path, { body: { publicKey }, headers: idem(key) });
    expect(first.status).toBe(201);
    const again = await gw.json('POST', path, { body: { publicKey }, headers: idem(key) });
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    expect(again.headers.get('location')).toBe(first.headers.get('location'));
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(keyWrites()).toBe(1);
    // Without the key, the same add is a 409 (already present): the replay is what makes retries safe.
    expect((await gw.json('POST', path, { body: { publicKey } })).status).toBe(409);
  });
});

describe('the header and the order of checks', () => {
  it.each([
    ['empty', ''],
    ['too long', 'k'.repeat(256)],
    ['not printable ASCII', 'clé-unique'],
    ['a control character', 'tab\tkey'],
  ])('refuses an Idempotency-Key that is %s with 400', async (_what, value) => {
    const gw = gateway();
    const res = await gw.call('POST', '/v1/users', { body: { username: 'bad_key_user', accessLevel: 'full' }, headers: { 'Idempotency-Key': value } });
    expect(res.status).toBe(400);
    expect((await res.json()).code).toBe('invalid_request');
    expect(emu.requests).toHaveLength(0);
  });

  it('accepts 255 printable characters, spaces included', async () => {
    const gw = gateway();
    const key = `a b~${'x'.repeat(251)}`;
    const first = await gw.json('POST', '/v1/users', { body: { username: 'long_key_user', accessLevel: 'full' }, headers: idem(key) });
    expect(first.status).toBe(201);
    const again = await gw.json('POST', '/v1/users', { body: { username: 'long_key_user', accessLevel: 'full' }, headers: idem(key) });
    expect(again.headers.get('idempotent-replayed')).toBe('true');
  });

  it('checks auth, scope and the body first, and keeps nothing for a refused request', async () => {
    const gw = gateway();
    const key = freshKey();
    const body = { username: 'order_user_1', accessLevel: 'full' };
    expect((await gw.call('POST', '/v1/users', { body, headers: idem(key), key: null })).status).toBe(401);
    expect((await gw.call('POST', '/v1/users', { body, headers: idem(key), key: KEYS.reader })).status).toBe(403);
    expect((await gw.call('POST', '/v1/users', { rawBody: '{bad', headers: idem(key) })).status).toBe(400);
    expect((await gw.call('POST', '/v1/users', { body: { ...body, extra: 1 }, headers: idem(key) })).status).toBe(400);
    expect(emu.requests).toHaveLength(0);
    // None of those used the key: the real request runs.
    const res = await gw.json('POST', '/v1/users', { body, headers: idem(key) });
    expect(res.status).toBe(201);
    expect(res.headers.get('idempotent-replayed')).toBeNull();
  });

  it('keeps a 4xx from the provider (deterministic) and replays it', async () => {
    const gw = gateway();
    const key = freshKey();
    const path = '/v1/users/999/password-rotations';
    const first = await gw.json('POST', path, { headers: idem(key) });
    expect(first.status).toBe(404);
    const writesBefore = emu.requests.length;
    const again = await gw.call('POST', path, { headers: idem(key) });
    expect(again.status).toBe(404);
    expect(again.headers.get('content-type')).toBe('application/problem+json');
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await again.json()).toEqual(first.body);
    expect(emu.requests.length).toBe(writesBefore);
  });
});

describe('stores', () => {
  it('keeps no password and no raw key in the memory store', async () => {
    const { store, written } = spyingStore();
    const gw = gateway({ cache: store });
    const key = freshKey();
    const created = await gw.json('POST', '/v1/users', { body: { username: 'secret_user_1', accessLevel: 'full' }, headers: idem(key) });
    const chosenKey = freshKey();
    const chosen = await gw.json('POST', '/v1/users', {
      body: { username: 'secret_user_2', accessLevel: 'full', password: 'caller-chosen-Secret-42' },
      headers: idem(chosenKey),
    });
    expect(chosen.status).toBe(201);
    const rotateKey = freshKey();
    const rotated = await gw.json('POST', `/v1/users/${created.body.id}/password-rotations`, { headers: idem(rotateKey) });
    const all = [...written].map(([k, v]) => `${k}=${v}`).join('\n');
    const entries = [...written.keys()].filter((k) => k.includes('idempotency:'));
    expect(entries).toHaveLength(3);
    for (const secret of [created.body.password, rotated.body.password, 'caller-chosen-Secret-42', key, chosenKey, rotateKey]) {
      expect(typeof secret).toBe('string');
      expect(all).not.toContain(secret);
    }
    expect(all).not.toContain('secret_user_1'); // the whole answer is sealed, not only the password
    // Replays still work from what was kept.
    const again = await gw.json('POST', `/v1/users/${created.body.id}/password-rotations`, { headers: idem(rotateKey) });
    expect(again.body.password).toBe(rotated.body.password);
  });

  it('with the none driver, still deduplicates in process memory', async () => {
    const gw = gateway({ cache: 'none' });
    const key = freshKey();
    const body = { username: 'none_user_01', accessLevel: 'full' };
    const first = await gw.json('POST', '/v1/users', { body, headers: idem(key) });
    const again = await gw.json('POST', '/v1/users', { body, headers: idem(key) });
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(first.body);
    expect(sftpgoWrites('POST', /^\/api\/v1\/user$/)).toBe(1);
  });

  it('falls back to process memory when the store fails, with a warning', async () => {
    const gw = gateway({ cache: deadStore });
    const key = freshKey();
    const body = { username: 'dead_store_1', accessLevel: 'full' };
    emu.setFaults({ delayMs: 30 });
    const [a, b] = await Promise.all([
      gw.json('POST', '/v1/users', { body, headers: idem(key) }),
      gw.json('POST', '/v1/users', { body, headers: idem(key) }),
    ]);
    const c = await gw.json('POST', '/v1/users', { body, headers: idem(key) });
    for (const r of [a, b, c]) {
      expect(r.status).toBe(201);
      expect(r.body).toEqual(a.body);
    }
    expect(c.headers.get('idempotent-replayed')).toBe('true');
    expect(sftpgoWrites('POST', /^\/api\/v1\/user$/)).toBe(1);
    expect(gw.logs.some((l) => /idempotency store failed/.test(l) && /"level":"?(40|warn)/.test(l))).toBe(true);
  });

  it('canonical JSON sorts keys at every level and ignores undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: undefined } })).toBe('{"a":{"d":[1,{"x":1,"y":2}]},"b":1}');
    expect(canonicalJson(undefined)).toBe('null');
  });
});

describe('across two gateways sharing a real Redis', () => {
  const stores: CacheStore[] = [];
  let prefix: string;
  const secrets: string[] = [];
  const newStore = () => {
    const s = createRedisStore({ url: SHARED_REDIS_URL });
    stores.push(s);
    return s;
  };

  beforeEach(() => {
    prefix = uniquePrefix('idempotency');
  });

  afterEach(async () => {
    const stored = await dumpKeys(SHARED_REDIS_URL, prefix);
    const all = [...stored].map(([k, v]) => `${k}=${v}`).join('\n');
    expect([...stored.keys()].some((k) => k.includes('idempotency:'))).toBe(true);
    for (const s of secrets.splice(0)) expect(all).not.toContain(s);
    await deleteKeys(SHARED_REDIS_URL, prefix);
  });

  afterAll(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close()));
  });

  it('replays on the second gateway what the first one answered, and keeps no secret in Redis', async () => {
    const gw1 = gateway({ cache: newStore(), keyPrefix: prefix });
    const gw2 = gateway({ cache: newStore(), keyPrefix: prefix });
    const key = freshKey();
    const body = { username: 'redis_user_01', accessLevel: 'full' };
    const first = await gw1.json('POST', '/v1/users', { body, headers: idem(key) });
    expect(first.status).toBe(201);
    const second = await gw2.json('POST', '/v1/users', { body, headers: idem(key) });
    expect(second.status).toBe(201);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(second.headers.get('location')).toBe(first.headers.get('location'));
    expect(second.body).toEqual(first.body);
    expect(sftpgoWrites('POST', /^\/api\/v1\/user$/)).toBe(1);

    const createKey = freshKey();
    const rotateKey = freshKey();
    const path = `/v1/backends/togo/users`;
    const togoUser = await gw1.json('POST', path, { body: { username: 'redis_togo_01', accessLevel: 'full' }, headers: idem(createKey) });
    // The create's key on the rotation route is another request, on the other gateway too.
    const reused = await gw2.json('POST', `${path}/${togoUser.body.id}/password-rotations`, { headers: idem(createKey) });
    expect(reused.status).toBe(422);
    expect(reused.body.code).toBe('idempotency_key_reused');
    const rotated = await gw2.json('POST', `${path}/${togoUser.body.id}/password-rotations`, { headers: idem(rotateKey) });
    expect(rotated.status).toBe(200);
    const replayed = await gw1.json('POST', `${path}/${togoUser.body.id}/password-rotations`, { headers: idem(rotateKey) });
    expect(replayed.body).toEqual(rotated.body);
    expect(replayed.headers.get('idempotent-replayed')).toBe('true');
    secrets.push(first.body.password, togoUser.body.password, rotated.body.password, key, createKey, rotateKey);
  });

  it('makes one upstream create for concurrent repeats spread over both gateways', async () => {
    const gw1 = gateway({ cache: newStore(), keyPrefix: prefix });
    const gw2 = gateway({ cache: newStore(), keyPrefix: prefix });
    const key = freshKey();
    const body = { username: 'redis_user_02', accessLevel: 'read-write' };
    emu.setFaults({ delayMs: 150 });
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) => (i % 2 ? gw2 : gw1).json('POST', '/v1/users', { body, headers: idem(key) })),
    );
    expect(sftpgoWrites('POST', /^\/api\/v1\/user$/)).toBe(1);
    for (const a of answers) {
      expect(a.status).toBe(201);
      expect(a.body).toEqual(answers[0]!.body);
    }
    expect(answers.filter((a) => a.headers.get('idempotent-replayed') === 'true')).toHaveLength(9);
    secrets.push(answers[0]!.body.password, key);
  });
});
