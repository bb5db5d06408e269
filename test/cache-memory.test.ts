import { afterEach, describe, expect, it, vi } from 'vitest';
import { createSftpgoEmulator } from '../adapters/sftpgo/emulator/emulator.js';
import { createMemoryStore, noStore, type CacheStore } from '../src/cache/store.js';
import { ListCache } from '../src/cache/list-cache.js';
import { createLogger } from '../src/observability/logger.js';
import { createTestGateway } from './helpers/gateway.js';

afterEach(() => vi.useRealTimers());

describe('memory store', () => {
  it('evicts the least recently used entry beyond its size', async () => {
    const store = createMemoryStore(2);
    await store.set('a', '1', 60);
    await store.set('b', '2', 60);
    expect(await store.get('a')).toBe('1'); // a is now the most recent
    await store.set('c', '3', 60);
    expect([await store.get('a'), await store.get('b'), await store.get('c')]).toEqual(['1', undefined, '3']);
  });

  it('expires entries after their TTL', async () => {
    vi.useFakeTimers();
    const store = createMemoryStore();
    await store.set('k', 'v', 2);
    vi.advanceTimersByTime(1999);
    expect(await store.get('k')).toBe('v');
    vi.advanceTimersByTime(2);
    expect(await store.get('k')).toBeUndefined();
  });

  it('sets a lock only when absent, and keeps generations out of the LRU', async () => {
    const store = createMemoryStore(1);
    expect(await store.setIfAbsent('lock', '1', 1000)).toBe(true);
    expect(await store.setIfAbsent('lock', '1', 1000)).toBe(false);
    await store.del('lock');
    expect(await store.setIfAbsent('lock', '1', 1000)).toBe(true);
    expect(await store.incr('gen')).toBe(1);
    await store.set('x', 'y', 60); // would evict a generation kept in the LRU
    expect(await store.incr('gen')).toBe(2);
    expect(await store.get('gen')).toBe('2');
  });

  it('keeps bytes as given, apart from text, in the same LRU', async () => {
    const store = createMemoryStore(2);
    const bytes = new TextEncoder().encode('[{"n":"Zoë"}]');
    await store.setBytes('list', bytes, 60);
    expect(await store.getBytes('list')).toEqual(bytes);
    expect(await store.get('list')).toBeUndefined(); // bytes are not read as text, nor text as bytes
    await store.set('text', 't', 60);
    expect(await store.getBytes('text')).toBeUndefined();
    await store.set('other', 'o', 60); // evicts the least recently used: the bytes
    expect(await store.getBytes('list')).toBeUndefined();
  });
});

describe('cache drivers through the API', () => {
  const backends = { onprem: { provider: 'sftpgo', baseUrl: 'http://sftpgo.test' } };

  it('memory: MISS then HIT, and a write through the gateway is seen at once', async () => {
    const emu = createSftpgoEmulator();
    const gw = createTestGateway({ backends, fetchFor: () => emu.fetch as typeof fetch });
    expect((await gw.call('GET', '/v1/users')).headers.get('x-cache')).toBe('MISS');
    expect((await gw.call('GET', '/v1/users')).headers.get('x-cache')).toBe('HIT');
    await gw.call('POST', '/v1/users', { body: { username: 'memory_user', accessLevel: 'full' } });
    const after = await gw.json('GET', '/v1/users');
    expect(after.headers.get('x-cache')).toBe('MISS');
    expect(after.body.data).toHaveLength(1);
  });

  it('none: every list is BYPASS and reads the upstream', async () => {
    const emu = createSftpgoEmulator();
    const gw = createTestGateway({ backends, cache: 'none', fetchFor: () => emu.fetch as typeof fetch });
    for (let i = 0; i < 3; i++) expect((await gw.call('GET', '/v1/users')).headers.get('x-cache')).toBe('BYPASS');
    expect(emu.requests.filter((r) => r.path === '/api/v1/user')).toHaveLength(3);
    expect((await gw.json('GET', '/readyz', { key: null })).body.cache).toEqual({ driver: 'none', state: 'disabled' });
  });
});

describe('ListCache.lookup and peek (the stored answer, never a load)', () => {
  const silent = createLogger({ level: 'silent' });

  function cacheOver(store: CacheStore) {
    const outcomes: string[] = [];
    const cache = new ListCache(store, {
      ttlSeconds: 60, keyPrefix: 't:', logger: silent, onOutcome: (backend, outcome) => outcomes.push(`${backend} ${outcome}`),
    });
    return { cache, outcomes };
  }

  it('hands a miss to read, which loads without looking again; a miss of another entry stands for nothing', async () => {
    const { cache, outcomes } = cacheOver(createMemoryStore(10));
    const found = await cache.lookup('b', 'k');
    expect(found).toEqual({ miss: expect.objectContaining({ backend: 'b', key: 'k' }) });
    let loads = 0;
    expect((await cache.read('b', 'k', async () => `[${++loads}]`, false, found.miss)).cache).toBe('MISS');
    await cache.read('b', 'other', async () => '[9]');
    // Handed to a read of another entry, the miss is ignored: that entry is read, and is stored.
    const other = await cache.read('b', 'other', async () => '[10]', false, found.miss);
    expect([other.cache, new TextDecoder().decode(other.body as Uint8Array)]).toEqual(['HIT', '[9]']);
    expect((await cache.lookup('b', 'k')).hit?.cache).toBe('HIT');
    expect(loads).toBe(1);
    expect(outcomes).toEqual(['b MISS', 'b MISS', 'b HIT', 'b HIT']);
  });

  it('finds what a read stored, under the current generation only, and reports each hit', async () => {
    const { cache, outcomes } = cacheOver(createMemoryStore(10));
    expect(await cache.peek('b', 'k')).toBeUndefined();
    await cache.read('b', 'k', async () => '[1,2]');
    const hit = await cache.peek('b', 'k');
    expect(hit?.cache).toBe('HIT');
    expect(new TextDecoder().decode(hit?.body as Uint8Array)).toBe('[1,2]');
    expect(hit?.ageSeconds).toBe(0);
    expect(await cache.peek('other', 'k')).toBeUndefined();
    await cache.invalidate('b');
    expect(await cache.peek('b', 'k')).toBeUndefined();
    expect(outcomes).toEqual(['b MISS', 'b HIT']);
  });

  it('shares one store read among overlapping peeks, and leaves a running load to read()', async () => {
    const store = createMemoryStore(10);
    let reads = 0;
    const counted: CacheStore = { ...store, getBytes: (key) => (reads++, store.getBytes(key)) };
    const { cache } = cacheOver(counted);
    await cache.read('b', 'k', async () => '[1]');
    reads = 0;
    const peeks = await Promise.all([cache.peek('b', 'k'), cache.peek('b', 'k'), cache.peek('b', 'k')]);
    expect(peeks.map((p) => p?.cache)).toEqual(['HIT', 'HIT', 'HIT']);
    expect(reads).toBe(1);

    let finish!: (text: string) => void;
    const loading = cache.read('b', 'slow', () => new Promise<string>((resolve) => (finish = resolve)), true);
    await vi.waitFor(() => expect(finish).toBeDefined());
    expect(await cache.peek('b', 'slow')).toBeUndefined();
    finish('[2]');
    await loading;
    expect((await cache.peek('b', 'slow'))?.cache).toBe('HIT');
  });

  it('answers undefined when the store fails, and bypasses it from then on as read() does', async () => {
    const failing: CacheStore = { ...createMemoryStore(10), get: async () => { throw new Error('connection lost'); } };
    const { cache, outcomes } = cacheOver(failing);
    expect(await cache.peek('b', 'k')).toBeUndefined();
    expect(cache.state()).toBe('down');
    expect(await cache.read('b', 'k', async () => '[3]')).toEqual({ body: '[3]', cache: 'BYPASS' });
    expect(outcomes).toEqual(['b BYPASS']);
  });

  it('answers undefined without a store', async () => {
    const { cache } = cacheOver(noStore);
    await cache.read('b', 'k', async () => '[1]');
    expect(await cache.peek('b', 'k')).toBeUndefined();
  });
});

describe('ListCache.readValue (a value cut into answers: stored after them)', () => {
  const silent = createLogger({ level: 'silent' });
  const nextMacrotask = () => new Promise((resolve) => setImmediate(resolve));

  /** A store shared by instances, as Redis is (the memory store's own behaviour is tested apart). */
  const sharedStore = (): CacheStore => ({ ...createMemoryStore(10), driver: 'redis' });

  function setUp(opts: { afterAnswer?: boolean; store?: CacheStore } = {}) {
    const store = opts.store ?? sharedStore();
    const counts = { loads: 0, texts: 0, stored: 0, decoded: 0 };
    const counted: CacheStore = { ...store, setBytes: (key, bytes, ttl) => (counts.stored++, store.setBytes(key, bytes, ttl)) };
    const outcomes: string[] = [];
    const cache = new ListCache(counted, {
      ttlSeconds: 60, keyPrefix: 't:', logger: silent, onOutcome: (backend, outcome) => outcomes.push(`${backend} ${outcome}`),
      ...(opts.afterAnswer === false ? {} : { afterAnswer: setImmediate }),
    });
    const codec = {
      toText: (value: { users: string[] }) => (counts.texts++, JSON.stringify(value)),
      fromBytes: (bytes: Uint8Array) => (counts.decoded++, JSON.parse(new TextDecoder().decode(bytes)) as { users: string[] }),
    };
    const load = async () => (counts.loads++, { users: ['ann', 'zoë'] });
    return { cache, codec, load, counts, outcomes };
  }

  it('answers with the loaded value first, stores its text after, and reads it back as a HIT', async () => {
    const { cache, codec, load, counts, outcomes } = setUp();
    const loaded = await cache.readValue('b', 'all', load, codec);
    expect(loaded).toEqual({ users: ['ann', 'zoë'] });
    expect(counts).toEqual({ loads: 1, texts: 0, stored: 0, decoded: 0 }); // nothing written before the answer
    await nextMacrotask();
    expect(counts).toEqual({ loads: 1, texts: 1, stored: 1, decoded: 0 });
    const hit = await cache.readValue('b', 'all', load, codec);
    expect(hit).toBe(loaded); // the value this process stored: kept, not parsed again
    expect(counts).toEqual({ loads: 1, texts: 1, stored: 1, decoded: 0 });
    expect(outcomes).toEqual(['b MISS', 'b HIT']);
  });

  it('a memory store keeps the value itself: no text of it is made, and a read gets the same object', async () => {
    const { cache, codec, load, counts } = setUp({ store: createMemoryStore(10), afterAnswer: false });
    const loaded = await cache.readValue('b', 'all', load, codec);
    expect(await cache.readValue('b', 'all', load, codec)).toBe(loaded);
    expect(counts).toEqual({ loads: 1, texts: 0, stored: 1, decoded: 0 });
    // Kept for 8 values at most: one pushed out is loaded again, never read from an empty marker.
    for (let i = 0; i < 8; i++) await cache.readValue('b', `other-${i}`, load, codec);
    expect(await cache.readValue('b', 'all', load, codec)).toEqual({ users: ['ann', 'zoë'] });
    expect(counts.loads).toBe(10);
  });

  it('decodes an entry stored by another instance once, and again only once it is stored anew', async () => {
    const shared = sharedStore();
    const writer = setUp({ store: shared, afterAnswer: false });
    const reader = setUp({ store: shared });
    await writer.cache.readValue('b', 'all', writer.load, writer.codec);
    const first = await reader.cache.readValue('b', 'all', reader.load, reader.codec);
    const second = await reader.cache.readValue('b', 'all', reader.load, reader.codec);
    expect(second).toBe(first);
    expect(reader.counts).toEqual({ loads: 0, texts: 0, stored: 0, decoded: 1 });
    // The writer reloads (a refresh) and stores anew: the reader sees the new entry and decodes it.
    await new Promise((r) => setTimeout(r, 2)); // another stored-at millisecond
    await writer.cache.readValue('b', 'all', async () => ({ users: ['ann', 'bob', 'zoë'] }), writer.codec, true);
    expect(await reader.cache.readValue('b', 'all', reader.load, reader.codec)).toEqual({ users: ['ann', 'bob', 'zoë'] });
    expect(reader.counts.decoded).toBe(2);
  });

  it('hands the loaded value to reads that overlap it until it is stored: one load, one text', async () => {
    const { cache, codec, load, counts } = setUp();
    const [a, b] = await Promise.all([cache.readValue('b', 'all', load, codec), cache.readValue('b', 'all', load, codec)]);
    const afterAnswer = await cache.readValue('b', 'all', load, codec); // answered, not yet stored
    expect(b).toBe(a);
    expect(afterAnswer).toBe(a);
    await nextMacrotask();
    expect(counts).toEqual({ loads: 1, texts: 1, stored: 1, decoded: 0 });
  });

  it('stores before answering without afterAnswer (the Worker)', async () => {
    const { cache, codec, load, counts } = setUp({ afterAnswer: false });
    await cache.readValue('b', 'all', load, codec);
    expect(counts).toEqual({ loads: 1, texts: 1, stored: 1, decoded: 0 });
  });

  it('a write before the value is stored is not hidden by it: the next read loads again', async () => {
    const { cache, codec, load, counts } = setUp();
    await cache.readValue('b', 'all', load, codec);
    await cache.invalidate('b');
    await cache.readValue('b', 'all', load, codec);
    expect(counts.loads).toBe(2);
    await nextMacrotask();
    await cache.readValue('b', 'all', load, codec);
    expect(counts.loads).toBe(2); // the second load's value is the one read back
  });

  it('a failed load stores nothing and frees the key for the next read', async () => {
    const { cache, codec, load, counts } = setUp();
    await expect(cache.readValue('b', 'all', async () => { throw new Error('upstream down'); }, codec)).rejects.toThrow('upstream down');
    expect(await cache.readValue('b', 'all', load, codec)).toEqual({ users: ['ann', 'zoë'] });
    await nextMacrotask();
    expect(counts).toEqual({ loads: 1, texts: 1, stored: 1, decoded: 0 });
  });

  it('a store that fails after the answer opens the bypass window, and nothing is thrown', async () => {
    const failing: CacheStore = { ...createMemoryStore(10), setBytes: async () => { throw new Error('connection lost'); } };
    const { cache, codec, load, outcomes } = setUp({ store: failing });
    expect(await cache.readValue('b', 'all', load, codec)).toEqual({ users: ['ann', 'zoë'] });
    expect(cache.state()).toBe('ok');
    await nextMacrotask();
    await vi.waitFor(() => expect(cache.state()).toBe('down'));
    await cache.readValue('b', 'all', load, codec);
    expect(outcomes).toEqual(['b MISS', 'b BYPASS']);
  });
});
