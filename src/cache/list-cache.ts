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
import type { CacheStore, StoreState } from './store.js';
import type { Logger } from '../observability/logger.js';

export type CacheOutcome = 'HIT' | 'MISS' | 'BYPASS';

export interface CachedRead {
  /**
   * The answer: UTF-8 bytes as stored, on a HIT; on a MISS or BYPASS, the text `load` returned.
   */
  body: string | Uint8Array<ArrayBuffer>;
  cache: CacheOutcome;
  /** Seconds since the entry was stored, on a HIT. */
  ageSeconds?: number;
  /** When the entry was stored (ms), on a HIT: with its length, what tells one stored entry from another. */
  storedAtMs?: number;
}

/** How a value that callers use as an object is stored as text and read back (see `readValue`). */
export interface ValueCodec<T> {
  toText(value: T): string;
  fromBytes(bytes: Uint8Array<ArrayBuffer>): T;
}

/** A read's value and how it was answered. */
interface Outcome<T> {
  value: T;
  cache: CacheOutcome;
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
   * Runs a task once the answers being made now have gone out (Node: `setImmediate`). With it,
   * `readValue` stores a loaded value after answering; without it (the Worker, where work after
   * an answer needs the request's `waitUntil`), before.
   */
  afterAnswer?: (task: () => void) => void;
  /**
   * A backend's identity in the store: its name and a fingerprint of what decides its answers
   * (`backendIdentity` in src/providers.ts). Every key of the backend carries it, so a config change
   * (another provider, URL, organization or API version) never reads another upstream's entries,
   * on any instance sharing the store. @default the name alone
   */
  identityOf?: (backend: string) => string;
  /**
   * Called once per `read` that answers, with its outcome (e.g. to count hits, misses and
   * bypasses per backend in metrics). A read whose load fails reports nothing. Must not throw.
   */
  onOutcome?: (backend: string, outcome: CacheOutcome) => void;
}

const encoder = new TextEncoder();
/** `read`'s answers are text when loaded and stored bytes on a hit: nothing to convert. */
const ANSWER_TEXT: ValueCodec<string | Uint8Array<ArrayBuffer>> = {
  toText: (value) => value as string,
  fromBytes: (bytes) => bytes,
};
const NEWLINE = 0x0a;
const ZERO = 0x30;

/** Decoded values kept per process (see `ListCache.decodedValue`): SFTP To Go's whole lists, one per backend. */
const DECODED_VALUES_MAX = 8;

/** A stored value as this process decoded it, and which stored entry that was. */
interface DecodedValue {
  storedAtMs: number;
  bytes: number;
  value: unknown;
}

/** A store command failed: the read goes on without the store. */
class StoreUnavailable extends Error {}

/** A value stored once the answers being made now have gone out (`afterAnswer`), then `done`. */
interface StoredLater {
  schedule: (task: () => void) => void;
  done: () => void;
}

/**
 * What `lookup` found when nothing was stored: where the entry would be. Handed to `read`, which
 * then neither reads the backend's generation nor the entry again (on Redis, two round trips).
 */
export interface StoreMiss {
  readonly backend: string;
  readonly key: string;
  readonly fullKey: string;
}

/** A stored answer, or where it would be (`miss`); neither when the store cannot tell (none, failing, a load running). */
export interface Lookup {
  hit?: CachedRead;
  miss?: StoreMiss;
}

export class ListCache {
  /** Reads of a stored key running in this process, shared by the reads of it that overlap them. */
  private readonly inFlight = new Map<string, Promise<Outcome<unknown>>>();
  /** Store reads of `peek`, shared by overlapping peeks of one entry. */
  private readonly peeks = new Map<string, Promise<CachedRead | undefined>>();
  /** Value loads shared without a store, by backend, local epoch and key. */
  private readonly sharedLoads = new Map<string, Promise<unknown>>();
  /** Per backend, how many writes of this process have finished: uncached reads share loads within one epoch. */
  private readonly localEpochs = new Map<string, number>();
  /**
   * The last stored values this process decoded or loaded, by full key: a value's next read (the
   * next page of SFTP To Go's list) gets the same object instead of parsing the entry again —
   * 270 ms at 50,000 users for each page not yet cached. Keyed by the entry's stored-at time and
   * length too, so an entry stored anew (by any instance) is decoded anew.
   */
  private readonly decodedValues = new Map<string, DecodedValue>();
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

  /**
   * For /readyz: `ok` only once the store has answered since its last failure; `connecting`
   * before it ever has; `down` while it fails (and while it is being bypassed after a failure).
   */
  state(): StoreState | 'disabled' {
    if (this.store.driver === 'none') return 'disabled';
    const store = this.store.state?.() ?? 'ok';
    if (store !== 'ok') return store;
    return this.bypassing() ? 'down' : 'ok';
  }

  /**
   * The answer for `key` of `backend`: from the store, or from `load` (then stored).
   * `refresh` (a caller's `Cache-Control: no-cache`) skips the read but still stores.
   */
  async read(
    backend: string, key: string, load: () => Promise<string>, refresh = false, miss?: StoreMiss,
  ): Promise<CachedRead> {
    const { value, ...read } = await this.readOnce(backend, key, load, ANSWER_TEXT, false, refresh, miss);
    this.opts.onOutcome?.(backend, read.cache);
    return { body: value, ...read };
  }

  /**
   * `read` for a value used as an object, not sent as it is (SFTP To Go's whole list, cut into
   * pages): a hit is read back with `codec.fromBytes`. A load's value goes to its callers at
   * once, and, given `afterAnswer`, is written as text and stored after they have answered, not
   * before: for 10,000 users that text is ~6 MB and ~25 ms of work the first answer need not wait
   * for. Until it is stored, the reads that overlap it share the value, as they share the load.
   * A failed store is noticed (the bypass window opens) but the load was already reported MISS.
   * Without a store, overlapping reads still share one load and its value (see `withoutStore`).
   */
  async readValue<T>(backend: string, key: string, load: () => Promise<T>, codec: ValueCodec<T>, refresh = false): Promise<T> {
    const read = await this.readOnce(backend, key, load, codec, true, refresh);
    this.opts.onOutcome?.(backend, read.cache);
    return read.value;
  }

  private async readOnce<T>(
    backend: string, key: string, load: () => Promise<T>, codec: ValueCodec<T>, isValue: boolean, refresh: boolean,
    lookedUp?: StoreMiss,
  ): Promise<Outcome<T>> {
    if (this.store.driver === 'none' || this.bypassing()) return this.withoutStore(backend, key, load, isValue);
    // Only a lookup of this very entry stands for reading it.
    const miss = lookedUp?.backend === backend && lookedUp.key === key ? lookedUp : undefined;
    let fullKey: string;
    try {
      fullKey = miss?.fullKey ?? (await this.entryKey(backend, key));
    } catch (err) {
      this.fail(err);
      return this.withoutStore(backend, key, load, isValue);
    }
    // One load per key at a time in this process; a refresh joins a running load too.
    const running = this.inFlight.get(fullKey) as Promise<Outcome<T>> | undefined;
    if (running) return running;
    const done = () => this.inFlight.delete(fullKey);
    const { afterAnswer } = this.opts;
    const storeLater = isValue && afterAnswer !== undefined;
    // A lookup that found nothing a moment ago stands for the first store read.
    const later = storeLater ? { schedule: afterAnswer, done } : undefined;
    const work = this.readThrough(fullKey, load, codec, later, refresh, miss === undefined);
    this.inFlight.set(fullKey, work);
    // Freed once answered (a failed load included), before its callers go on; a value stored
    // later keeps its key until stored, and readThrough frees it then.
    void work.then((read) => (storeLater && read.cache === 'MISS' ? undefined : done()), done);
    return work;
  }

  /**
   * The stored answer for `key` of `backend` (`hit`), or where it would be (`miss`, for `read`).
   * Neither when no store is in use, a load of it is running (the caller's `read` joins that), or
   * the store fails (which opens the bypass window, as `read` does). Never loads. Overlapping
   * lookups of one entry share its store read, as overlapping `read`s do. A hit is reported as
   * `read` reports it; anything else reports nothing.
   */
  async lookup(backend: string, key: string): Promise<Lookup> {
    if (this.store.driver === 'none' || this.bypassing()) return {};
    let fullKey: string;
    let hit: CachedRead | undefined;
    try {
      // The generation is read by every lookup, never shared: a write that finished before this
      // call must be seen by it.
      fullKey = await this.guard(() => this.entryKey(backend, key));
      if (this.inFlight.has(fullKey)) return {};
      let stored = this.peeks.get(fullKey);
      if (!stored) {
        stored = this.storeGet(fullKey).finally(() => this.peeks.delete(fullKey));
        this.peeks.set(fullKey, stored);
      }
      hit = await stored;
    } catch (err) {
      if (err instanceof StoreUnavailable) return {};
      throw err;
    }
    if (!hit) return { miss: { backend, key, fullKey } };
    this.opts.onOutcome?.(backend, 'HIT');
    return { hit };
  }

  /** The stored answer for `key` of `backend`, or undefined (see `lookup`). */
  async peek(backend: string, key: string): Promise<CachedRead | undefined> {
    return (await this.lookup(backend, key)).hit;
  }

  /**
   * No store to go through (driver `none`, or bypassing a failed one): a BYPASS. A value is
   * shared with the identical reads that overlap it, so N callers asking at once for SFTP To Go's
   * 10,000 users hold one copy of them, not N, and no JSON of them is made that nobody would read;
   * an answer (`read`) is loaded on its own. A read never joins one that began before a write of
   * this process finished (the local epoch), so read-your-writes holds as with a store.
   */
  private async withoutStore<T>(backend: string, key: string, load: () => Promise<T>, share: boolean): Promise<Outcome<T>> {
    if (!share) return { value: await load(), cache: 'BYPASS' };
    const flightKey = `${backend}\u0000${this.localEpochs.get(backend) ?? 0}\u0000${key}`;
    let work = this.sharedLoads.get(flightKey) as Promise<T> | undefined;
    if (!work) {
      work = load().finally(() => this.sharedLoads.delete(flightKey));
      this.sharedLoads.set(flightKey, work);
    }
    return { value: await work, cache: 'BYPASS' };
  }

  /** Makes every cached list of the backend unreachable. Called before a write's answer is sent. */
  async invalidate(backend: string): Promise<void> {
    this.localEpochs.set(backend, (this.localEpochs.get(backend) ?? 0) + 1);
    // Their keys carry the old generation: unreachable now, so not kept.
    const mine = `${this.opts.keyPrefix}list:${this.identity(backend)}:`;
    for (const key of this.decodedValues.keys()) if (key.startsWith(mine)) this.decodedValues.delete(key);
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

  /** The backend's identity in the store (see `identityOf`); idempotency records use it too. */
  identity(backend: string): string {
    return this.opts.identityOf?.(backend) ?? backend;
  }

  private generationKey(backend: string) {
    return `${this.opts.keyPrefix}gen:${this.identity(backend)}`;
  }

  /** Where `key` of `backend` is stored: under the backend's identity and generation, read from the store now. */
  private async entryKey(backend: string, key: string): Promise<string> {
    const generation = (await this.store.get(this.generationKey(backend))) ?? '0';
    return `${this.opts.keyPrefix}list:${this.identity(backend)}:${generation}:${key}`;
  }

  /**
   * The stored value, else `load`'s, stored: before it is returned, or with `storedLater` after
   * it (a MISS then calls `storedLater.done` once the store has answered, whatever it answered).
   * `readStored` false: the caller's lookup just found nothing stored, so it is not read again.
   */
  private async readThrough<T>(
    fullKey: string, load: () => Promise<T>, codec: ValueCodec<T>, storedLater: StoredLater | undefined, refresh: boolean,
    readStored: boolean,
  ): Promise<Outcome<T>> {
    const lockKey = `${fullKey}:lock`;
    let locked = false;
    try {
      if (!refresh && readStored) {
        const hit = await this.storeGet(fullKey);
        const read = hit && this.decoded(fullKey, hit, codec);
        if (read) return read;
      }
      // A memory store is this process's alone, and inFlight already makes its one load per key.
      if (this.store.driver === 'memory') return await this.loadAndStore(fullKey, load, codec, storedLater, false);
      locked = await this.guard(() => this.store.setIfAbsent(lockKey, '1', this.lockMs));
      if (!locked && !refresh) {
        const filled = await this.waitForOther(fullKey, lockKey);
        const read = filled && this.decoded(fullKey, filled, codec);
        if (read) return read;
      }
    } catch (err) {
      if (!(err instanceof StoreUnavailable)) throw err;
      return { value: await load(), cache: 'BYPASS' };
    }
    return this.loadAndStore(fullKey, load, codec, storedLater, locked);
  }

  /** Loads, and stores what it loaded (see readThrough); frees the lock when it holds it. */
  private async loadAndStore<T>(
    fullKey: string, load: () => Promise<T>, codec: ValueCodec<T>, storedLater: StoredLater | undefined, locked: boolean,
  ): Promise<Outcome<T>> {
    const lockKey = `${fullKey}:lock`;
    let value: T;
    try {
      value = await load();
    } catch (err) {
      // The load's own error is never cached; free the key for the next try at once.
      if (locked) await this.store.del(lockKey).catch(() => {});
      throw err;
    }
    const store = () => this.guard(async () => {
      const storedAtMs = Date.now();
      const isValue = codec !== ANSWER_TEXT;
      // A memory store is this process's alone: the value itself is kept (below), and the entry
      // only marks it stored — no text of the whole list (30 MB at 50,000 users) made or held.
      const text = isValue && this.store.driver === 'memory' ? '' : codec.toText(value);
      const bytes = encoder.encode(`${storedAtMs}\n${text}`);
      await this.store.setBytes(fullKey, bytes, this.opts.ttlSeconds);
      if (isValue) this.keepDecoded(fullKey, { storedAtMs, bytes: bytes.length - `${storedAtMs}\n`.length, value });
      if (locked) await this.store.del(lockKey);
    });
    if (storedLater) {
      storedLater.schedule(() => void store().catch(() => {}).finally(storedLater.done));
      return { value, cache: 'MISS' };
    }
    try {
      await store();
      return { value, cache: 'MISS' };
    } catch {
      return { value, cache: 'BYPASS' };
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

  /**
   * A stored entry (always bytes) read back as the caller's value: decoded once per stored entry.
   * Undefined for a memory store's marker whose value this process no longer keeps: loaded again.
   */
  private decoded<T>(fullKey: string, hit: CachedRead, codec: ValueCodec<T>): Outcome<T> | undefined {
    const bytes = hit.body as Uint8Array<ArrayBuffer>;
    if (codec === ANSWER_TEXT) return { value: codec.fromBytes(bytes), cache: 'HIT', ageSeconds: hit.ageSeconds };
    const kept = this.decodedValues.get(fullKey);
    if (kept && kept.storedAtMs === hit.storedAtMs && kept.bytes === bytes.length) {
      return { value: kept.value as T, cache: 'HIT', ageSeconds: hit.ageSeconds };
    }
    if (this.store.driver === 'memory') return undefined;
    const value = codec.fromBytes(bytes);
    this.keepDecoded(fullKey, { storedAtMs: hit.storedAtMs ?? 0, bytes: bytes.length, value });
    return { value, cache: 'HIT', ageSeconds: hit.ageSeconds };
  }

  private keepDecoded(fullKey: string, entry: DecodedValue): void {
    this.decodedValues.delete(fullKey); // re-inserted last: the oldest goes first
    this.decodedValues.set(fullKey, entry);
    while (this.decodedValues.size > DECODED_VALUES_MAX) this.decodedValues.delete(this.decodedValues.keys().next().value!);
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
      storedAtMs: storedAt,
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
