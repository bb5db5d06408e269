/**
 * A circuit breaker per backend: after `failureThreshold` consecutive failed upstream calls
 * (connection errors, timeouts, 5xx) the backend's calls fail fast for `coolDownMs`, so a dead
 * upstream costs callers nothing and gets no pile of retries. After the cool-down ONE probe call
 * goes through: its success closes the circuit, its failure reopens it.
 *
 * It knows nothing of HTTP: UpstreamClient asks `admit()` before a call and reports the outcome.
 * Plain code, no timers, no Node modules: it runs on Workers too.
 */

export type CircuitPhase = 'closed' | 'open' | 'half-open';

/** What `GET /v1/backends/{name}` and the metrics show. */
export interface CircuitState {
  state: CircuitPhase;
  /** Consecutive failures counted so far (reset by a success). */
  failures: number;
  /** While open: when the cool-down ends (ISO 8601). Otherwise null. */
  openUntil: string | null;
}

export interface CircuitBreakerOptions {
  /** Consecutive failed calls that open the circuit. @default 5 */
  failureThreshold?: number;
  /** How long an open circuit fails calls fast before it lets one probe through. @default 10000 */
  coolDownMs?: number;
  /** The clock, injectable for tests. @default Date.now */
  now?: () => number;
}

/** Leave to call: `probe` marks the one call that decides a half-open circuit. */
export interface CircuitPermit {
  ok: true;
  probe: boolean;
}

/** No leave: how long until a probe may go (0 when a probe is already in flight). */
export interface CircuitRefusal {
  ok: false;
  retryInMs: number;
  failures: number;
}

export const BREAKER_DEFAULTS = { failureThreshold: 5, coolDownMs: 10_000 } as const;

/**
 * @example
 * const breaker = new CircuitBreaker({ failureThreshold: 5, coolDownMs: 10_000 });
 * const permit = breaker.admit();
 * if (!permit.ok) throw upstreamUnavailable(`circuit open for ${permit.retryInMs} ms`);
 * try { await call(); breaker.record(permit, true); } catch { breaker.record(permit, false); }
 * breaker.state(); // { state: 'closed', failures: 0, openUntil: null }
 */
export class CircuitBreaker {
  readonly failureThreshold: number;
  readonly coolDownMs: number;
  private readonly now: () => number;
  private failures = 0;
  /** Set while open or half-open: when the cool-down ends (ms since the epoch). */
  private openUntilMs: number | null = null;
  private probing = false;

  constructor(opts: CircuitBreakerOptions = {}) {
    this.failureThreshold = opts.failureThreshold ?? BREAKER_DEFAULTS.failureThreshold;
    this.coolDownMs = opts.coolDownMs ?? BREAKER_DEFAULTS.coolDownMs;
    this.now = opts.now ?? Date.now;
  }

  state(): CircuitState {
    if (this.openUntilMs === null) return { state: 'closed', failures: this.failures, openUntil: null };
    if (this.now() < this.openUntilMs) {
      return { state: 'open', failures: this.failures, openUntil: new Date(this.openUntilMs).toISOString() };
    }
    return { state: 'half-open', failures: this.failures, openUntil: null };
  }

  /** Asks to make a call. A refused call must not be made; a permitted one must be `record`ed. */
  admit(): CircuitPermit | CircuitRefusal {
    if (this.openUntilMs === null) return { ok: true, probe: false };
    const wait = this.openUntilMs - this.now();
    if (wait > 0) return { ok: false, retryInMs: wait, failures: this.failures };
    // Cool-down over: the first caller probes, the others keep failing fast until it decides.
    if (this.probing) return { ok: false, retryInMs: 0, failures: this.failures };
    this.probing = true;
    return { ok: true, probe: true };
  }

  /** The outcome of a permitted call: `ok` = the upstream answered (any status below 500). */
  record(permit: CircuitPermit, ok: boolean): void {
    if (permit.probe) {
      this.probing = false;
      if (ok) {
        this.close();
      } else {
        this.failures += 1;
        this.open();
      }
      return;
    }
    // A call let through before the circuit opened, ending after: the probe decides, not it.
    if (this.openUntilMs !== null) return;
    if (ok) {
      this.failures = 0;
    } else {
      this.failures += 1;
      if (this.failures >= this.failureThreshold) this.open();
    }
  }

  private open(): void {
    this.openUntilMs = this.now() + this.coolDownMs;
  }

  private close(): void {
    this.failures = 0;
    this.openUntilMs = null;
  }
}
