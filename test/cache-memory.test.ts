import { afterEach, describe, expect, it, vi } from 'vitest';
import { createSftpgoEmulator } from '../adapters/sftpgo/emulator.js';
import { createMemoryStore } from '../src/cache.js';
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
