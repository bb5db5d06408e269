/**
 * Read-through caching of list answers on any CacheStore (CONTRACT §5):
 *
 * - every key carries the backend's generation, read from the store first; a write bumps it, so
 *   every instance sharing the store stops seeing the old lists at once (read-your-writes);
 * - N concurrent misses of one key in this process make one upstream call (single-flight), and a
 *   short lock in the store keeps other processes from loading the same key at the same time;
 * - when the store fails or is slow, lists are served from the upstream (`BYPASS`) and the store
 *   is left alone for `retryAfterMs`, then tried again.
 *
 * Only serialized, secret-free answers go in; an error is never cached.
 */
import type { CacheStore } from './cache.js';
import type { Logger } from './logger.js';

export type CacheOutcome = 'HIT' | 'MISS' | 'BYPASS';

export interface CachedRead {
  /**
   * The answer: UTF-8 bytes as stored, on a HIT; on a MISS or BYPASS, the text `load` returned.
   */
  body: string | Uint8Array<ArrayBuffer>;
  cache: CacheOutcome;
  /** Seconds since the entry was stored, on a HIT. */
  ageSeconds?: number;
}

export interface ListCacheOptions {
  ttlSeconds: number;
  keyPrefix: string;
  logger: Logger;
  /** How long to leave a failed store alone. @default 5000 */
  retryAfterMs?: number;
  /** How long another process's load may hold a key's lock. @default 5000 */
  lockMs?: number;
  /** How long to wait for another process's load before loading ourselves. @default 1000 */
  lockWaitMs?: number;
  /**
   * Called once per `read` that answers, with its outcome (e.g. to count hits, misses and
   * bypasses per backend in metrics). A read whose load fails reports nothing. Must not throw.
   */
  onOutcome?: (backend: string, outcome: CacheOutcome) => void;
}

const encoder = new TextEncoder();
const NEWLINE = 0x0a;
const ZERO = 0x30;

/** A store command failed: the read goes on without the store. */
class StoreUnavailable extends Error {}

export class ListCache {
  private readonly inFlight = new Map<string, Promise<CachedRead>>();
  /** Store reads of `peek`, shared by overlapping peeks of one entry. */
  private readonly peeks = new Map<string, Promise<CachedRead | undefined>>();
  /** Loads shared without a store, by backend, local epoch and key. */
  private readonly sharedLoads = new Map<string, Promise<unknown>>();
  /** Per backend, how many writes of this process have finished: uncached reads share loads within one epoch. */
  private readonly localEpochs = new Map<string, number>();
  private downUntil = 0;
  private readonly retryAfterMs: number;
  private readonly lockMs: number;
  private readonly lockWaitMs: number;

  constructor(
    readonly store: CacheStore,
    private readonly opts: ListCacheOptions,
  ) {
    this.retryAfterMs = opts.retryAfterMs ?? 5000;
    this.lockMs = opts.lockMs ?? 5000;
    this.lockWaitMs = opts.lockWaitMs ?? 1000;
  }

  /** Every key this cache writes starts with it (idempotency entries sit beside the lists). */
  get keyPrefix(): string {
    return this.opts.keyPrefix;
  }

  get driver(): CacheStore['driver'] {
    return this.store.driver;
  }

  /** For /readyz: `degraded` while the store is being bypassed after a failure. */
  state(): 'ok' | 'degraded' | 'disabled' {
    if (this.store.driver === 'none') return 'disabled';
    return Date.now() < this.downUntil ? 'degraded' : 'ok';
  }

  /**
   * The answer for `key` of `backend`: from the store, or from `load` (then stored).
   * `refresh` (a caller's `Cache-Control: no-cache`) skips the read but still stores.
   */
  async read(backend: string, key: string, load: () => Promise<string>, refresh = false): Promise<CachedRead> {
    const read = await this.readOnce(backend, key, load, refresh);
    this.opts.onOutcome?.(backend, read.cache);
    return read;
  }

  private async readOnce(backend: string, key: string, load: () => Promise<string>, refresh: boolean): Promise<CachedRead> {
    if (this.store.driver === 'none' || this.bypassing()) return { body: await load(), cache: 'BYPASS' };
    let fullKey: string;
    try {
      fullKey = await this.entryKey(backend, key);
    } catch (err) {
      this.fail(err);
      return { body: await load(), cache: 'BYPASS' };
    }
    // One load per key at a time in this process; a refresh joins a running load too.
    const running = this.inFlight.get(fullKey);
    if (running) return running;
    const work = this.readThrough(fullKey, load, refresh).finally(() => this.inFlight.delete(fullKey));
    this.inFlight.set(fullKey, work);
    return work;
  }

  /**
   * The stored answer for `key` of `backend`, or undefined: no store in use, nothing stored, a
   * load of it running (the caller's `read` joins that), or the store failing (which opens the
   * bypass window, as `read` does). Never loads. Overlapping peeks of one entry share its store
   * read, as overlapping `read`s do. A HIT is reported as `read` reports it; undefined reports nothing.
   */
  async peek(backend: string, key: string): Promise<CachedRead | undefined> {
    if (this.store.driver === 'none' || this.bypassing()) return undefined;
    let hit: CachedRead | undefined;
    try {
      // The generation is read by every peek, never shared: a write that finished before this
      // call must be seen by it.
      const fullKey = await this.guard(() => this.entryKey(backend, key));
      if (this.inFlight.has(fullKey)) return undefined;
      let stored = this.peeks.get(fullKey);
      if (!stored) {
        stored = this.storeGet(fullKey).finally(() => this.peeks.delete(fullKey));
        this.peeks.set(fullKey, stored);
      }
      hit = await stored;
    } catch (err) {
      if (err instanceof StoreUnavailable) return undefined;
      throw err;
    }
    if (hit) this.opts.onOutcome?.(backend, 'HIT');
    return hit;
  }

  /**
   * With no store in use (driver `none`, or bypassing a failed one): `load`'s value, shared with
   * the identical reads that overlap it, and reported as a BYPASS once it answers; undefined when
   * there is a store to go through (the caller then uses `read`). For SFTP To Go's whole list: N
   * callers asking at once for 10,000 users hold one copy of them, not N, and no JSON of them is
   * made that nobody would read. A read never joins one that began before a write of this process
   * finished (the local epoch), so read-your-writes holds as with a store.
   */
  readWithoutStore<T>(backend: string, key: string, load: () => Promise<T>): Promise<T> | undefined {
    if (this.store.driver !== 'none' && !this.bypassing()) return undefined;
    const flightKey = `${backend}\u0000${this.localEpochs.get(backend) ?? 0}\u0000${key}`;
    let work = this.sharedLoads.get(flightKey) as Promise<T> | undefined;
    if (!work) {
      work = load().finally(() => this.sharedLoads.delete(flightKey));
      this.sharedLoads.set(flightKey, work);
    }
    return work.then((value) => {
      this.opts.onOutcome?.(backend, 'BYPASS');
      return value;
    });
  }

  /** Makes every cached list of the backend unreachable. Called before a write's answer is sent. */
  async invalidate(backend: string): Promise<void> {
    this.localEpochs.set(backend, (this.localEpochs.get(backend) ?? 0) + 1);
    if (this.store.driver === 'none') return;
    try {
      await this.store.incr(this.generationKey(backend));
    } catch (err) {
      // The store is unreachable for us: bypass it until it answers again, so that this instance
      // never serves a list older than the write it just made.
      this.fail(err);
    }
  }

  async close(): Promise<void> {
    await this.store.close();
  }

  private generationKey(backend: string) {
    return `${this.opts.keyPrefix}gen:${backend}`;
  }

  /** Where `key` of `backend` is stored: under the backend's generation, read from the store now. */
  private async entryKey(backend: string, key: string): Promise<string> {
    const generation = (await this.store.get(this.generationKey(backend))) ?? '0';
    return `${this.opts.keyPrefix}list:${backend}:${generation}:${key}`;
  }

  private async readThrough(fullKey: string, load: () => Promise<string>, refresh: boolean): Promise<CachedRead> {
    const lockKey = `${fullKey}:lock`;
    let locked = false;
    try {
      if (!refresh) {
        const hit = await this.storeGet(fullKey);
        if (hit) return hit;
      }
      locked = await this.guard(() => this.store.setIfAbsent(lockKey, '1', this.lockMs));
      if (!locked && !refresh) {
        const filled = await this.waitForOther(fullKey, lockKey);
        if (filled) return filled;
      }
    } catch (err) {
      if (!(err instanceof StoreUnavailable)) throw err;
      return { body: await load(), cache: 'BYPASS' };
    }
    let body: string;
    try {
      body = await load();
    } catch (err) {
      // The load's own error is never cached; free the key for the next try at once.
      if (locked) await this.store.del(lockKey).catch(() => {});
      throw err;
    }
    try {
      await this.guard(async () => {
        await this.store.setBytes(fullKey, encoder.encode(`${Date.now()}\n${body}`), this.opts.ttlSeconds);
        if (locked) await this.store.del(lockKey);
      });
      return { body, cache: 'MISS' };
    } catch {
      return { body, cache: 'BYPASS' };
    }
  }

  /** Another process holds the lock: poll for its value briefly, else load ourselves. */
  private async waitForOther(fullKey: string, lockKey: string): Promise<CachedRead | undefined> {
    const deadline = Date.now() + this.lockWaitMs;
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
      const hit = await this.storeGet(fullKey);
      if (hit) return hit;
      if ((await this.guard(() => this.store.get(lockKey))) === undefined) return undefined;
    }
    return undefined;
  }

  private async storeGet(fullKey: string): Promise<CachedRead | undefined> {
    const entry = await this.guard(() => this.store.getBytes(fullKey));
    if (entry === undefined) return undefined;
    // `storedAtMs\n` then the answer: read the digits, serve the rest without a copy.
    let storedAt = 0;
    let i = 0;
    for (; i < entry.length && entry[i] !== NEWLINE; i++) storedAt = storedAt * 10 + (entry[i]! - ZERO);
    return {
      body: entry.subarray(i + 1),
      cache: 'HIT',
      ageSeconds: Math.max(0, Math.floor((Date.now() - storedAt) / 1000)),
    };
  }

  /** Runs a store command; a failure opens the bypass window and becomes StoreUnavailable. */
  private async guard<T>(command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (err) {
      this.fail(err);
      throw new StoreUnavailable();
    }
  }

  private bypassing(): boolean {
    return Date.now() < this.downUntil;
  }

  private fail(err: unknown): void {
    const first = !this.bypassing();
    this.downUntil = Date.now() + this.retryAfterMs;
    if (first) {
      this.opts.logger.warn(
        { driver: this.store.driver, err: err instanceof Error ? err.message : String(err), retryAfterMs: this.retryAfterMs },
        'cache store failed: serving from the upstream until it answers again',
      );
    }
  }
}
