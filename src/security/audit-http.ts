/**
 * The audit trail's HTTP sink (CONTRACT §7 `audit`, `"sink": "http"`): each event POSTed alone,
 * signed with `X-Signature: sha256=<hex HMAC-SHA256 of the body>`, retried with backoff and
 * jitter within bounds (attempts, age, queue size), never delaying or failing the request it
 * records. WebCrypto and fetch only: it runs on Node and on Workers.
 */
import { errorText, type AuditAction, type AuditEvent, type AuditSink, type WaitUntil } from './audit.js';
import type { Logger } from '../observability/logger.js';

export interface HttpAuditSinkOptions {
  /** Where each event is POSTed. */
  url: string;
  /** The HMAC-SHA256 key of `X-Signature`. Never logged. */
  secret: string;
  /** Where dropped events are reported. */
  logger: Logger;
  /** @default globalThis.fetch, looked up at each attempt */
  fetch?: typeof fetch;
  /** Attempts per event, the first included. @default 8 */
  maxAttempts?: number;
  /** The first retry waits between half of this and all of it (jitter); each next one twice as long. @default 1000 */
  firstRetryMs?: number;
  /** The longest wait between two attempts. @default 60000 */
  maxRetryDelayMs?: number;
  /** No attempt starts, or runs, later than this after the event. @default 300000 (5 minutes) */
  deadlineMs?: number;
  /** One attempt's limit, the answer's body included. @default 10000 */
  attemptTimeoutMs?: number;
  /** Events held (queued, sending or waiting to be retried) at most; beyond it the oldest is dropped. @default 10000 */
  maxQueue?: number;
  /** Attempts in flight at once. @default 4 */
  concurrency?: number;
  /** @default Math.random */
  random?: () => number;
}

export const HTTP_AUDIT_DEFAULTS = {
  maxAttempts: 8,
  firstRetryMs: 1000,
  maxRetryDelayMs: 60_000,
  deadlineMs: 300_000,
  attemptTimeoutMs: 10_000,
  maxQueue: 10_000,
  concurrency: 4,
} as const;

/**
 * The wait after the `attempt`th failed attempt: exponential from `firstRetryMs`, capped at
 * `maxRetryDelayMs`, with jitter (`random` in [0, 1) takes half to all of it).
 *
 * @example auditRetryDelayMs(1, Math.random()) // 500..1000: the first retry comes within 2 s
 */
export function auditRetryDelayMs(
  attempt: number,
  random: number,
  opts: { firstRetryMs: number; maxRetryDelayMs: number } = HTTP_AUDIT_DEFAULTS,
): number {
  const full = Math.min(opts.maxRetryDelayMs, opts.firstRetryMs * 2 ** (attempt - 1));
  return full * (0.5 + 0.5 * random);
}

/** At most one "queue full" warning per this many ms, with the count since the last one. */
const OVERFLOW_WARN_EVERY_MS = 10_000;

interface Delivery {
  seq: number;
  requestId: string;
  action: AuditAction;
  /** The exact bytes POSTed, and signed. */
  body: Uint8Array<ArrayBuffer>;
  signature?: string;
  createdAt: number;
  attempts: number;
  timer?: ReturnType<typeof setTimeout>;
  /** Resolves once the event is delivered or dropped (what a Worker's waitUntil holds). */
  done: Promise<void>;
  settle(): void;
}

const encoder = new TextEncoder();

/**
 * POSTs each event alone, as `application/json`, with `X-Signature: sha256=<lowercase hex
 * HMAC-SHA256 of the body bytes>`. A network error or a non-2xx answer is retried with
 * exponential backoff and jitter (the first retry within 2 s), at most `maxAttempts` in all and
 * never after `deadlineMs`; then the event is dropped with one warning line. At most `maxQueue`
 * events are held: beyond it the oldest is dropped, with a warning and a count.
 *
 * @example
 * const sink = createHttpAuditSink({ url: 'https://audit.example.com/in', secret, logger });
 * sink.emit(event);           // returns at once
 * await sink.close(2000);     // at shutdown: pending deliveries get 2 s
 */
export function createHttpAuditSink(opts: HttpAuditSinkOptions): AuditSink {
  return new HttpAuditSink(opts);
}

class HttpAuditSink implements AuditSink {
  private readonly ready: Delivery[] = [];
  private readonly waiting = new Set<Delivery>();
  private sending = 0;
  private seq = 0;
  private key: Promise<CryptoKey> | undefined;
  private readonly idleWaiters: Array<() => void> = [];
  private overflowDropped = 0;
  private overflowUnreported = 0;
  private lastOverflowWarnAt = -Infinity;
  private readonly cfg: Required<Omit<HttpAuditSinkOptions, 'fetch'>> & { fetch?: typeof fetch };

  constructor(opts: HttpAuditSinkOptions) {
    this.cfg = { ...HTTP_AUDIT_DEFAULTS, random: Math.random, ...opts };
  }

  emit(event: AuditEvent, waitUntil?: WaitUntil): void {
    try {
      const delivery = this.deliveryOf(event);
      if (this.held >= this.cfg.maxQueue) this.dropOldest();
      this.ready.push(delivery);
      waitUntil?.(delivery.done);
      this.pump();
    } catch (err) {
      this.cfg.logger.error({ err: errorText(err) }, 'audit: an event could not be queued for the HTTP sink');
    }
  }

  async close(timeoutMs: number): Promise<boolean> {
    // A last chance now for the events waiting for a retry, rather than at their scheduled time.
    for (const delivery of this.waiting) {
      clearTimeout(delivery.timer);
      this.waiting.delete(delivery);
      this.ready.push(delivery);
    }
    this.pump();
    const emptied = await raceTimeout(this.whenIdle(), timeoutMs);
    this.reportOverflow(true);
    if (!emptied) {
      this.cfg.logger.warn({ undelivered: this.held }, 'audit: events still undelivered to the HTTP sink at shutdown');
    }
    return emptied;
  }

  /** Queued, sending, or waiting for a retry. */
  private get held(): number {
    return this.ready.length + this.waiting.size + this.sending;
  }

  private deliveryOf(event: AuditEvent): Delivery {
    let settle!: () => void;
    const done = new Promise<void>((resolve) => (settle = resolve));
    return {
      seq: ++this.seq,
      requestId: event.requestId,
      action: event.action,
      body: encoder.encode(JSON.stringify(event)),
      createdAt: Date.now(),
      attempts: 0,
      done,
      settle,
    };
  }

  private pump(): void {
    while (this.sending < this.cfg.concurrency && this.ready.length > 0) {
      const delivery = this.ready.shift()!;
      this.sending += 1;
      void this.attempt(delivery).finally(() => {
        this.sending -= 1;
        this.pump();
        this.notifyIfIdle();
      });
    }
  }

  private async attempt(delivery: Delivery): Promise<void> {
    const remainingMs = delivery.createdAt + this.cfg.deadlineMs - Date.now();
    if (remainingMs <= 0) return this.drop(delivery, 'too old to send');
    delivery.attempts += 1;
    let failure: string;
    try {
      delivery.signature ??= await this.sign(delivery.body);
      const signal = AbortSignal.timeout(Math.min(this.cfg.attemptTimeoutMs, remainingMs));
      const res = await (this.cfg.fetch ?? fetch)(this.cfg.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-signature': `sha256=${delivery.signature}` },
        body: delivery.body,
        redirect: 'manual', // a redirected POST would arrive nowhere (or as a GET): a failure, retried
        signal,
      });
      await res.arrayBuffer().catch(() => undefined); // read to the end: the connection can be reused
      if (res.ok) return delivery.settle();
      failure = `HTTP ${res.status}`;
    } catch (err) {
      failure = errorText(err);
    }
    this.retryLater(delivery, failure);
  }

  private retryLater(delivery: Delivery, failure: string): void {
    if (delivery.attempts >= this.cfg.maxAttempts) return this.drop(delivery, failure);
    const delayMs = this.backoffMs(delivery.attempts);
    if (Date.now() + delayMs >= delivery.createdAt + this.cfg.deadlineMs) return this.drop(delivery, failure);
    this.waiting.add(delivery);
    delivery.timer = setTimeout(() => {
      this.waiting.delete(delivery);
      this.ready.push(delivery);
      this.pump();
    }, delayMs);
    unref(delivery.timer);
  }

  private backoffMs(attempt: number): number {
    return auditRetryDelayMs(attempt, this.cfg.random(), this.cfg);
  }

  private drop(delivery: Delivery, reason: string): void {
    this.cfg.logger.warn(
      { requestId: delivery.requestId, action: delivery.action, attempts: delivery.attempts, reason },
      'audit: event dropped, the HTTP sink did not take it',
    );
    delivery.settle();
  }

  /** The queue is full: the oldest event not being sent makes room. */
  private dropOldest(): void {
    let oldest: Delivery | undefined = this.ready[0];
    for (const delivery of this.waiting) if (!oldest || delivery.seq < oldest.seq) oldest = delivery;
    if (!oldest) return;
    if (this.waiting.delete(oldest)) clearTimeout(oldest.timer);
    else this.ready.shift();
    oldest.settle();
    this.overflowDropped += 1;
    this.overflowUnreported += 1;
    this.reportOverflow(false);
  }

  private reportOverflow(final: boolean): void {
    if (this.overflowUnreported === 0) return;
    const now = Date.now();
    if (!final && now - this.lastOverflowWarnAt < OVERFLOW_WARN_EVERY_MS) return;
    this.cfg.logger.warn(
      { dropped: this.overflowUnreported, droppedTotal: this.overflowDropped, maxQueue: this.cfg.maxQueue },
      'audit: the HTTP sink queue is full, the oldest undelivered events were dropped',
    );
    this.overflowUnreported = 0;
    this.lastOverflowWarnAt = now;
  }

  private async sign(body: Uint8Array<ArrayBuffer>): Promise<string> {
    this.key ??= hmacKey(this.cfg.secret);
    return hex(new Uint8Array(await crypto.subtle.sign('HMAC', await this.key, body)));
  }

  private whenIdle(): Promise<boolean> {
    if (this.held === 0) return Promise.resolve(true);
    return new Promise((resolve) => this.idleWaiters.push(() => resolve(true)));
  }

  private notifyIfIdle(): void {
    if (this.held !== 0) return;
    for (const wake of this.idleWaiters.splice(0)) wake();
  }
}

/**
 * The signature `X-Signature` carries, without its `sha256=` prefix: lowercase hex HMAC-SHA256.
 *
 * @example await auditSignature('secret', '{"kind":"audit",…}') // 'b613679a…'
 */
export async function auditSignature(secret: string, body: string | Uint8Array<ArrayBuffer>): Promise<string> {
  const bytes = typeof body === 'string' ? encoder.encode(body) : body;
  return hex(new Uint8Array(await crypto.subtle.sign('HMAC', await hmacKey(secret), bytes)));
}

function hmacKey(secret: string): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
}

function hex(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) out += byte.toString(16).padStart(2, '0');
  return out;
}

/** Resolves with `work`'s value, or false after `ms`. */
function raceTimeout(work: Promise<boolean>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

/** A pending retry must not keep a Node process alive (Workers' timers have no unref). */
function unref(timer: ReturnType<typeof setTimeout>): void {
  (timer as { unref?: () => void }).unref?.();
}
