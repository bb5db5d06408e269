/**
 * Abuse limits around authentication (CONTRACT §7): failed authentications per client address,
 * and requests per API key. The counting is rate-limiter-flexible's (one limiter per rule, made by
 * the entry: Redis-backed and shared by every instance on Node with the Redis cache, falling back
 * to this instance's memory when Redis fails; in this process's or isolate's memory otherwise).
 *
 * Each rule counts in windows of 60 s that begin with the first counted event; `Retry-After` is
 * the whole seconds until the window ends, when that first (oldest) event leaves it.
 *
 * Runtime-neutral: the limiters are injected, so the Workers bundle never pulls Redis in.
 */
import type { Authenticator } from './auth.js';
import type { Principal } from './auth.js';
import { GatewayError } from '../domain/errors.js';
import type { Logger } from '../observability/logger.js';
import type { ThrottleRule } from '../observability/metrics.js';

/** What this module needs of a rate-limiter-flexible limiter (RateLimiterMemory, RateLimiterRedis). */
export interface CountingLimiter {
  /** The key's window so far; null when it has none. */
  get(key: string): Promise<{ consumedPoints: number; msBeforeNext: number } | null>;
  /** Counts one event, never refusing; the window after it. */
  penalty(key: string, points?: number): Promise<{ consumedPoints: number; msBeforeNext: number }>;
  /** Counts one event; rejects with `{ msBeforeNext }` once the window's points are spent. */
  consume(key: string, points?: number): Promise<unknown>;
}

/** Makes a limiter of `points` per 60 s; `name` keeps rules apart in a shared store. */
export type LimiterFactory = (name: string, points: number) => CountingLimiter;

export const WINDOW_SECONDS = 60;

export interface ThrottleOptions {
  /** Failed authentications an address may make in a window; 0 turns the rule off. */
  failedAuthPerMinute: number;
  /** Requests per window for each key name that has a limit. */
  keyLimits: ReadonlyMap<string, number>;
  makeLimiter: LimiterFactory;
  logger: Logger;
  /** Told each request refused by a rule, for metrics. */
  onThrottled?: (rule: ThrottleRule) => void;
  /**
   * How long an address found under its limit is taken to stay so without reading the counter
   * again (unless it fails here meanwhile). With a shared store this spares a round trip per
   * request; a limit reached at another instance then applies here within this time. @default 1000
   */
  recheckMs?: number;
}

/** What an instance remembers of addresses it has read: bounded, oldest forgotten first. */
const MAX_KNOWN_ADDRESSES = 10_000;

/** Authenticates a request from `address` (as src/http/app.ts's `requestAuthenticator` counts it: see `countedAddress`). */
export type GuardedAuthenticator = (authorization: string | undefined, address: string) => Promise<Principal>;

/**
 * Wraps `authenticate` with the two rules: an address that has failed `failedAuthPerMinute` times
 * in its window gets 429 for every request, whatever its key (not counted again); every failed
 * authentication counts for its address; every request authenticated with a limited key counts
 * for that key, from any address, and the one past its limit gets 429.
 *
 * @example
 * const guarded = throttled(createAuthenticator(keys), { failedAuthPerMinute: 20, keyLimits, makeLimiter, logger });
 * await guarded(c.req.header('authorization'), '203.0.113.7');
 */
export function throttled(authenticate: Authenticator, opts: ThrottleOptions): GuardedAuthenticator {
  const failures = opts.failedAuthPerMinute > 0 ? opts.makeLimiter('failed-auth', opts.failedAuthPerMinute) : undefined;
  const perKey = new Map([...opts.keyLimits].map(([name, points]) => [name, opts.makeLimiter(`key:${name}`, points)]));

  const recheckMs = opts.recheckMs ?? 1000;
  /** Per address, what was last read or counted: whether it is refused, and until when that holds. */
  const known = new Map<string, { refused: boolean; until: number }>();
  /**
   * Remembers an address's window: over the limit, refused until the window ends (a fixed window
   * only grows); under it, taken as under for `recheckMs`, then read again.
   */
  const remember = (address: string, window: { consumedPoints: number; msBeforeNext: number } | null) => {
    // An ended window may still be kept until its timer fires (on Workers, perhaps never): it counts for nothing.
    const refused = window !== null && window.msBeforeNext > 0 && window.consumedPoints >= opts.failedAuthPerMinute;
    const entry = { refused, until: Date.now() + (refused ? window.msBeforeNext : recheckMs) };
    known.delete(address); // re-inserted last: the Map's order is then oldest-read first
    if (known.size >= MAX_KNOWN_ADDRESSES) known.delete(known.keys().next().value!);
    known.set(address, entry);
    return entry;
  };

  async function refuseBlockedAddress(address: string): Promise<void> {
    if (!failures) return;
    let entry = known.get(address);
    if (!entry || entry.until <= Date.now()) entry = remember(address, await failures.get(address));
    if (entry.refused) {
      const ms = entry.until - Date.now();
      opts.onThrottled?.('failed-auth');
      throw tooMany(`Too many failed authentications from this address: try again in ${seconds(ms)} s`, ms);
    }
  }

  async function countFailure(address: string): Promise<void> {
    if (!failures) return;
    const window = await failures.penalty(address);
    remember(address, window);
    // Once, as the address reaches the limit: the operator sees who is guessing.
    if (window.consumedPoints === opts.failedAuthPerMinute) {
      opts.logger.warn(
        { address, failures: window.consumedPoints, windowSeconds: WINDOW_SECONDS },
        `throttling an address after ${window.consumedPoints} failed authentications: its requests get 429 for ${seconds(window.msBeforeNext)} s`,
      );
    }
  }

  async function countKeyRequest(principal: Principal): Promise<void> {
    const limiter = perKey.get(principal.name);
    if (!limiter) return;
    try {
      await limiter.consume(principal.name);
    } catch (refusal) {
      const ms = msBeforeNextOf(refusal);
      if (ms === undefined) throw refusal; // not the limiter's refusal: its store failed without insurance
      opts.onThrottled?.('key-limit');
      throw tooMany(`The API key "${principal.name}" is over its limit of ${limiterPoints(opts, principal.name)} requests a minute: try again in ${seconds(ms)} s`, ms);
    }
  }

  return async function guardedAuthenticate(authorization, address) {
    await refuseBlockedAddress(address);
    let principal: Principal;
    try {
      principal = await authenticate(authorization);
    } catch (err) {
      if (err instanceof GatewayError && err.status === 401) await countFailure(address);
      throw err;
    }
    await countKeyRequest(principal);
    return principal;
  };
}

const limiterPoints = (opts: ThrottleOptions, name: string) => opts.keyLimits.get(name) ?? 0;

/** Whole seconds, at least 1: a `Retry-After` of 0 would invite an immediate retry. */
function seconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

function tooMany(detail: string, msBeforeNext: number): GatewayError {
  return new GatewayError(429, 'rate_limited', detail, { headers: { 'Retry-After': String(seconds(msBeforeNext)) } });
}

/** rate-limiter-flexible rejects with a RateLimiterRes (`msBeforeNext`) when the points are spent. */
function msBeforeNextOf(refusal: unknown): number | undefined {
  if (typeof refusal !== 'object' || refusal === null || refusal instanceof Error) return undefined;
  const ms = (refusal as { msBeforeNext?: unknown }).msBeforeNext;
  return typeof ms === 'number' ? ms : undefined;
}

/**
 * The address a rule counts: IPv4 as written (an IPv4-mapped IPv6 address as its IPv4); IPv6 by its
 * /64, the block one host or customer usually holds (counting each address would let one host
 * spread its guesses over 2^64 of them); anything else, as written (at most 100 characters).
 *
 * @example countedAddress('::ffff:203.0.113.7') // '203.0.113.7'
 * @example countedAddress('2001:db8:1:2:aaaa::1') // '2001:db8:1:2::/64'
 */
export function countedAddress(text: string): string {
  const address = text.trim().toLowerCase();
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(address);
  if (mapped) return mapped[1]!;
  const groups = ipv6Groups(address);
  return groups ? `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64` : address.slice(0, 100);
}

/** The eight groups of an IPv6 address (no zone id, no IPv4 tail), or undefined. */
function ipv6Groups(address: string): string[] | undefined {
  if (!/^[0-9a-f:]+$/.test(address) || !address.includes(':')) return undefined;
  const halves = address.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  return groups.every((g) => /^[0-9a-f]{1,4}$/.test(g)) ? groups : undefined;
}
