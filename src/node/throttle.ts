/**
 * The Node entry's limiters and client address (src/security/throttle.ts). With the Redis cache, counters
 * live in Redis under the cache's key prefix, so every instance sharing it counts together; a
 * Redis command that fails or finds no connection falls back at once to this instance's memory.
 */
import type { HttpBindings } from '@hono/node-server';
import type { Context } from 'hono';
import { RateLimiterMemory, RateLimiterRedis } from 'rate-limiter-flexible';
import type { CacheStore } from '../cache/store.js';
import { redisClientOf } from './redis-store.js';
import { memoryLimiters } from '../security/throttle-memory.js';
import { WINDOW_SECONDS, type LimiterFactory } from '../security/throttle.js';

export function nodeLimiters(store: CacheStore, keyPrefix: string): LimiterFactory {
  const client = redisClientOf(store);
  if (!client) return memoryLimiters;
  return (name, points) =>
    new RateLimiterRedis({
      storeClient: client,
      keyPrefix: `${keyPrefix}throttle:${name}`,
      points,
      duration: WINDOW_SECONDS,
      // Without a connection, count here rather than wait for one (the cache's client queues nothing).
      rejectIfRedisNotReady: true,
      insuranceLimiter: new RateLimiterMemory({ keyPrefix: name, points, duration: WINDOW_SECONDS }),
    });
}

/** The socket's peer: what counts as the client's address unless `server.trustProxy` says otherwise. */
export function socketPeer(c: Context): string | undefined {
  return (c.env as Partial<HttpBindings> | undefined)?.incoming?.socket.remoteAddress;
}
