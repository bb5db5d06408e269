/**
 * The `redis` store, with ioredis. Node only: the Workers entry never imports this file.
 * Commands fail fast (a short timeout, no offline queue, no retries per command) so that a slow
 * or dead Redis costs a request milliseconds, not seconds: the list cache then bypasses it.
 */
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { CacheStore } from './cache.js';

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

export function createRedisStore(opts: RedisStoreOptions, onError: (err: Error) => void = () => {}): CacheStore {
  const client = createRedisClient(opts);
  const timeoutMs = opts.commandTimeoutMs ?? 250;
  // ioredis emits connection errors as events: without a listener they would crash the process.
  client.on('error', onError);

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

  return {
    driver: 'redis',
    async get(key) {
      await connected();
      return (await client.get(key)) ?? undefined;
    },
    async set(key, value, ttlSeconds) {
      await connected();
      await client.set(key, value, 'EX', ttlSeconds);
    },
    async getBytes(key) {
      await connected();
      // Node's Buffers are never over a SharedArrayBuffer.
      return ((await client.getBuffer(key)) ?? undefined) as Uint8Array<ArrayBuffer> | undefined;
    },
    async setBytes(key, value, ttlSeconds) {
      await connected();
      // A Buffer over the same memory: ioredis writes Buffers as they are, other views as text.
      await client.set(key, Buffer.from(value.buffer, value.byteOffset, value.byteLength), 'EX', ttlSeconds);
    },
    async setIfAbsent(key, value, ttlMs) {
      await connected();
      return (await client.set(key, value, 'PX', ttlMs, 'NX')) === 'OK';
    },
    async incr(key) {
      await connected();
      return client.incr(key);
    },
    async del(key) {
      await connected();
      await client.del(key);
    },
    async close() {
      client.disconnect();
    },
  };
}
