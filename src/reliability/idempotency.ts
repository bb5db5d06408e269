/**
 * `Idempotency-Key` on the create-like writes (POST /users, password rotations, SSH key adds).
 *
 * - The first answer below 500 (but a 429) is kept for 24 h in the configured cache store, under
 *   `{keyPrefix}idempotency:{SHA-256(API key name, backend, Idempotency-Key)}`; a repeat with the
 *   same request gets it back, marked `Idempotent-Replayed: true`, without touching the upstream.
 *   A 5xx or a 429 is not kept: the key is released, so a retry runs again.
 * - The request is compared by a SHA-256 of the canonical JSON (keys sorted) of the operation,
 *   its path parameters and its validated body: the same key with another request is a 422
 *   `idempotency_key_reused`.
 * - Concurrent repeats: in this process they share the first one's promise; across processes a
 *   `pending` marker (set-if-absent) makes them poll the store for up to `waitMs`, then 409.
 * - Answers may carry passwords (a generated create password, a rotation), so each entry is
 *   sealed with AES-GCM under a key derived (HKDF-SHA-256) from the raw Idempotency-Key, the API
 *   key name and the backend; the store key is another hash, so whoever reads the store cannot
 *   open an entry without the Idempotency-Key itself. The request fingerprint is sealed too.
 * - With the `none` driver, or for a request during which the store fails, an in-process memory
 *   store stands in (a warning is logged): a retry through the same gateway still deduplicates.
 *
 * Web Crypto only: this runs on Node and on Cloudflare Workers.
 */
import { createMemoryStore, type CacheStore } from '../cache/store.js';
import { GatewayError } from '../domain/errors.js';
import type { ListCache } from '../cache/list-cache.js';
import type { Logger } from '../observability/logger.js';

export const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';
export const REPLAYED_HEADER = 'Idempotent-Replayed';
/** 1..255 printable ASCII characters (space included, as in the header's value). */
export const IDEMPOTENCY_KEY_PATTERN = /^[\x20-\x7E]{1,255}$/;
export const IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60;

/** The headers of an answer worth replaying; the rest (X-Request-Id, …) belong to each request. */
const KEPT_HEADERS = ['content-type', 'location', 'cache-control'];
const PENDING = 'pending';
const RECORD_VERSION = 'v1';
/** Fixed, and the same in every process, so that any gateway sharing the store can open an entry. */
const HKDF_SALT = 'sftp-gateway/idempotency/aes-gcm/v1';
const STORE_KEY_DOMAIN = 'sftp-gateway/idempotency/store-key/v1';

export interface IdempotencyOptions {
  /** The cache's key prefix (`cache.keyPrefix`). */
  keyPrefix: string;
  /** How long a running first request holds the key; after that another process may run it. @default 120000 */
  lockMs?: number;
  /** How long a repeat waits for another process's first request before a 409. @default 5000 */
  waitMs?: number;
  /** How often it polls the store meanwhile. @default 50 */
  pollMs?: number;
  /** How long answers are kept. @default 86400 (24 h) */
  ttlSeconds?: number;
}

export interface IdempotentRequest {
  /** The raw `Idempotency-Key` header. */
  key: string;
  /** The API key's name. */
  principal: string;
  backend: string;
  /** What must match for a replay: the operation, its path parameters and its validated body. */
  request: unknown;
  logger: Logger;
}

export interface StoredAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

type Outcome =
  | { kind: 'executed'; fingerprint: string; answer: StoredAnswer }
  | { kind: 'stored'; fingerprint: string; answer: StoredAnswer }
  | { kind: 'busy' };

interface Identity {
  storeKey: string;
  fingerprint: string;
  cryptoKey: CryptoKey;
}

/** A store command failed: the request goes on with the in-process memory store. */
class StoreFailure extends Error {}

const encoder = new TextEncoder();

/** JSON with object keys sorted at every level, so whitespace and key order never matter. */
export function canonicalJson(value: unknown): string {
  if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    value = (value as { toJSON(): unknown }).toJSON();
  }
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const record = value as Record<string, unknown>;
  const members = Object.keys(record)
    .filter((k) => record[k] !== undefined && typeof record[k] !== 'function')
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(record[k])}`);
  return `{${members.join(',')}}`;
}

async function sha256Hex(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(text)));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** The store key of an Idempotency-Key: never the raw key. Exported for tests. */
export async function idempotencyStoreKey(keyPrefix: string, principal: string, backend: string, key: string): Promise<string> {
  return `${keyPrefix}idempotency:${await sha256Hex(canonicalJson([STORE_KEY_DOMAIN, principal, backend, key]))}`;
}

async function deriveKey(principal: string, backend: string, key: string): Promise<CryptoKey> {
  const material = await crypto.subtle.importKey('raw', encoder.encode(key), 'HKDF', false, ['deriveKey']);
  return crypto.subtle.deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt: encoder.encode(HKDF_SALT), info: encoder.encode(canonicalJson([principal, backend])) },
    material,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  );
}

function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A 5xx may not happen again, and a 429 says "later": neither is the request's final answer. */
const isFinal = (status: number) => status < 500 && status !== 429;

export function replayResponse(answer: StoredAnswer): Response {
  return new Response(answer.body === '' ? null : answer.body, {
    status: answer.status,
    // A kept answer may hold a password (a create, a rotation): no cache keeps a replay.
    headers: { ...answer.headers, 'cache-control': 'no-store', [REPLAYED_HEADER.toLowerCase()]: 'true' },
  });
}

export class IdempotencyGuard {
  /** Stands in for the configured store with the `none` driver, and for requests it fails. */
  readonly fallback: CacheStore;
  private readonly primary: CacheStore;
  private readonly inFlight = new Map<string, Promise<Outcome>>();
  private readonly lockMs: number;
  private readonly waitMs: number;
  private readonly pollMs: number;
  private readonly ttlSeconds: number;

  constructor(store: CacheStore, private readonly opts: IdempotencyOptions) {
    this.fallback = createMemoryStore(10_000);
    this.primary = store.driver === 'none' ? this.fallback : store;
    this.lockMs = opts.lockMs ?? 120_000;
    this.waitMs = opts.waitMs ?? 5000;
    this.pollMs = opts.pollMs ?? 50;
    this.ttlSeconds = opts.ttlSeconds ?? IDEMPOTENCY_TTL_SECONDS;
  }

  /**
   * The answer to `req`: the stored one (replayed), or `execute`'s (then stored when final).
   * `execute` must turn the gateway's own errors into answers; what it throws is never stored.
   */
  async handle(req: IdempotentRequest, execute: () => Promise<Response>): Promise<Response> {
    if (!IDEMPOTENCY_KEY_PATTERN.test(req.key)) {
      throw new GatewayError(400, 'invalid_request', `${IDEMPOTENCY_KEY_HEADER} must be 1..255 printable ASCII characters`, {
        errors: [{ path: IDEMPOTENCY_KEY_HEADER, message: 'must be 1..255 printable ASCII characters' }],
      });
    }
    const [storeKey, fingerprint, cryptoKey] = await Promise.all([
      idempotencyStoreKey(this.opts.keyPrefix, req.principal, req.backend, req.key),
      sha256Hex(canonicalJson(req.request)),
      deriveKey(req.principal, req.backend, req.key),
    ]);
    const id: Identity = { storeKey, fingerprint, cryptoKey };

    // No await between the look-up and the set: concurrent repeats in this process share one flight.
    let flight = this.inFlight.get(storeKey);
    const leading = !flight;
    if (!flight) {
      flight = this.lead(id, req.logger, execute).finally(() => this.inFlight.delete(storeKey));
      this.inFlight.set(storeKey, flight);
    }
    const outcome = await flight;

    if (outcome.kind === 'busy') {
      throw new GatewayError(409, 'conflict', `A request with this ${IDEMPOTENCY_KEY_HEADER} is still running; retry shortly`, {
        headers: { 'Retry-After': '1' },
      });
    }
    if (outcome.fingerprint !== fingerprint) {
      throw new GatewayError(
        422,
        'idempotency_key_reused',
        `This ${IDEMPOTENCY_KEY_HEADER} was already used with a different request (operation, path or body); use a new key for a new request`,
      );
    }
    if (leading && outcome.kind === 'executed') {
      const { answer } = outcome;
      return new Response(answer.body === '' ? null : answer.body, { status: answer.status, headers: answer.headers });
    }
    req.logger.debug({ status: outcome.answer.status }, 'idempotent replay');
    return replayResponse(outcome.answer);
  }

  /** The first request for a key in this process: find a stored answer, or run and store. */
  private async lead(id: Identity, logger: Logger, execute: () => Promise<Response>): Promise<Outcome> {
    // What was kept here while the configured store failed comes first.
    if (this.primary !== this.fallback) {
      const local = await this.fallback.get(id.storeKey);
      if (local !== undefined && local !== PENDING) return this.open(local, id);
    }

    let store = this.primary;
    let claim: 'claimed' | Outcome;
    try {
      claim = await this.claim(store, id);
    } catch (err) {
      this.warn(logger, err, 'claim');
      store = this.fallback;
      claim = await this.claim(store, id);
    }
    if (claim !== 'claimed') return claim;

    let response: Response;
    let answer: StoredAnswer;
    try {
      response = await execute();
      answer = {
        status: response.status,
        headers: Object.fromEntries(KEPT_HEADERS.flatMap((h) => (response.headers.has(h) ? [[h, response.headers.get(h)!]] : []))),
        body: await response.text(),
      };
    } catch (err) {
      await this.release(store, id, logger);
      throw err;
    }

    if (!isFinal(answer.status)) {
      await this.release(store, id, logger);
      // The answer itself (with every header, e.g. Retry-After) goes to this caller and its waiters.
      return { kind: 'executed', fingerprint: id.fingerprint, answer: { ...answer, headers: Object.fromEntries(response.headers) } };
    }
    const sealed = await this.seal(answer, id);
    try {
      await store.set(id.storeKey, sealed, this.ttlSeconds);
    } catch (err) {
      this.warn(logger, err, 'save');
      await this.fallback.set(id.storeKey, sealed, this.ttlSeconds);
    }
    return { kind: 'executed', fingerprint: id.fingerprint, answer: { ...answer, headers: Object.fromEntries(response.headers) } };
  }

  /** Claims the key with a pending marker, or finds the stored answer, waiting a while for another process's. */
  private async claim(store: CacheStore, id: Identity): Promise<'claimed' | Outcome> {
    const deadline = Date.now() + this.waitMs;
    for (;;) {
      let raw: string | undefined;
      try {
        if (await store.setIfAbsent(id.storeKey, PENDING, this.lockMs)) return 'claimed';
        raw = await store.get(id.storeKey);
      } catch (err) {
        throw new StoreFailure(err instanceof Error ? err.message : String(err));
      }
      if (raw !== undefined && raw !== PENDING) return this.open(raw, id);
      // Pending elsewhere, or released just now (the next claim may take it). A store that keeps
      // answering neither (KV's best-effort set-if-absent) is bounded by the same deadline.
      if (Date.now() >= deadline) return { kind: 'busy' };
      await sleep(this.pollMs);
    }
  }

  private async release(store: CacheStore, id: Identity, logger: Logger): Promise<void> {
    try {
      await store.del(id.storeKey);
    } catch (err) {
      // The pending marker expires after lockMs; until then other instances answer 409.
      this.warn(logger, err, 'release');
    }
  }

  private async seal(answer: StoredAnswer, id: Identity): Promise<string> {
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const plain = encoder.encode(JSON.stringify({ fp: id.fingerprint, ...answer }));
    const ct = new Uint8Array(
      await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: encoder.encode(id.storeKey) }, id.cryptoKey, plain),
    );
    return `${RECORD_VERSION}.${toBase64(iv)}.${toBase64(ct)}`;
  }

  /** Opens a stored entry; one that cannot be opened is a store failure (the request goes on without it). */
  private async open(raw: string, id: Identity): Promise<Outcome> {
    try {
      const [version, iv, ct] = raw.split('.');
      if (version !== RECORD_VERSION || !iv || !ct) throw new Error('unknown entry format');
      const plain = await crypto.subtle.decrypt(
        { name: 'AES-GCM', iv: fromBase64(iv), additionalData: encoder.encode(id.storeKey) },
        id.cryptoKey,
        fromBase64(ct),
      );
      const { fp, status, headers, body } = JSON.parse(new TextDecoder().decode(plain)) as StoredAnswer & { fp: string };
      return { kind: 'stored', fingerprint: fp, answer: { status, headers, body } };
    } catch (err) {
      throw new StoreFailure(`unreadable idempotency entry: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private warn(logger: Logger, err: unknown, step: string): void {
    logger.warn(
      { driver: this.primary.driver, step, err: err instanceof Error ? err.message : String(err) },
      'idempotency store failed: using the in-process memory store for this request',
    );
  }
}

/** One guard per list cache (so per app): built on first use from the cache's store and prefix. */
const guards = new WeakMap<ListCache, IdempotencyGuard>();

/**
 * The guard of the app using `cache`. `options` apply when this call creates it (tests use it to
 * shorten waits before the first request).
 */
export function idempotencyGuardFor(cache: ListCache, options: Partial<IdempotencyOptions> = {}): IdempotencyGuard {
  let guard = guards.get(cache);
  if (!guard) {
    guard = new IdempotencyGuard(cache.store, { keyPrefix: cache.keyPrefix, ...options });
    guards.set(cache, guard);
  }
  return guard;
}
