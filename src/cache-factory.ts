/** Builds the configured cache store for Node. The redis store is imported only when configured. */
import { createMemoryStore, noStore, type CacheStore } from './cache.js';
import type { GatewayConfig } from './config.js';
import type { Logger } from './logger.js';

/** ioredis reports every failed reconnect: log the first, then at most one a minute. */
function throttledWarn(logger: Logger, everyMs = 60_000) {
  let last = 0;
  return (err: Error) => {
    if (Date.now() - last < everyMs) return;
    last = Date.now();
    logger.warn({ err: err.message }, 'redis connection error (the cache is bypassed while it lasts)');
  };
}

export async function createNodeStore(cache: GatewayConfig['cache'], logger: Logger): Promise<CacheStore> {
  switch (cache.driver) {
    case 'memory':
      return createMemoryStore(cache.maxEntries);
    case 'none':
      return noStore;
    case 'redis': {
      const { createRedisStore } = await import('./cache-redis.js');
      return createRedisStore(
        {
          url: cache.url,
          clusterNodes: cache.clusterNodes,
          sentinels: cache.sentinels,
          sentinelName: cache.sentinelName,
          commandTimeoutMs: cache.commandTimeoutMs,
        },
        throttledWarn(logger),
      );
    }
  }
}
