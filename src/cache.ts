/**
 * The list cache behind one small interface (CONTRACT §5). Values are serialized, secret-free
 * list answers; every successful write bumps the backend's generation, which is part of every
 * key, so a write makes that backend's cached lists unreachable at once.
 */
export interface CachedValue {
  value: string;
  /** epoch ms when stored, for the `Age` header */
  storedAt: number;
}

export interface ListCache {
  readonly driver: 'memory' | 'redis' | 'none';
  /** The backend's current generation, part of every list key. */
  generation(backend: string): Promise<number>;
  get(key: string): Promise<CachedValue | undefined>;
  set(key: string, value: string, ttlSeconds: number): Promise<void>;
  /** Makes every cached list of the backend stale. */
  invalidate(backend: string): Promise<void>;
  /** For /readyz. */
  state(): 'ok' | 'degraded' | 'disabled';
  close(): Promise<void>;
}

export const noCache: ListCache = {
  driver: 'none',
  generation: async () => 0,
  get: async () => undefined,
  set: async () => {},
  invalidate: async () => {},
  state: () => 'disabled',
  close: async () => {},
};

/** A bounded LRU with TTL in process memory (a Map keeps insertion order: oldest first). */
export function createMemoryCache(maxEntries = 1000): ListCache {
  const entries = new Map<string, CachedValue & { expiresAt: number }>();
  const generations = new Map<string, number>();
  return {
    driver: 'memory',
    generation: async (backend) => generations.get(backend) ?? 0,
    async get(key) {
      const hit = entries.get(key);
      if (!hit) return undefined;
      entries.delete(key);
      if (hit.expiresAt <= Date.now()) return undefined;
      entries.set(key, hit); // most recently used goes last
      return hit;
    },
    async set(key, value, ttlSeconds) {
      const now = Date.now();
      entries.delete(key);
      entries.set(key, { value, storedAt: now, expiresAt: now + ttlSeconds * 1000 });
      while (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
    },
    async invalidate(backend) {
      generations.set(backend, (generations.get(backend) ?? 0) + 1);
    },
    state: () => 'ok',
    close: async () => entries.clear(),
  };
}
