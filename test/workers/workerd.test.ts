/**
 * The Worker in workerd: what a deployment with a missing or bad config answers, and the three
 * cache drivers Workers have (memory, none, kv). One workerd runs the bundle as several Workers,
 * one per config, each with its own bindings and KV namespace; the SFTPGo emulator is the upstream.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSftpgoEmulator, serveSftpgoEmulator } from '../../adapters/sftpgo/emulator/emulator.js';
import type { ServedEmulator } from '../../src/provider-kit/emulator-kit.js';
import { API_KEYS, KEYS } from '../helpers/gateway.js';
import { buildWorkerForTest, startWorkers, workerConfig, type RunningWorkers } from './harness.js';

const sftpgo = (baseUrl: string) => ({ onprem: { provider: 'sftpgo', baseUrl, sftpHost: 'sftp.example.com' } });

let workers: RunningWorkers;
let served: ServedEmulator;
let serial = 0;
const LIMITED_KEY = 'limited-worker-key-0123456789';

/** Each Worker's config: a good one per cache driver, and bad ones. */
function configs(upstream: string): Record<string, Record<string, string>> {
  const good = (cache: Record<string, unknown>) => {
    const { configText, secrets } = workerConfig(API_KEYS, { defaultBackend: 'onprem', cache, backends: sftpgo(upstream) });
    return { GATEWAY_CONFIG: configText, ...secrets };
  };
  const { configText: badUrl, secrets } = workerConfig(API_KEYS, { backends: sftpgo('ftp://files.example.com') });
  const { configText: redis } = workerConfig(API_KEYS, { cache: { driver: 'redis', url: 'redis://127.0.0.1:6379' }, backends: sftpgo(upstream) });
  const { configText: noKv } = workerConfig(API_KEYS, { cache: { driver: 'kv', kvBinding: 'OTHER_CACHE' }, backends: sftpgo(upstream) });
  const { configText: needsKey } = workerConfig(API_KEYS, { backends: sftpgo(upstream) });
  const limitedKeys = [...API_KEYS, { name: 'limited', key: LIMITED_KEY, scopes: ['read'], requestsPerMinute: 2 }];
  const throttled = workerConfig(limitedKeys, { defaultBackend: 'onprem', backends: sftpgo(upstream) }, { failedAuthPerMinute: 3 });
  return {
    memory: good({ driver: 'memory' }),
    none: good({ driver: 'none' }),
    kv: good({ driver: 'kv', ttlSeconds: 30 }),
    missing: {},
    'not-json': { GATEWAY_CONFIG: '{"auth": ' },
    'bad-field': { GATEWAY_CONFIG: badUrl, ...secrets },
    redis: { GATEWAY_CONFIG: redis, ...secrets },
    'no-kv': { GATEWAY_CONFIG: noKv, ...secrets },
    // The config names ${OPS_KEY} and the others, but no secret is bound.
    'missing-secret': { GATEWAY_CONFIG: needsKey },
    throttled: { GATEWAY_CONFIG: throttled.configText, ...throttled.secrets },
  };
}

beforeAll(async () => {
  served = await serveSftpgoEmulator(createSftpgoEmulator());
  const built = await buildWorkerForTest();
  workers = await startWorkers(built.bundlePath, configs(served.url));
}, 60_000);

afterAll(async () => {
  await workers?.dispose();
  await served?.close();
});

function call(worker: string, method: string, path: string, opts: { body?: unknown; key?: string | null; headers?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { ...opts.headers };
  const key = opts.key === undefined ? KEYS.ops : opts.key;
  if (key !== null) headers.authorization = `Bearer ${key}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  return fetch(new URL(path, workers.worker(worker).url), {
    method,
    headers,
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
  });
}

/** Log lines are read from workerd's stdout a moment after the answer: wait for them. */
async function logLines(match: (line: Record<string, unknown>) => boolean, atLeast = 1): Promise<Record<string, unknown>[]> {
  const found = () => workers.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter(match);
  for (let i = 0; i < 100 && found().length < atLeast; i++) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 100)); // and any late duplicate
  return found();
}

const newUser = () => ({ username: `wkr_cache_${String(++serial).padStart(4, '0')}`, accessLevel: 'read-only' });

describe('a missing or bad config', () => {
  it('without GATEWAY_CONFIG every request answers 500 invalid_configuration, with X-Request-Id, logged once', async () => {
    const answers = [
      await call('missing', 'GET', '/healthz', { key: null }),
      await call('missing', 'GET', '/v1/users'),
      await call('missing', 'POST', '/v1/users', { body: newUser() }),
      await call('missing', 'GET', '/openapi.json', { key: null, headers: { 'x-request-id': 'trace-cfg-1' } }),
    ];
    for (const res of answers) {
      expect(res.status).toBe(500);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      const body = await res.json();
      expect(body).toEqual({
        type: expect.stringMatching(/invalid_configuration$/),
        title: 'Invalid configuration',
        status: 500,
        detail: expect.stringContaining('GATEWAY_CONFIG'),
        code: 'invalid_configuration',
        requestId: res.headers.get('x-request-id'),
      });
      expect(body.requestId).toMatch(/\S/);
    }
    expect(answers[3]!.headers.get('x-request-id')).toBe('trace-cfg-1');
    const logged = await logLines((l) => l.level === 'error' && l.field === 'GATEWAY_CONFIG');
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ service: 'sftp-gateway', msg: expect.stringContaining('no demo mode on Workers') });
  });

  it.each([
    ['bad-field', 'backends.onprem.baseUrl', /http:\/\/ or https:\/\//],
    ['missing-secret', 'auth.apiKeys.0.key', /OPS_KEY is not set/],
    ['redis', 'cache.driver', /redis is not available on Cloudflare Workers/],
    ['no-kv', 'cache.kvBinding', /no KV namespace is bound as "OTHER_CACHE"/],
    ['not-json', '', /not valid JSON/],
  ])('%s → 500 whose detail names the field (%s)', async (worker, field, why) => {
    const res = await call(worker, 'GET', '/v1/users');
    expect(res.status).toBe(500);
    expect(res.headers.get('x-request-id')).toBeTruthy();
    const body = await res.json();
    expect(body.code).toBe('invalid_configuration');
    expect(body.detail).toMatch(why);
    if (field) expect(body.detail).toContain(`invalid configuration: ${field}: `);
    expect(body.requestId).toBe(res.headers.get('x-request-id'));
    // No secret of the config reaches the answer.
    for (const key of Object.values(KEYS)) expect(JSON.stringify(body)).not.toContain(key);
  });
});

describe('cache drivers', () => {
  it('memory: a list is cached in the isolate, and a write through it makes every list stale at once', async () => {
    const list = async () => {
      const res = await call('memory', 'GET', '/v1/users?limit=500');
      expect(res.status).toBe(200);
      return { cache: res.headers.get('x-cache'), names: ((await res.json()).data as { username: string }[]).map((u) => u.username) };
    };
    expect((await list()).cache).toBe('MISS');
    expect((await list()).cache).toBe('HIT');
    const created = await call('memory', 'POST', '/v1/users', { body: newUser() });
    expect(created.status).toBe(201);
    const user = await created.json();
    const afterCreate = await list();
    expect(afterCreate.cache).toBe('MISS');
    expect(afterCreate.names).toContain(user.username);
    expect((await call('memory', 'PATCH', `/v1/users/${user.id}`, { body: { status: 'disabled' } })).status).toBe(200);
    const res = await call('memory', 'GET', '/v1/users?limit=500');
    expect((await res.json()).data.find((u: { id: string }) => u.id === user.id).status).toBe('disabled');
    expect((await call('memory', 'DELETE', `/v1/users/${user.id}`)).status).toBe(204);
    expect((await list()).names).not.toContain(user.username);
  });

  it('none: every list reads the upstream (BYPASS)', async () => {
    for (let i = 0; i < 2; i++) {
      const res = await call('none', 'GET', '/v1/users');
      expect(res.status).toBe(200);
      expect(res.headers.get('x-cache')).toBe('BYPASS');
    }
  });

  it("kv: entries live in the KV namespace with at least KV's 60 s TTL; a write moves every list to a new key", async () => {
    const kv = await workers.worker('kv').kv('GATEWAY_CACHE');
    // Keys name the backend's identity: its name, then a fingerprint of its settings.
    const listKeys = async () => (await kv.list()).keys.filter((k) => /:list:onprem~[0-9a-f]+:/.test(k.name));
    const list = async () => (await call('kv', 'GET', '/v1/users')).headers.get('x-cache');

    expect(await list()).toBe('MISS');
    expect(await list()).toBe('HIT');
    const [first] = await listKeys();
    expect(first).toBeDefined();
    // ttlSeconds is 30 in the config: raised to KV's minimum of 60.
    expect(first!.expiration! - Date.now() / 1000).toBeGreaterThan(55);

    expect((await call('kv', 'POST', '/v1/users', { body: newUser() })).status).toBe(201);
    const generationKey = (await kv.list({ prefix: 'sftp-gateway:gen:onprem~' })).keys[0]?.name;
    expect(await kv.get(generationKey!)).toMatch(/^\d+$/);
    expect(await list()).toBe('MISS');
    const after = await listKeys();
    expect(after).toHaveLength(2);
    const generationOf = (name: string) => name.split(/:list:onprem~[0-9a-f]+:/)[1]!.split(':')[0];
    expect(new Set(after.map((k) => generationOf(k.name))).size).toBe(2);
    expect(await list()).toBe('HIT');
  });

  it('each isolate builds the app once, not per request', async () => {
    const built = await logLines((l) => l.msg === 'gateway built for this isolate', 3);
    expect(built.map((l) => l.cache).sort()).toEqual(['kv', 'memory', 'none']);
  });

  it('/healthz and /readyz answer 200 without a key', async () => {
    for (const worker of ['memory', 'kv']) {
      expect((await call(worker, 'GET', '/healthz', { key: null })).status).toBe(200);
      expect((await call(worker, 'GET', '/readyz', { key: null })).status).toBe(200);
    }
  });

  it('logs one JSON line per request, with the request id and without the API key', async () => {
    const res = await call('memory', 'GET', '/v1/backends', { headers: { 'x-request-id': 'trace-log-1' } });
    expect(res.status).toBe(200);
    const [line] = await logLines((l) => l.requestId === 'trace-log-1' && l.msg === 'request');
    expect(line).toMatchObject({ level: 'info', service: 'sftp-gateway', method: 'GET', status: 200, principal: 'ops' });
    expect(typeof line!.time).toBe('string');
    for (const key of Object.values(KEYS)) expect(workers.logs.join('\n')).not.toContain(key);
  });
});

describe('throttling in the isolate', () => {
  const from = (address: string, key?: string | null) => call('throttled', 'GET', '/v1/backends', { key, headers: { 'cf-connecting-ip': address } });

  it('counts failed authentications by CF-Connecting-IP: the address over the limit gets 429 with Retry-After, another does not', async () => {
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await from('203.0.113.10', 'wrong-key-0123456789abcdef')).status);
    expect(statuses).toEqual([401, 401, 401]);
    const refused = await from('203.0.113.10');
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    expect(await refused.json()).toMatchObject({ code: 'rate_limited' });
    expect((await from('203.0.113.11')).status).toBe(200);
    const [warning] = await logLines((l) => String(l.msg).startsWith('throttling an address'));
    expect(warning).toMatchObject({ level: 'warn', address: '203.0.113.10', failures: 3 });
  });

  it('limits a key\'s requests a minute, from any address', async () => {
    const statuses = [];
    for (const address of ['198.51.100.1', '198.51.100.2', '198.51.100.3']) statuses.push((await from(address, LIMITED_KEY)).status);
    expect(statuses).toEqual([200, 200, 429]);
  });
});
