/**
 * The `kv` store: the list cache on a Cloudflare Workers KV namespace (Workers only).
 *
 * KV is not Redis, and this store says so rather than pretending:
 *
 * - no atomic INCR: `incr` reads the generation and writes a new one, time-based and random
 *   (`max(previous + 1, now × 1000 + random)`), so two writers racing still each leave a value
 *   no list key has used before, and every list key changes;
 * - no SET NX: `setIfAbsent` reads, then writes (best effort: two isolates racing may both win);
 * - a TTL of at least 60 s: shorter TTLs are raised to 60 s — but a lock shorter than that (the
 *   list cache's 5 s load lock) is kept in this isolate only: KV cannot expire it in time, and
 *   writing then deleting it on every miss would meet KV's one-write-per-second-per-key limit.
 *   The list cache's single-flight already joins concurrent misses within an isolate. Longer
 *   ones (an idempotency key's pending marker) go to KV, where other isolates see them;
 * - eventually consistent: a write is visible at once in the location that made it, elsewhere
 *   after KV propagates it (up to ~60 s). docs/workers.md says what that means for
 *   read-your-writes.
 */
import type { CacheStore } from '../cache/store.js';

/** The part of a Workers KV namespace binding (`KVNamespace`) this store uses. */
export interface KvNamespaceLike {
  get(key: string): Promise<string | null>;
  get(key: string, type: 'arrayBuffer'): Promise<ArrayBuffer | null>;
  put(key: string, value: string | ArrayBufferView, options?: { expirationTtl?: number }): Promise<void>;
  delete(key: string): Promise<void>;
}

/** KV refuses `expirationTtl` below 60 seconds. */
export const KV_MIN_TTL_SECONDS = 60;
/** KV keys are at most 512 bytes; longer ones are stored under a hash. */
const KV_MAX_KEY_BYTES = 512;

/** True for something that looks like a KV namespace binding (the Worker checks its config with it). */
export function isKvNamespace(value: unknown): value is KvNamespaceLike {
  const v = value as Partial<KvNamespaceLike> | null | undefined;
  return typeof v?.get === 'function' && typeof v.put === 'function' && typeof v.delete === 'function';
}

/**
 * @example
 * const store = createKvStore(env.GATEWAY_CACHE);
 * const cache = new ListCache(store, { ttlSeconds: 60, keyPrefix: 'sftp-gateway:', logger });
 */
export function createKvStore(kv: KvNamespaceLike): CacheStore {
  const encoder = new TextEncoder();
  /** Locks too short for KV, held by this isolate: key → value and expiry (ms). */
  const localLocks = new Map<string, { value: string; until: number }>();

  async function kvKey(key: string): Promise<string> {
    if (encoder.encode(key).byteLength <= KV_MAX_KEY_BYTES) return key;
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(key)));
    const hex = [...digest].map((b) => b.toString(16).padStart(2, '0')).join('');
    return `${key.slice(0, 100)}#${hex}`;
  }

  function localLock(key: string): string | undefined {
    const lock = localLocks.get(key);
    if (lock && lock.until <= Date.now()) localLocks.delete(key);
    return lock && lock.until > Date.now() ? lock.value : undefined;
  }

  /** Drops expired locks (a lock whose load failed to store is never deleted). */
  function sweep() {
    const now = Date.now();
    for (const [k, lock] of localLocks) if (lock.until <= now) localLocks.delete(k);
  }

  const ttl = (seconds: number) => Math.max(KV_MIN_TTL_SECONDS, Math.ceil(seconds));

  return {
    driver: 'kv',
    async get(key) {
      return localLock(key) ?? (await kv.get(await kvKey(key))) ?? undefined;
    },
    async set(key, value, ttlSeconds) {
      await kv.put(await kvKey(key), value, { expirationTtl: ttl(ttlSeconds) });
    },
    async getBytes(key) {
      const value = await kv.get(await kvKey(key), 'arrayBuffer');
      return value === null ? undefined : new Uint8Array(value);
    },
    async setBytes(key, value, ttlSeconds) {
      await kv.put(await kvKey(key), value, { expirationTtl: ttl(ttlSeconds) });
    },
    async setIfAbsent(key, value, ttlMs) {
      if (ttlMs < KV_MIN_TTL_SECONDS * 1000) {
        if (localLock(key) !== undefined) return false;
        if (localLocks.size >= 1000) sweep();
        localLocks.set(key, { value, until: Date.now() + ttlMs });
        return true;
      }
      const k = await kvKey(key);
      if ((await kv.get(k)) !== null) return false;
      await kv.put(k, value, { expirationTtl: ttl(ttlMs / 1000) });
      return true;
    },
    async incr(key) {
      const k = await kvKey(key);
      const previous = Number((await kv.get(k)) ?? 0);
      const fresh = Date.now() * 1000 + Math.floor(Math.random() * 1000);
      const next = Math.max(Number.isSafeInteger(previous) ? previous + 1 : 0, fresh);
      // Generations outlive the lists they name (ttlSeconds ≤ 1 day): a key never comes back.
      await kv.put(k, String(next), { expirationTtl: 30 * 86_400 });
      return next;
    },
    async del(key) {
      if (localLocks.delete(key)) return; // a local lock never reached KV
      await kv.delete(await kvKey(key));
    },
    async close() {
      localLocks.clear();
    },
  };
}
