/**
 * Builds the configured cache store for Node. The redis store is imported only when configured;
 * `kv` is refused (a ConfigError): Workers KV exists only on Cloudflare Workers (src/worker/main.ts).
 */
import { createMemoryStore, noStore, type CacheStore } from '../cache/store.js';
import { ConfigError, type GatewayConfig } from '../config.js';
import type { Logger } from '../observability/logger.js';

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
    case 'kv':
      throw new ConfigError('cache.driver', 'the kv driver needs Cloudflare Workers KV: on Node use memory, redis or none');
    case 'redis': {
      const { createRedisStore } = await import('./redis-store.js');
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
