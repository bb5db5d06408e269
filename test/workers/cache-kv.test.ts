/**
 * The `kv` store on a stand-in for a Workers KV namespace that keeps KV's rules (TTL ≥ 60 s,
 * keys ≤ 512 bytes), then the list cache on it as two isolates would share it. The real KV
 * (Miniflare's, in workerd) is exercised by workerd.test.ts and the conformance files here.
 */
import type { KVNamespace } from '@cloudflare/workers-types';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createNodeStore } from '../../src/node/store.js';
import { createKvStore, KV_MIN_TTL_SECONDS, type KvNamespaceLike } from '../../src/worker/kv-store.js';
import { ConfigError } from '../../src/config.js';
import { parseConfig } from '../../src/providers.js';
import { createLogger } from '../../src/observability/logger.js';
import { ListCache, type CachedRead } from '../../src/cache/list-cache.js';

// A real binding fits the store's view of it (a compile-time check).
const realBindingFits: (kv: KVNamespace) => KvNamespaceLike = (kv) => kv;
void realBindingFits;

/** An in-memory KV namespace with KV's limits, counting writes. */
function fakeKv() {
  const data = new Map<string, { value: string | Uint8Array; expiresAt: number }>();
  const writes: string[] = [];
  const kv = {
    async get(key: string, type?: 'arrayBuffer') {
      const hit = data.get(key);
      if (!hit || hit.expiresAt <= Date.now()) return null;
      const bytes = typeof hit.value === 'string' ? new TextEncoder().encode(hit.value) : hit.value;
      return type === 'arrayBuffer' ? bytes.slice().buffer : new TextDecoder().decode(bytes);
    },
    async put(key: string, value: string | ArrayBufferView, options?: { expirationTtl?: number }) {
      if (new TextEncoder().encode(key).byteLength > 512) throw new Error('KV PUT failed: 414 UTF-8 encoded length exceeds 512');
      const ttl = options?.expirationTtl;
      if (ttl !== undefined && ttl < 60) throw new Error(`KV PUT failed: 400 Invalid expiration_ttl of ${ttl}. Expiration TTL must be at least 60.`);
      writes.push(key);
      const stored = typeof value === 'string' ? value : new Uint8Array(value.buffer, value.byteOffset, value.byteLength).slice();
      data.set(key, { value: stored, expiresAt: ttl === undefined ? Infinity : Date.now() + ttl * 1000 });
    },
    async delete(key: string) {
      writes.push(key);
      data.delete(key);
    },
  } as KvNamespaceLike;
  return { kv, data, writes };
}

afterEach(() => vi.useRealTimers());

describe('kv store', () => {
  it("raises TTLs below KV's 60 s minimum, and keeps longer ones", async () => {
    const { kv, data } = fakeKv();
    const store = createKvStore(kv);
    await store.set('short', 'v', 30);
    await store.set('long', 'v', 300);
    const ttlOf = (k: string) => Math.round((data.get(k)!.expiresAt - Date.now()) / 1000);
    expect(ttlOf('short')).toBe(KV_MIN_TTL_SECONDS);
    expect(ttlOf('long')).toBe(300);
    expect(await store.get('short')).toBe('v');
    expect(await store.get('absent')).toBeUndefined();
  });

  it('incr leaves a new, larger generation every time, even twice in one millisecond', async () => {
    vi.useFakeTimers({ now: new Date('2026-05-01T00:00:00Z') });
    const { kv } = fakeKv();
    const store = createKvStore(kv);
    const seen: number[] = [];
    for (let i = 0; i < 5; i++) seen.push(await store.incr('gen'));
    for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThan(seen[i - 1]!);
    expect(await store.get('gen')).toBe(String(seen.at(-1)));
    // Another isolate's store reads it (no counter kept in memory).
    expect(await createKvStore(kv).get('gen')).toBe(String(seen.at(-1)));
  });

  it('a lock shorter than 60 s stays in the isolate: no KV write, held until deleted or expired', async () => {
    vi.useFakeTimers();
    const { kv, writes } = fakeKv();
    const store = createKvStore(kv);
    expect(await store.setIfAbsent('list:lock', '1', 5000)).toBe(true);
    expect(await store.setIfAbsent('list:lock', '1', 5000)).toBe(false);
    expect(await store.get('list:lock')).toBe('1');
    await store.del('list:lock');
    expect(await store.setIfAbsent('list:lock', '1', 5000)).toBe(true);
    vi.advanceTimersByTime(5001);
    expect(await store.get('list:lock')).toBeUndefined();
    expect(await store.setIfAbsent('list:lock', '1', 5000)).toBe(true);
    expect(writes).toEqual([]);
  });

  it('a lock of 60 s or more goes to KV, where another isolate sees it; a stored value counts as present', async () => {
    const { kv } = fakeKv();
    const a = createKvStore(kv);
    const b = createKvStore(kv);
    expect(await a.setIfAbsent('idem', 'pending', 120_000)).toBe(true);
    expect(await b.setIfAbsent('idem', 'pending', 120_000)).toBe(false);
    expect(await b.get('idem')).toBe('pending');
    await a.set('idem', 'the answer', 86_400);
    expect(await b.setIfAbsent('idem', 'pending', 120_000)).toBe(false);
    expect(await b.get('idem')).toBe('the answer');
    await b.del('idem');
    expect(await a.setIfAbsent('idem', 'pending', 120_000)).toBe(true);
  });

  it('stores keys longer than 512 bytes under a hash', async () => {
    const { kv, data } = fakeKv();
    const store = createKvStore(kv);
    const long = `sftp-gateway:list:onprem:1:${'u'.repeat(600)}`;
    const other = `${long.slice(0, -1)}v`;
    await store.set(long, 'a', 60);
    await store.set(other, 'b', 60);
    expect([await store.get(long), await store.get(other)]).toEqual(['a', 'b']);
    for (const k of data.keys()) expect(new TextEncoder().encode(k).byteLength).toBeLessThanOrEqual(512);
  });
});

describe('the list cache on kv, as two isolates share it', () => {
  const logger = createLogger({ level: 'silent' });
  const cacheOn = (kv: KvNamespaceLike) => new ListCache(createKvStore(kv), { ttlSeconds: 30, keyPrefix: 't:', logger });
  /** A read with its body as text: a hit's comes as the stored UTF-8 bytes. */
  const asText = async (read: Promise<CachedRead>) => {
    const r = await read;
    return { ...r, body: typeof r.body === 'string' ? r.body : new TextDecoder().decode(r.body) };
  };

  it('one isolate fills, the other hits; a write through either makes both miss at once', async () => {
    const { kv } = fakeKv();
    const [a, b] = [cacheOn(kv), cacheOn(kv)];
    let upstream = 'v1';
    const load = async () => upstream;
    expect(await asText(a.read('onprem', 'users?limit=100', load))).toMatchObject({ body: 'v1', cache: 'MISS' });
    expect(await asText(b.read('onprem', 'users?limit=100', load))).toMatchObject({ body: 'v1', cache: 'HIT' });
    upstream = 'v2';
    await b.invalidate('onprem');
    expect(await asText(a.read('onprem', 'users?limit=100', load))).toMatchObject({ body: 'v2', cache: 'MISS' });
    expect(await asText(b.read('onprem', 'users?limit=100', load))).toMatchObject({ body: 'v2', cache: 'HIT' });
    // Another backend's lists are untouched.
    expect(await asText(a.read('togo', 'users', load))).toMatchObject({ cache: 'MISS' });
    await a.invalidate('onprem');
    expect(await asText(b.read('togo', 'users', load))).toMatchObject({ cache: 'HIT' });
  });

  it('a miss costs one KV write (the entry), not a lock written and deleted', async () => {
    const { kv, writes } = fakeKv();
    await cacheOn(kv).read('onprem', 'users', async () => '[]');
    expect(writes).toEqual(['t:list:onprem:0:users']);
  });
});

describe('the kv driver in the config', () => {
  const config = (cache: Record<string, unknown>) =>
    parseConfig(
      JSON.stringify({
        auth: { apiKeys: [{ name: 'ops', key: 'ops-key-0123456789abcdef', scopes: ['read'] }] },
        cache,
        backends: { onprem: { provider: 'sftpgo', baseUrl: 'http://127.0.0.1:8081' } },
      }),
      {},
    );

  it('takes a binding name, absent = GATEWAY_CACHE (applied by the Worker)', () => {
    const { cache } = config({ driver: 'kv' });
    expect(cache.driver).toBe('kv');
    expect(cache.kvBinding).toBeUndefined();
    expect(config({ driver: 'kv', kvBinding: 'LIST_CACHE' }).cache.kvBinding).toBe('LIST_CACHE');
    expect(() => config({ driver: 'kv', kvBinding: 'not-a-binding' })).toThrow(/invalid configuration: cache\.kvBinding: must be a binding name/);
  });

  it('is refused on Node, naming cache.driver (KV exists only on Workers)', async () => {
    const err = await createNodeStore(config({ driver: 'kv' }).cache, createLogger({ level: 'silent' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toMatch(/^invalid configuration: cache\.driver: the kv driver needs Cloudflare Workers KV/);
  });
});
