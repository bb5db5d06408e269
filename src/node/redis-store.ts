/**
 * The `redis` store, with ioredis. Node only: the Workers entry never imports this file.
 * Commands fail fast (a short timeout, no offline queue, no retries per command) so that a slow
 * or dead Redis costs a request milliseconds, not seconds: the list cache then bypasses it.
 */
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { CacheStore, StoreState } from '../cache/store.js';

export interface RedisStoreOptions {
  /** `redis://[:password@]host:port/db` or `rediss://…` — a single server, as ioredis takes it. */
  url?: string;
  /** Redis Cluster: the seed nodes' URLs (`redis://host:port`). */
  clusterNodes?: string[];
  /** Redis Sentinel: the sentinels and the master group's name. */
  sentinels?: { host: string; port: number }[];
  sentinelName?: string;
  /** Per command; after it the command fails and the cache is bypassed. @default 250 */
  commandTimeoutMs?: number;
}

const failFast = (timeoutMs: number): RedisOptions => ({
  commandTimeout: timeoutMs,
  connectTimeout: Math.max(timeoutMs, 1000),
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  // Keep reconnecting in the background, at most every 2 s, so service resumes by itself.
  retryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 2000),
  lazyConnect: false,
});

/** The ioredis client for the configured topology (exported so tests can see the options). */
export function createRedisClient(opts: RedisStoreOptions): Redis | Cluster {
  const base = failFast(opts.commandTimeoutMs ?? 250);
  if (opts.clusterNodes?.length) {
    return new Cluster(opts.clusterNodes, { redisOptions: base, enableOfflineQueue: false, lazyConnect: false });
  }
  if (opts.sentinels?.length) {
    return new Redis({ ...base, sentinels: opts.sentinels, name: opts.sentinelName ?? 'mymaster' });
  }
  if (!opts.url) throw new Error('cache.url is required for the redis driver');
  return new Redis(opts.url, base);
}

/** Each Redis store's client, for what shares its connection (the Node entry's limiters). */
const clients = new WeakMap<CacheStore, Redis | Cluster>();

/** The ioredis client behind a store made by `createRedisStore`; undefined for any other store. */
export function redisClientOf(store: CacheStore): Redis | Cluster | undefined {
  return clients.get(store);
}

export function createRedisStore(opts: RedisStoreOptions, onError: (err: Error) => void = () => {}): CacheStore {
  const client = createRedisClient(opts);
  const timeoutMs = opts.commandTimeoutMs ?? 250;
  // ioredis emits connection errors as events: without a listener they would crash the process.
  client.on('error', onError);
  // Readiness: ok only once Redis has answered (its ready check, or a command) since the last failure.
  let answered = false;
  let everAnswered = false;
  client.on('ready', () => (answered = everAnswered = true));
  for (const event of ['error', 'close', 'end'] as const) client.on(event, () => (answered = false));
  /** A command's outcome is the latest word on whether Redis answers. */
  async function tracked<T>(command: () => Promise<T>): Promise<T> {
    try {
      const result = await command();
      answered = everAnswered = true;
      return result;
    } catch (err) {
      answered = false;
      throw err;
    }
  }

  /**
   * Without an offline queue a command sent while (re)connecting fails at once; wait for the
   * connection instead, but no longer than one command may take.
   */
  async function connected(): Promise<void> {
    if (client.status === 'ready') return;
    // Down and retrying in the background: fail now rather than make the caller wait.
    if (client.status !== 'connecting' && client.status !== 'connect' && client.status !== 'wait') {
      throw new Error(`redis not connected (${client.status})`);
    }
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        client.off('ready', onReady);
        reject(new Error(`redis not connected within ${timeoutMs} ms (${client.status})`));
      }, timeoutMs);
      const onReady = () => {
        clearTimeout(timer);
        resolve();
      };
      client.once('ready', onReady);
    });
  }

  const store: CacheStore = {
    driver: 'redis',
    get: (key) => tracked(async () => {
      await connected();
      return (await client.get(key)) ?? undefined;
    }),
    set: (key, value, ttlSeconds) => tracked(async () => {
      await connected();
      await client.set(key, value, 'EX', ttlSeconds);
    }),
    getBytes: (key) => tracked(async () => {
      await connected();
      // Node's Buffers are never over a SharedArrayBuffer.
      return ((await client.getBuffer(key)) ?? undefined) as Uint8Array<ArrayBuffer> | undefined;
    }),
    setBytes: (key, value, ttlSeconds) => tracked(async () => {
      await connected();
      // A Buffer over the same memory: ioredis writes Buffers as they are, other views as text.
      await client.set(key, Buffer.from(value.buffer, value.byteOffset, value.byteLength), 'EX', ttlSeconds);
    }),
    setIfAbsent: (key, value, ttlMs) => tracked(async () => {
      await connected();
      return (await client.set(key, value, 'PX', ttlMs, 'NX')) === 'OK';
    }),
    incr: (key) => tracked(async () => {
      await connected();
      return client.incr(key);
    }),
    del: (key) => tracked(async () => {
      await connected();
      await client.del(key);
    }),
    async close() {
      client.disconnect();
    },
    /** `connecting` only on the way to a first answer; once Redis has failed, `down` until it answers again. */
    state(): StoreState {
      if (answered) return 'ok';
      return !everAnswered && CONNECTING.has(client.status) ? 'connecting' : 'down';
    },
  };
  clients.set(store, client);
  return store;
}

/** ioredis statuses of a client on its way to a connection (the first one, or again). */
const CONNECTING: ReadonlySet<string> = new Set(['wait', 'connecting', 'connect', 'reconnecting']);
