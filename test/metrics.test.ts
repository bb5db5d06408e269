/**
 * Observability: `/metrics` (Prometheus text, prom-client, one registry per app), request,
 * upstream, cache and circuit metrics, and the upstream call log line with the request id.
 */
import { Writable } from 'node:stream';
import { beforeEach, describe, expect, it } from 'vitest';
import { createSftpgoEmulator, type SftpgoEmulator } from '../adapters/sftpgo/emulator/emulator.js';
import { createApp } from '../src/http/app.js';
import { createMemoryStore, noStore, type CacheStore } from '../src/cache/store.js';
import { parseConfig } from '../src/providers.js';
import { upstreamTimeout, upstreamUnavailable } from '../src/domain/errors.js';
import { ListCache } from '../src/cache/list-cache.js';
import { createNodeLogger } from '../src/node/logger.js';
import { noopMetrics, upstreamOutcome, type CircuitPhase, type Metrics } from '../src/observability/metrics.js';
import { createNodeMetrics } from '../src/node/metrics.js';
import { createAdapters } from '../src/providers.js';

const OPS_KEY = 'ops-key-0123456789abcdef';

/** A gateway in front of an in-process SFTPGo emulator, with the given metrics (none = the default). */
function gateway(
  emu: SftpgoEmulator,
  opts: { metrics?: Metrics; store?: CacheStore; backend?: Record<string, unknown>; metricsToken?: string } = {},
) {
  const config = parseConfig(
    JSON.stringify({
      auth: { apiKeys: [{ name: 'ops', key: OPS_KEY, scopes: ['read', 'write', 'admin'] }], failedAuthPerMinute: 0 },
      ...(opts.metricsToken ? { metrics: { token: opts.metricsToken } } : {}),
      backends: { onprem: { provider: 'sftpgo', baseUrl: 'http://sftpgo.invalid', sftpHost: 'sftp.example.com', ...opts.backend } },
      logLevel: 'debug',
    }),
    {},
  );
  const logs: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) logs.push(JSON.parse(line));
      done();
    },
  });
  const logger = createNodeLogger({ level: 'debug', destination: destination as unknown as { write(s: string): void } });
  const metrics = opts.metrics;
  const cache = new ListCache(opts.store ?? createMemoryStore(100), {
    ttlSeconds: 30,
    keyPrefix: 'test:',
    logger,
    ...(metrics ? { onOutcome: (backend: string, outcome: 'HIT' | 'MISS' | 'BYPASS') => metrics.observeCache(backend, outcome) } : {}),
  });
  const adapters = createAdapters(config.backends, () => emu.fetch as typeof fetch, metrics);
  const { app } = createApp({ config, adapters, cache, logger, ...(metrics ? { metrics } : {}) });
  const call = (path: string, init: { method?: string; headers?: Record<string, string>; body?: unknown } = {}) =>
    app.request(path, {
      method: init.method ?? 'GET',
      headers: {
        authorization: `Bearer ${OPS_KEY}`,
        ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...init.headers,
      },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
  const scrape = async () => {
    const res = await app.request('/metrics');
    expect(res.status).toBe(200);
    return res.text();
  };
  return { app, call, scrape, logs };
}

/** The value of the sample `name` whose labels include `labels`, or undefined. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return undefined;
}

let emu: SftpgoEmulator;
beforeEach(() => {
  emu = createSftpgoEmulator();
});

describe('GET /metrics', () => {
  it('answers Prometheus text without a key, counting requests by route pattern, method, status and backend', async () => {
    const gw = gateway(emu, { metrics: createNodeMetrics() });
    const created = await gw.call('/v1/backends/onprem/users', {
      method: 'POST',
      body: { username: 'metrics_user_1', accessLevel: 'read-only', password: 'a-long-password-1' },
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    expect((await gw.call(`/v1/backends/onprem/users/${id}`)).status).toBe(200);
    expect((await gw.call(`/v1/backends/onprem/users/${id}`)).status).toBe(200);
    expect((await gw.call('/v1/backends/onprem/users/999')).status).toBe(404);
    expect((await gw.call('/v1/users/999', { headers: { authorization: 'Bearer wrong-key-0123456789abc' } })).status).toBe(401);
    expect((await gw.call('/no/such/path/42')).status).toBe(404);

    const res = await gw.app.request('/metrics'); // no Authorization header
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(text).toContain('# TYPE sftp_gateway_http_requests_total counter');
    expect(text).toContain('# TYPE sftp_gateway_http_request_duration_seconds histogram');

    const getUser = { route: '/v1/backends/:backend/users/:id', method: 'GET', backend: 'onprem' };
    expect(sample(text, 'sftp_gateway_http_requests_total', { ...getUser, status: '200' })).toBe(2);
    expect(sample(text, 'sftp_gateway_http_requests_total', { ...getUser, status: '404' })).toBe(1);
    expect(sample(text, 'sftp_gateway_http_requests_total', { route: '/v1/backends/:backend/users', method: 'POST', status: '201' })).toBe(1);
    expect(sample(text, 'sftp_gateway_http_request_duration_seconds_count', { ...getUser, status: '200' })).toBe(2);
    expect(sample(text, 'sftp_gateway_http_request_duration_seconds_bucket', { ...getUser, status: '200', le: '+Inf' })).toBe(2);
    // Refused before a backend was resolved: no backend label value.
    expect(sample(text, 'sftp_gateway_http_requests_total', { route: '/v1/users/:id', status: '401', backend: '' })).toBe(1);
    // Unknown paths share one label value: ids in paths never become series.
    expect(sample(text, 'sftp_gateway_http_requests_total', { route: 'unmatched', status: '404' })).toBe(1);
    expect(text).not.toContain('/no/such/path');
    expect(text).not.toContain(`users/${id}"`);
  });

  it('is a 404 problem when the app has no metrics that render (the default, as on Workers)', async () => {
    const gw = gateway(emu);
    const res = await gw.app.request('/metrics');
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await res.json()).toMatchObject({ status: 404, code: 'not_found' });
    // The no-op accepts every call and renders nothing.
    expect(noopMetrics.render).toBeUndefined();
    noopMetrics.observeUpstream('onprem', '2xx', 0.1);
    noopMetrics.registerCircuit('onprem', () => 'open');
  });

  it('keeps a registry per app: two apps in one process count apart and do not collide', async () => {
    const a = gateway(emu, { metrics: createNodeMetrics() });
    const b = gateway(emu, { metrics: createNodeMetrics() });
    await a.call('/v1/users');
    await a.call('/v1/users');
    await b.call('/v1/users');
    const labels = { route: '/v1/users', method: 'GET', status: '200', backend: 'onprem' };
    expect(sample(await a.scrape(), 'sftp_gateway_http_requests_total', labels)).toBe(2);
    expect(sample(await b.scrape(), 'sftp_gateway_http_requests_total', labels)).toBe(1);
  });

  it('adds the process and Node.js runtime metrics when asked', async () => {
    const metrics = createNodeMetrics({ processMetrics: true });
    const text = (await metrics.render()).body;
    expect(text).toContain('process_cpu_seconds_total');
    expect(text).toContain('nodejs_eventloop_lag_seconds');
    expect((await createNodeMetrics().render()).body).not.toContain('process_cpu_seconds_total');
  });
});

describe('protecting /metrics and bounding it', () => {
  const TOKEN = 'metrics-token-0123456789';

  it('with metrics.token: 401 with WWW-Authenticate without it, with an API key or a wrong token; 200 with it', async () => {
    const gw = gateway(emu, { metrics: createNodeMetrics(), metricsToken: TOKEN });
    for (const authorization of [undefined, `Bearer ${OPS_KEY}`, 'Bearer metrics-token-0123456780', `Basic ${TOKEN}`]) {
      const res = await gw.app.request('/metrics', { headers: authorization ? { authorization } : {} });
      expect(res.status, authorization).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(await res.text()).not.toContain('sftp_gateway_');
    }
    const ok = await gw.app.request('/metrics', { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('sftp_gateway_http_requests_total');
  });

  it('stays the same size after 10,000 requests over 1,000 user ids: labels are route templates and config names', async () => {
    const gw = gateway(emu, { metrics: createNodeMetrics({ processMetrics: true }) });
    emu.seedUsers(20);
    const round = async (from: number, to: number) => {
      for (let i = from; i < to; i += 1) {
        const id = 1 + (i % 1000);
        const path = [
          `/v1/backends/onprem/users/${id}`, `/v1/users/${id}/ssh-keys`, `/v1/users/${id}`, `/v1/backends/onprem/users/${id}/network-rules`,
          `/v1/backends/no-such-${id}/users`, `/v1/no/such/path/${id}`,
        ][i % 6]!;
        const method = i % 97 === 0 ? `M${id}` : 'GET'; // methods are caller text too
        await gw.app.request(path, { method, headers: { authorization: `Bearer ${OPS_KEY}` } });
      }
    };
    await round(0, 1000);
    const after1000 = (await gw.scrape()).length;
    await round(1000, 10_000);
    const text = await gw.scrape();
    // Only counts grow (a few digits per series), never the series.
    expect(text.length).toBeLessThan(after1000 * 1.1);
    expect(text.length).toBeLessThan(150 * 1024);
    expect(text).not.toMatch(/no-such-\d|users\/\d|M\d{2}/);
    expect(sample(text, 'sftp_gateway_http_requests_total', { route: 'unmatched', method: 'OTHER', status: '405' })).toBeGreaterThan(0);
  }, 60_000);
});

describe('upstream latency', () => {
  it('is a histogram by backend and outcome (observeUpstream called directly)', async () => {
    const metrics = createNodeMetrics();
    metrics.observeUpstream('onprem', '2xx', 0.02);
    metrics.observeUpstream('onprem', '2xx', 0.3);
    metrics.observeUpstream('onprem', 'timeout', 5);
    metrics.observeUpstream('togo', 'open-circuit', 0);
    const text = (await metrics.render()).body;
    expect(text).toContain('# TYPE sftp_gateway_upstream_request_duration_seconds histogram');
    const h = 'sftp_gateway_upstream_request_duration_seconds';
    expect(sample(text, `${h}_count`, { backend: 'onprem', outcome: '2xx' })).toBe(2);
    expect(sample(text, `${h}_sum`, { backend: 'onprem', outcome: '2xx' })).toBeCloseTo(0.32);
    expect(sample(text, `${h}_bucket`, { backend: 'onprem', outcome: '2xx', le: '0.025' })).toBe(1);
    expect(sample(text, `${h}_bucket`, { backend: 'onprem', outcome: '2xx', le: '0.5' })).toBe(2);
    expect(sample(text, `${h}_count`, { backend: 'onprem', outcome: 'timeout' })).toBe(1);
    expect(sample(text, `${h}_count`, { backend: 'togo', outcome: 'open-circuit' })).toBe(1);
  });

  it("is fed by every upstream call of the backend's adapter, refused ones included", async () => {
    const emu = createSftpgoEmulator();
    const metrics = createNodeMetrics();
    const gw = gateway(emu, { metrics, backend: { retries: 0, breaker: { failureThreshold: 1, coolDownMs: 60_000 } } });
    await gw.call('/v1/users/1'); // 404 upstream
    emu.setFaults({ status: 500, times: 1 });
    await gw.call('/v1/users/1');
    await gw.call('/v1/users/1'); // the circuit is open: refused without a call
    const text = await gw.scrape();
    const h = 'sftp_gateway_upstream_request_duration_seconds';
    expect(sample(text, `${h}_count`, { backend: 'onprem', outcome: '4xx' })).toBe(1);
    expect(sample(text, `${h}_count`, { backend: 'onprem', outcome: '5xx' })).toBe(1);
    expect(sample(text, `${h}_count`, { backend: 'onprem', outcome: 'open-circuit' })).toBe(1);
  });

  it('names outcomes by status class or failure kind', () => {
    expect(upstreamOutcome(200)).toBe('2xx');
    expect(upstreamOutcome(204)).toBe('2xx');
    expect(upstreamOutcome(404)).toBe('4xx');
    expect(upstreamOutcome(429)).toBe('4xx');
    expect(upstreamOutcome(503)).toBe('5xx');
    expect(upstreamOutcome(0)).toBe('error');
    expect(upstreamOutcome(upstreamTimeout('SFTPGo did not answer'))).toBe('timeout');
    expect(upstreamOutcome(upstreamUnavailable('SFTPGo could not be reached'))).toBe('unreachable');
    expect(upstreamOutcome(new TypeError('boom'))).toBe('error');
  });
});

describe('list cache outcomes', () => {
  it('counts hits, misses and bypasses by backend, as X-Cache says them', async () => {
    const metrics = createNodeMetrics();
    const gw = gateway(emu, { metrics });
    const caches: string[] = [];
    const variants: Record<string, string>[] = [{}, {}, { 'cache-control': 'no-cache' }, {}];
    for (const headers of variants) {
      const res = await gw.call('/v1/backends/onprem/users', { headers });
      caches.push(res.headers.get('x-cache')!);
    }
    expect(caches).toEqual(['MISS', 'HIT', 'MISS', 'HIT']);
    const text = await gw.scrape();
    const c = 'sftp_gateway_list_cache_reads_total';
    expect(sample(text, c, { backend: 'onprem', outcome: 'miss' })).toBe(2);
    expect(sample(text, c, { backend: 'onprem', outcome: 'hit' })).toBe(2);
    expect(sample(text, c, { backend: 'onprem', outcome: 'bypass' })).toBeUndefined();

    const none = gateway(emu, { metrics: createNodeMetrics(), store: noStore });
    expect((await none.call('/v1/users')).headers.get('x-cache')).toBe('BYPASS');
    expect(sample(await none.scrape(), c, { backend: 'onprem', outcome: 'bypass' })).toBe(1);
  });

  it('reports once per read that answers, single-flight joiners included, and not when the load fails', async () => {
    const outcomes: string[] = [];
    const cache = new ListCache(createMemoryStore(10), {
      ttlSeconds: 30,
      keyPrefix: 't:',
      logger: createNodeLogger({ level: 'silent' }),
      onOutcome: (backend, outcome) => outcomes.push(`${backend}:${outcome}`),
    });
    const load = async () => {
      await new Promise((r) => setTimeout(r, 20));
      return '[]';
    };
    await Promise.all([cache.read('b1', 'k', load), cache.read('b1', 'k', load)]);
    await cache.read('b1', 'k', load);
    await expect(cache.read('b2', 'k', async () => Promise.reject(new Error('upstream down')))).rejects.toThrow('upstream down');
    expect(outcomes).toEqual(['b1:MISS', 'b1:MISS', 'b1:HIT']);
  });
});

describe('circuit state gauge', () => {
  it('reads each registered backend at scrape time: 0 closed, 1 half-open, 2 open', async () => {
    const metrics = createNodeMetrics();
    let onprem: CircuitPhase = 'closed';
    metrics.registerCircuit('onprem', () => onprem);
    metrics.registerCircuit('togo', () => 'open');
    metrics.registerCircuit('broken', () => {
      throw new Error('reader failed');
    });
    const g = 'sftp_gateway_circuit_state';
    let text = (await metrics.render()).body;
    expect(text).toContain(`# TYPE ${g} gauge`);
    expect(sample(text, g, { backend: 'onprem' })).toBe(0);
    expect(sample(text, g, { backend: 'togo' })).toBe(2);
    expect(sample(text, g, { backend: 'broken' })).toBeUndefined(); // left out, the scrape still works
    onprem = 'half-open';
    expect(sample((await metrics.render()).body, g, { backend: 'onprem' })).toBe(1);
    onprem = 'open';
    expect(sample((await metrics.render()).body, g, { backend: 'onprem' })).toBe(2);
    // Registering again replaces the reader.
    metrics.registerCircuit('togo', () => 'closed');
    text = (await metrics.render()).body;
    expect(sample(text, g, { backend: 'togo' })).toBe(0);
  });

  it("is wired by the app to each backend's breaker (adapter.circuit)", async () => {
    const gw = gateway(emu, {
      metrics: createNodeMetrics(),
      backend: { retries: 0, breaker: { failureThreshold: 2, coolDownMs: 200 } },
    });
    const g = 'sftp_gateway_circuit_state';
    expect(sample(await gw.scrape(), g, { backend: 'onprem' })).toBe(0);
    emu.setFaults({ status: 500 });
    for (let i = 0; i < 2; i++) expect((await gw.call('/v1/users/1')).status).toBe(502);
    expect(sample(await gw.scrape(), g, { backend: 'onprem' })).toBe(2);
    expect((await gw.call('/v1/users/1')).status).toBe(503); // failing fast: the upstream is not called
    await new Promise((r) => setTimeout(r, 250));
    expect(sample(await gw.scrape(), g, { backend: 'onprem' })).toBe(1);
    emu.setFaults(null);
    emu.seedUsers(1, 'circuit_');
    expect((await gw.call('/v1/users/1')).status).toBe(200); // the probe succeeds
    expect(sample(await gw.scrape(), g, { backend: 'onprem' })).toBe(0);
  });
});

describe('upstream call log', () => {
  it('logs one debug line per upstream call with the request id, duration, upstream and status, and sends the id upstream', async () => {
    const gw = gateway(emu);
    emu.clearRequests();
    const res = await gw.call('/v1/backends/onprem/users', {
      method: 'POST',
      headers: { 'x-request-id': 'trace-abc-123' },
      body: { username: 'logged_user_1', accessLevel: 'read-only', password: 'a-long-password-1' },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-request-id')).toBe('trace-abc-123');

    const calls = gw.logs.filter((l) => l.msg === 'upstream call');
    expect(emu.requests.length).toBeGreaterThan(0);
    expect(calls).toHaveLength(emu.requests.length); // one line per call, no more, no less
    for (const line of calls) {
      expect(line).toMatchObject({ level: 'debug', requestId: 'trace-abc-123', upstream: 'SFTPGo' });
      expect(line.durationMs).toEqual(expect.any(Number));
      expect(line.status).toEqual(expect.any(Number));
    }
    expect(calls.map((l) => l.method)).toContain('POST');
    expect(calls.every((l) => (l.status as number) >= 200 && (l.status as number) < 300)).toBe(true);
    for (const req of emu.requests) expect(req.headers['x-request-id']).toBe('trace-abc-123');
    // The password never reaches a log line.
    expect(JSON.stringify(gw.logs)).not.toContain('a-long-password-1');
  });

  it('logs failed calls too, with status 0 when nothing answered', async () => {
    const gw = gateway(emu);
    emu.setFaults({ reset: true });
    const res = await gw.call('/v1/backends/onprem/users/1', { headers: { 'x-request-id': 'trace-reset-1' } });
    expect(res.status).toBe(503);
    const calls = gw.logs.filter((l) => l.msg === 'upstream call');
    expect(calls.length).toBeGreaterThan(0);
    for (const line of calls) expect(line).toMatchObject({ requestId: 'trace-reset-1', upstream: 'SFTPGo', status: 0 });
  });
});
