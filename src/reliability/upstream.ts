/**
 * One HTTP client for every upstream: one deadline per call (connect, headers and body, retries
 * included), retries of reads, the backend's circuit breaker, the request id sent upstream, and
 * network failures turned into contract errors. It reads statuses only as HTTP does (5xx and 429
 * are worth a retry, 5xx is a failure); what a status means is the adapter's business, because
 * only the adapter knows what its provider means by it.
 *
 * Every exchange goes through an `UpstreamTransport`: `fetchTransport` (any `fetch`: Workers',
 * an emulator's in-process one, Node's global one) or, on Node, the cheaper undici Pool of
 * src/node/transport.ts. Connection pooling is the transport's. Nothing Node-only is imported here.
 */
import type { Logger } from '../observability/logger.js';
import type { CircuitBreaker, CircuitPermit, CircuitRefusal } from './circuit-breaker.js';
import { GatewayError, upstreamError, upstreamTimeout, upstreamUnavailable } from '../domain/errors.js';
import { upstreamOutcome } from '../observability/metrics.js';

/** What every upstream call carries: the request id (sent upstream) and a logger. */
export interface CallContext {
  requestId: string;
  logger: Logger;
}

export interface UpstreamRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path below the client's base URL, starting with '/'. */
  path: string;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  /** This call's own headers, over the client's (a bearer token that changes). Never logged. */
  headers?: Record<string, string>;
}

export interface UpstreamResponse {
  status: number;
  headers: Headers;
  /** The parsed JSON body; undefined for an empty body. */
  body: unknown;
}

/** One HTTP exchange as the client sends it: the full URL, headers as sent, the body as text. */
export interface TransportRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
  /** The call's deadline: aborting it must reject `send`, while the body is read too. */
  signal: AbortSignal;
}

/** The answer with its whole body read. */
export interface TransportResponse {
  status: number;
  headers: Headers;
  text: string;
}

/**
 * How the client reaches an upstream: runtime-neutral, so the Worker keeps `fetch` and Node can
 * use a cheaper client. `send` rejects on a network failure and when `signal` aborts (also while
 * the body is read); the client tells the two apart by `signal.aborted`.
 */
export interface UpstreamTransport {
  send(req: TransportRequest): Promise<TransportResponse>;
  /** Closes pooled connections, aborting calls still in flight (Node's shutdown, after the drain). */
  close?(): Promise<void>;
}

export interface UpstreamClientOptions {
  /** Base URL every path is appended to, e.g. `http://127.0.0.1:8081/api/v1`. */
  baseUrl: string;
  /** Sent on every call (auth, content type). Never logged. */
  headers: Record<string, string>;
  /** The whole call's budget: every attempt, its body and the waits between them. */
  timeoutMs: number;
  /** The provider's name, for error details: "SFTPGo answered …". */
  label: string;
  /** An injected fetch (tests, in-process emulators): when given, it wins over `transport`. */
  fetch?: typeof fetch;
  /** How calls travel when no `fetch` is injected. @default fetchTransport(globalThis.fetch) */
  transport?: UpstreamTransport;
  /** Retries of a GET after a connection error, 502, 503, 504 or 429 (0..2). @default 2 */
  retries?: number;
  /** The backend's breaker; without one, every call goes upstream. */
  breaker?: CircuitBreaker;
  /** The first backoff step; each next one doubles, each is jittered to 50–100 %. @default 100 */
  retryBaseMs?: number;
  /** Told every call's outcome and duration in seconds (metrics). */
  observe?: (outcome: string, seconds: number) => void;
}

export const RETRY_DEFAULTS = {
  retries: 2,
  retryBaseMs: 100,
  /** A `Retry-After` longer than this is not waited for: the 429 or 503 is answered at once. */
  retryAfterCapMs: 2_000,
} as const;

/** Statuses that say "try again": the upstream (or a proxy in front of it) is briefly unable. */
const RETRYABLE_STATUSES = new Set([429, 502, 503, 504]);

/** One attempt's result: an answer with its body read, or the contract error it failed with. */
type Attempt = TransportResponse | { error: GatewayError };

/** The call's budget: an abort signal for the transport and the moment it fires, to plan waits by. */
interface Deadline {
  signal: AbortSignal;
  endsAt: number;
}

export class UpstreamClient {
  private readonly base: string;
  private readonly transport: UpstreamTransport;
  private readonly retries: number;
  private readonly retryBaseMs: number;

  constructor(private readonly opts: UpstreamClientOptions) {
    this.base = opts.baseUrl.replace(/\/+$/, '');
    this.transport = opts.fetch ? fetchTransport(opts.fetch) : (opts.transport ?? fetchTransport());
    this.retries = Math.min(Math.max(opts.retries ?? RETRY_DEFAULTS.retries, 0), 2);
    this.retryBaseMs = opts.retryBaseMs ?? RETRY_DEFAULTS.retryBaseMs;
  }

  async request(req: UpstreamRequest, ctx: CallContext): Promise<UpstreamResponse> {
    const permit = this.admit(req, ctx);
    const started = performance.now();
    // Writes are never retried: a lost answer does not mean the change was not made. The probe of
    // a half-open circuit is one attempt: it is there to find out, not to insist.
    const retries = req.method === 'GET' && !permit?.probe ? this.retries : 0;
    const { got, attempts } = await this.attemptUntilDone(req, ctx, retries);
    if (permit) this.settle(permit, !('error' in got) && got.status < 500, ctx);
    this.opts.observe?.(upstreamOutcome('error' in got ? got.error : got.status), (performance.now() - started) / 1000);
    ctx.logger.debug(
      { upstream: this.opts.label, method: req.method, path: req.path, attempts,
        status: 'error' in got ? 0 : got.status, outcome: 'error' in got ? got.error.code : String(got.status),
        durationMs: Math.round((performance.now() - started) * 10) / 10 },
      'upstream call',
    );
    if ('error' in got) throw got.error;
    return { status: got.status, headers: got.headers, body: this.parse(got.text, got.status) };
  }

  /** Attempts until one is not worth retrying, all under one deadline. Never throws. */
  private async attemptUntilDone(req: UpstreamRequest, ctx: CallContext, retries: number): Promise<{ got: Attempt; attempts: number }> {
    const deadline: Deadline = {
      signal: AbortSignal.timeout(this.opts.timeoutMs),
      endsAt: performance.now() + this.opts.timeoutMs,
    };
    for (let attempts = 1; ; attempts++) {
      const got = await this.attempt(req, ctx, deadline.signal);
      const wait = attempts <= retries ? this.retryDelay(got, attempts, deadline) : null;
      if (wait === null || !(await pause(wait, deadline.signal))) return { got, attempts };
    }
  }

  /** The breaker's leave for this call, or the fast 503 when the circuit is open. */
  private admit(req: UpstreamRequest, ctx: CallContext): CircuitPermit | undefined {
    const { breaker } = this.opts;
    if (!breaker) return undefined;
    const permit = breaker.admit();
    if (permit.ok) return permit;
    ctx.logger.debug({ upstream: this.opts.label, method: req.method, path: req.path, outcome: 'circuit_open' }, 'upstream call');
    this.opts.observe?.('open-circuit', 0);
    throw circuitOpen(this.opts.label, permit);
  }

  /** Reports the call's outcome to the breaker, and logs when that opens or closes the circuit. */
  private settle(permit: CircuitPermit, ok: boolean, ctx: CallContext): void {
    const breaker = this.opts.breaker!;
    const before = breaker.state().state;
    breaker.record(permit, ok);
    const after = breaker.state();
    if (after.state === before) return;
    const fields = { upstream: this.opts.label, circuit: after.state, failures: after.failures, openUntil: after.openUntil };
    if (after.state === 'open') ctx.logger.warn(fields, 'circuit opened: calls fail fast until the cool-down ends');
    else ctx.logger.info(fields, 'circuit closed');
  }

  /** One exchange, body included, under the call's deadline. Never throws. */
  private async attempt(req: UpstreamRequest, ctx: CallContext, signal: AbortSignal): Promise<Attempt> {
    try {
      return await this.transport.send({
        method: req.method,
        url: this.urlOf(req),
        headers: {
          ...this.opts.headers,
          ...req.headers,
          accept: 'application/json',
          'x-request-id': ctx.requestId,
          ...(req.body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: req.body === undefined ? undefined : JSON.stringify(req.body),
        signal,
      });
    } catch (err) {
      return { error: this.networkError(err, signal) };
    }
  }

  /**
   * How long to wait before retrying this attempt, or null not to: only a connection error or a
   * retryable status, only when `Retry-After` (if any) is within the cap, and only when the wait
   * leaves time before the deadline.
   */
  private retryDelay(got: Attempt, attempt: number, deadline: Deadline): number | null {
    let wait: number;
    if ('error' in got) {
      if (got.error.status !== 503) return null; // 504: the budget is spent
      wait = backoff(this.retryBaseMs, attempt);
    } else {
      if (!RETRYABLE_STATUSES.has(got.status)) return null;
      const asked = retryAfterMs(got.headers.get('retry-after'));
      if (asked !== null && asked > RETRY_DEFAULTS.retryAfterCapMs) return null;
      wait = asked ?? backoff(this.retryBaseMs, attempt);
    }
    return performance.now() + wait < deadline.endsAt ? wait : null;
  }

  private urlOf(req: UpstreamRequest): string {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(req.query ?? {})) if (v !== undefined) params.set(k, String(v));
    const qs = params.size ? `?${params}` : '';
    return `${this.base}${req.path}${qs}`;
  }

  private parse(text: string, status: number): unknown {
    if (text.trim() === '') return undefined;
    try {
      return JSON.parse(text);
    } catch {
      throw upstreamError(`${this.opts.label} answered ${status} with a body that is not JSON`);
    }
  }

  /** Maps what the transport throws to 503/504 without echoing the URL (it may carry credentials). */
  private networkError(err: unknown, signal: AbortSignal): GatewayError {
    if (err instanceof GatewayError) return err;
    if (signal.aborted) {
      return upstreamTimeout(`${this.opts.label} did not answer within ${this.opts.timeoutMs} ms`);
    }
    return upstreamUnavailable(`${this.opts.label} could not be reached (connection refused or reset)`);
  }
}

/** The fast answer of an open circuit: 503, saying for how long, with a `Retry-After` to match. */
function circuitOpen(label: string, refusal: CircuitRefusal): GatewayError {
  const why = `${label} failed ${refusal.failures} calls in a row`;
  const detail = refusal.retryInMs > 0
    ? `${why}: the circuit to it is open for another ${(refusal.retryInMs / 1000).toFixed(1)} s`
    : `${why}: the circuit to it is half-open and a probe call is deciding whether to close it`;
  const retryAfter = String(Math.max(1, Math.ceil(refusal.retryInMs / 1000)));
  return new GatewayError(503, 'upstream_unavailable', detail, { headers: { 'Retry-After': retryAfter } });
}

/** Exponential backoff with jitter (50–100 % of the step), so many callers do not retry in step. */
function backoff(baseMs: number, attempt: number): number {
  const step = baseMs * 2 ** (attempt - 1);
  return Math.round(step / 2 + Math.random() * (step / 2));
}

/**
 * `Retry-After` in ms: delay-seconds or an HTTP date; null when absent or unreadable.
 * @example retryAfterMs('2') // 2000
 */
export function retryAfterMs(value: string | null): number | null {
  if (value === null) return null;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? null : Math.max(0, at - Date.now());
}

/**
 * The transport over a `fetch` (the global one when none is given): what Workers use, and tests
 * and demo wiring that route calls to an in-process emulator.
 */
export function fetchTransport(fetchImpl?: typeof fetch): UpstreamTransport {
  // Looked up per call, not captured: tests may replace the global fetch after the client is built.
  const doFetch: typeof fetch = fetchImpl ?? ((input, init) => fetch(input, init));
  return {
    async send({ method, url, headers, body, signal }) {
      const res = await doFetch(url, { method, headers, body, signal });
      return { status: res.status, headers: res.headers, text: await readText(res, signal) };
    },
  };
}

/**
 * The body, read under the call's deadline: an upstream that sends its headers and then stalls
 * is a timeout too, whatever the `fetch` (in-process ones do not abort a body on their own).
 */
async function readText(res: Response, signal: AbortSignal): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const cancel = () => void reader.cancel(signal.reason).catch(() => undefined);
  signal.addEventListener('abort', cancel, { once: true });
  try {
    const decoder = new TextDecoder();
    let text = '';
    for (;;) {
      signal.throwIfAborted();
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    signal.throwIfAborted(); // a cancelled read ends as `done`: it was the deadline, not the end
    return text + decoder.decode();
  } finally {
    signal.removeEventListener('abort', cancel);
  }
}

/** Waits `ms`; false when the deadline fires first. */
function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const done = (finished: boolean) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      resolve(finished);
    };
    const onAbort = () => done(false);
    const timer = setTimeout(() => done(true), ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Reads `error` or `message` of an upstream error body, for details, truncated. */
export function upstreamMessage(body: unknown): string {
  if (body && typeof body === 'object') {
    const b = body as Record<string, unknown>;
    for (const k of ['error', 'message', 'Error', 'Message']) {
      if (typeof b[k] === 'string' && b[k]) return String(b[k]).slice(0, 300);
    }
  }
  return '';
}
