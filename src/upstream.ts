/**
 * One HTTP client for every upstream: timeouts, the request id sent upstream, network failures
 * turned into contract errors. It does not interpret statuses: each adapter does that, because
 * only the adapter knows what its provider means by them.
 */
import type { CallContext } from './adapter.js';
import { upstreamError, upstreamTimeout, upstreamUnavailable } from './errors.js';

export interface UpstreamRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path below the client's base URL, starting with '/'. */
  path: string;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
}

export interface UpstreamResponse {
  status: number;
  headers: Headers;
  /** The parsed JSON body; undefined for an empty body. */
  body: unknown;
}

export interface UpstreamClientOptions {
  /** Base URL every path is appended to, e.g. `http://127.0.0.1:8081/api/v1`. */
  baseUrl: string;
  /** Sent on every call (auth, content type). Never logged. */
  headers: Record<string, string>;
  timeoutMs: number;
  /** The provider's name, for error details: "SFTPGo answered …". */
  label: string;
  fetch?: typeof fetch;
}

export class UpstreamClient {
  private readonly base: string;
  private readonly doFetch: typeof fetch;

  constructor(private readonly opts: UpstreamClientOptions) {
    this.base = opts.baseUrl.replace(/\/+$/, '');
    this.doFetch = opts.fetch ?? ((input, init) => fetch(input, init));
  }

  async request(req: UpstreamRequest, ctx: CallContext): Promise<UpstreamResponse> {
    const url = this.urlOf(req);
    const started = performance.now();
    const signal = AbortSignal.timeout(this.opts.timeoutMs);
    let outcome = 'error';
    let status = 0;
    try {
      const res = await this.doFetch(url, {
        method: req.method,
        headers: {
          ...this.opts.headers,
          accept: 'application/json',
          'x-request-id': ctx.requestId,
          ...(req.body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: req.body === undefined ? undefined : JSON.stringify(req.body),
        signal,
      });
      status = res.status;
      const text = await res.text();
      outcome = String(status);
      return { status, headers: res.headers, body: this.parse(text, status) };
    } catch (err) {
      throw this.networkError(err, signal);
    } finally {
      ctx.logger.debug(
        { upstream: this.opts.label, method: req.method, path: req.path, status, outcome,
          durationMs: Math.round((performance.now() - started) * 10) / 10 },
        'upstream call',
      );
    }
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

  /** Maps what fetch throws to 503/504 without echoing the URL (it may carry credentials). */
  private networkError(err: unknown, signal: AbortSignal): Error {
    if (err instanceof Error && err.name === 'GatewayError') return err;
    if (signal.aborted) {
      return upstreamTimeout(`${this.opts.label} did not answer within ${this.opts.timeoutMs} ms`);
    }
    return upstreamUnavailable(`${this.opts.label} could not be reached (connection refused or reset)`);
  }
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
