/**
 * UpstreamClient against scripted fetches: the one deadline (body included), which calls are
 * retried and which never are, Retry-After, and the circuit breaker it reports to.
 */
import { describe, expect, it } from 'vitest';
import type { CallContext } from '../src/provider-kit/adapter.js';
import { CircuitBreaker } from '../src/reliability/circuit-breaker.js';
import { parseConfig } from '../src/providers.js';
import { createLogger } from '../src/observability/logger.js';
import { UpstreamClient, retryAfterMs, type UpstreamClientOptions, type UpstreamRequest } from '../src/reliability/upstream.js';
import { failure } from './helpers/errors.js';

type Step = Response | Error | 'hang' | (() => Response);

/** A fetch that plays `steps` in order (the last one repeats) and counts its calls. */
function scripted(...steps: Step[]) {
  const calls: string[] = [];
  const fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    calls.push(`${init?.method} ${String(input)}`);
    const step = steps[Math.min(calls.length - 1, steps.length - 1)]!;
    if (step === 'hang') {
      return new Promise<Response>((_, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal!.reason)));
    }
    if (step instanceof Error) throw step;
    return typeof step === 'function' ? step() : step.clone();
  }) as typeof globalThis.fetch;
  return { fetch, calls };
}

const logLines: string[] = [];
const ctx: CallContext = { requestId: 'req-1', logger: createLogger({ level: 'debug', destination: { write: (l) => logLines.push(l) } }) };
const ok = () => Response.json([{ id: 1 }]);
const status = (code: number, headers: Record<string, string> = {}) => Response.json({ error: `HTTP ${code}` }, { status: code, headers });
const refused = () => new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) });
const GET: UpstreamRequest = { method: 'GET', path: '/user' };

function client(fetch: typeof globalThis.fetch, opts: Partial<UpstreamClientOptions> = {}) {
  return new UpstreamClient({
    baseUrl: 'http://upstream.test/api', headers: {}, timeoutMs: 2000, label: 'Upstream', fetch, retryBaseMs: 5, ...opts,
  });
}


describe('the deadline', () => {
  it('covers the body: headers then a stalled body is a 504 within timeoutMs', async () => {
    const stalled = () => new Response(new ReadableStream({ start: (c) => c.enqueue(new TextEncoder().encode('[{"id":')) }));
    const { fetch, calls } = scripted(stalled);
    const started = performance.now();
    const err = await failure(client(fetch, { timeoutMs: 200 }).request(GET, ctx));
    expect([err.status, err.code, err.detail]).toEqual([504, 'upstream_timeout', 'Upstream did not answer within 200 ms']);
    expect(performance.now() - started).toBeLessThan(600);
    expect(calls).toHaveLength(1); // the budget is spent: no retry
  });

  it('a hanging upstream is a 504, not retried', async () => {
    const { fetch, calls } = scripted('hang', ok());
    expect((await failure(client(fetch, { timeoutMs: 150 }).request(GET, ctx))).status).toBe(504);
    expect(calls).toHaveLength(1);
  });

  it('retries never outlast it: a wait that would end past the deadline is not taken', async () => {
    const { fetch, calls } = scripted(status(503, { 'Retry-After': '1' }), ok());
    const started = performance.now();
    const res = await client(fetch, { timeoutMs: 500 }).request(GET, ctx);
    expect(res.status).toBe(503); // passed on to the adapter, which answers 502
    expect(calls).toHaveLength(1);
    expect(performance.now() - started).toBeLessThan(400);
  });
});

describe('retries', () => {
  it.each([502, 503, 504, 429])('retries a GET answered %i, then returns the success', async (code) => {
    const { fetch, calls } = scripted(status(code), ok());
    const res = await client(fetch).request(GET, ctx);
    expect([res.status, res.body]).toEqual([200, [{ id: 1 }]]);
    expect(calls).toEqual(['GET http://upstream.test/api/user', 'GET http://upstream.test/api/user']);
  });

  it('retries a GET after a connection error', async () => {
    const { fetch, calls } = scripted(refused(), ok());
    expect((await client(fetch).request(GET, ctx)).status).toBe(200);
    expect(calls).toHaveLength(2);
  });

  it('retries at most twice, then returns the last answer or error', async () => {
    const busy = scripted(status(503));
    expect((await client(busy.fetch).request(GET, ctx)).status).toBe(503);
    expect(busy.calls).toHaveLength(3);
    const down = scripted(refused());
    const err = await failure(client(down.fetch).request(GET, ctx));
    expect([err.status, err.code]).toEqual([503, 'upstream_unavailable']);
    expect(down.calls).toHaveLength(3);
  });

  it.each(['POST', 'PUT', 'PATCH', 'DELETE'] as const)('never retries a %s (a lost answer may hide a change made)', async (method) => {
    const busy = scripted(status(503), ok());
    expect((await client(busy.fetch).request({ method, path: '/user', body: {} }, ctx)).status).toBe(503);
    expect(busy.calls).toHaveLength(1);
    const down = scripted(refused(), ok());
    expect((await failure(client(down.fetch).request({ method, path: '/user' }, ctx))).status).toBe(503);
    expect(down.calls).toHaveLength(1);
  });

  it('does not retry a 500, a 4xx or a 200 whose body is not JSON', async () => {
    for (const answer of [status(500), status(404), status(400), new Response('<html>', { status: 200 })]) {
      const { fetch, calls } = scripted(answer, ok());
      await client(fetch).request(GET, ctx).catch(() => undefined);
      expect(calls, String(answer.status)).toHaveLength(1);
    }
  });

  it('waits what Retry-After asks when it is within 2 s; a longer one is passed on at once', async () => {
    const short = scripted(status(429, { 'Retry-After': '1' }), ok());
    const started = performance.now();
    expect((await client(short.fetch, { timeoutMs: 5000 }).request(GET, ctx)).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(950);
    const long = scripted(status(429, { 'Retry-After': '7' }), ok());
    const res = await client(long.fetch, { timeoutMs: 10_000 }).request(GET, ctx);
    expect([res.status, res.headers.get('retry-after')]).toEqual([429, '7']);
    expect(long.calls).toHaveLength(1);
  });

  it('is off with retries: 0', async () => {
    const { fetch, calls } = scripted(status(503), ok());
    expect((await client(fetch, { retries: 0 }).request(GET, ctx)).status).toBe(503);
    expect(calls).toHaveLength(1);
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    expect(retryAfterMs('2')).toBe(2000);
    expect(retryAfterMs(null)).toBeNull();
    expect(retryAfterMs('soon')).toBeNull();
    expect(retryAfterMs(new Date(Date.now() + 60_000).toUTCString())).toBeGreaterThan(55_000);
    expect(retryAfterMs('Thu, 01 Jan 1970 00:00:00 GMT')).toBe(0);
  });
});

describe('with a circuit breaker', () => {
  function guarded(fetch: typeof globalThis.fetch) {
    const clock = { now: 0 };
    const breaker = new CircuitBreaker({ failureThreshold: 2, coolDownMs: 1500, now: () => clock.now });
    return { breaker, clock, upstream: client(fetch, { breaker }) };
  }

  it('counts 5xx, connection errors and timeouts as failures; one call with its retries is one failure', async () => {
    const { fetch, calls } = scripted(status(500), refused());
    const { breaker, upstream } = guarded(fetch);
    await upstream.request(GET, ctx);
    expect(breaker.state()).toMatchObject({ state: 'closed', failures: 1 });
    await upstream.request(GET, ctx).catch(() => undefined); // refused 3 times
    expect(calls).toHaveLength(4);
    expect(breaker.state()).toMatchObject({ state: 'open', failures: 2 });

    const hung = new CircuitBreaker();
    await client(scripted('hang').fetch, { breaker: hung, timeoutMs: 100 }).request(GET, ctx).catch(() => undefined);
    expect(hung.state().failures).toBe(1);
  });

  it('does not count 4xx answers (nor 429) as failures', async () => {
    const { fetch } = scripted(status(404), status(409), status(429, { 'Retry-After': '60' }), status(400));
    const { breaker, upstream } = guarded(fetch);
    for (let i = 0; i < 4; i++) await upstream.request(GET, ctx);
    expect(breaker.state()).toEqual({ state: 'closed', failures: 0, openUntil: null });
  });

  it('when open, fails fast with 503 saying for how long, without calling upstream', async () => {
    const { fetch, calls } = scripted(status(500));
    const { clock, upstream } = guarded(fetch);
    await upstream.request(GET, ctx);
    await upstream.request(GET, ctx);
    clock.now += 300;
    const err = await failure(upstream.request(GET, ctx));
    expect([err.status, err.code]).toEqual([503, 'upstream_unavailable']);
    expect(err.detail).toBe('Upstream failed 2 calls in a row: the circuit to it is open for another 1.2 s');
    expect(err.extra.headers).toEqual({ 'Retry-After': '2' });
    expect(calls).toHaveLength(2);
    expect(logLines.some((l) => l.includes('circuit opened'))).toBe(true);
  });

  it('after the cool-down sends one probe, never retried: a failure reopens, a success closes', async () => {
    const { fetch, calls } = scripted(status(500), status(500), status(503), ok());
    const { breaker, clock, upstream } = guarded(fetch);
    await upstream.request(GET, ctx);
    await upstream.request(GET, ctx);
    clock.now += 1500;
    expect((await upstream.request(GET, ctx)).status).toBe(503); // the probe: one attempt
    expect(calls).toHaveLength(3);
    expect(breaker.state().state).toBe('open');
    clock.now += 1500;
    expect((await upstream.request(GET, ctx)).status).toBe(200);
    expect(breaker.state()).toEqual({ state: 'closed', failures: 0, openUntil: null });
  });
});

describe('config', () => {
  const withBackend = (extra: Record<string, unknown>) => JSON.stringify({
    auth: { apiKeys: [{ name: 'ops', key: 'ops-key-0123456789abcdef', scopes: ['read'] }] },
    backends: { onprem: { provider: 'sftpgo', baseUrl: 'http://sftpgo.test', ...extra } },
  });

  it('takes retries and breaker settings per backend, all optional', () => {
    const cfg = parseConfig(withBackend({ retries: 0, breaker: { failureThreshold: 3, coolDownMs: 2000 } }), {});
    expect(cfg.backends.onprem).toMatchObject({ retries: 0, breaker: { failureThreshold: 3, coolDownMs: 2000 } });
    expect(parseConfig(withBackend({}), {}).backends.onprem).not.toHaveProperty('breaker');
  });

  it.each([
    [{ retries: 3 }, 'backends.onprem.retries'],
    [{ breaker: { failureThreshold: 0 } }, 'backends.onprem.breaker.failureThreshold'],
    [{ breaker: { coolDown: 5 } }, 'backends.onprem.breaker'],
  ])('refuses %j, naming %s', (extra, field) => {
    expect(() => parseConfig(withBackend(extra), {})).toThrow(expect.objectContaining({ field }));
  });
});
