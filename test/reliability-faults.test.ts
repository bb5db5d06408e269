/**
 * Every upstream fault as a caller sees it (CONTRACT §4), through the gateway's HTTP API, for both
 * providers, with the emulators' fault switches: what is answered, what was retried (the
 * emulator's request log), the circuit breaker, keep-alive over a real socket — and no error
 * answer carrying a stack trace, an upstream URL or an upstream credential.
 */
import type { IncomingMessage } from 'node:http';
import { Hono } from 'hono';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { serveEmulatorApp, type EmulatorFaults, type RecordedRequest, type ServedEmulator } from '../src/provider-kit/emulator-kit.js';
import { createSftpgoEmulator } from '../adapters/sftpgo/emulator/emulator.js';
import { createSftpgoV2Emulator } from '../adapters/sftpgo/emulator/v2.js';
import { createSftpToGoEmulator } from '../adapters/sftptogo/emulator/emulator.js';
import { createTestGateway } from './helpers/gateway.js';
import { freePort } from './helpers/redis.js';

/** What the tests need of either emulator and its backend config. */
interface Upstream {
  backendName: string;
  emu: { app: Hono; fetch: unknown; requests: RecordedRequest[]; setFaults(f: EmulatorFaults | null): void };
  backend(baseUrl: string): Record<string, unknown>;
  /** An id the provider could have (the wrong-shape tests never reach the emulator). */
  userId: string;
  /** Strings no answer may contain: the gateway's own upstream credentials. */
  secrets: string[];
  /** The first call also fetches a token (SFTPGo 2.x): tests that count calls make one call first. */
  tokens?: boolean;
}

const SFTPGO_ADMIN = { username: 'admin', password: 'Admin-Secret-Pass-9' };
const TOGO_API_KEY = 'togo-Secret-Api-Key-0123456789';

const PROVIDERS: Array<[string, () => Upstream]> = [
  ['SFTPGo', () => {
    const emu = createSftpgoEmulator({ basicAuth: SFTPGO_ADMIN });
    return {
      backendName: 'onprem',
      emu,
      backend: (baseUrl) => ({ provider: 'sftpgo', apiVersion: 'v1', baseUrl, ...SFTPGO_ADMIN, sftpHost: 'sftp.example.com' }),
      userId: '1',
      secrets: [SFTPGO_ADMIN.password, btoa(`${SFTPGO_ADMIN.username}:${SFTPGO_ADMIN.password}`)],
    };
  }],
  ['SFTPGo 2.x', () => {
    const emu = createSftpgoV2Emulator({ admin: SFTPGO_ADMIN });
    return {
      backendName: 'onprem',
      emu,
      backend: (baseUrl) => ({ provider: 'sftpgo', apiVersion: 'v2', baseUrl, ...SFTPGO_ADMIN, sftpHost: 'sftp.example.com' }),
      userId: 'someone',
      secrets: [SFTPGO_ADMIN.password, btoa(`${SFTPGO_ADMIN.username}:${SFTPGO_ADMIN.password}`)],
      tokens: true,
    };
  }],
  ['SFTP To Go', () => {
    const emu = createSftpToGoEmulator({ apiKey: TOGO_API_KEY });
    return {
      backendName: 'togo',
      emu,
      backend: (baseUrl) => ({ provider: 'sftptogo', baseUrl, organizationId: emu.organizationId, apiKey: TOGO_API_KEY }),
      userId: emu.rootId,
      secrets: [TOGO_API_KEY],
    };
  }],
];

const NEW_USER = { username: 'reliable_user01', accessLevel: 'read-only' };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A loopback port nothing listens on (a freed one): connections to it are refused. */
const closedPort = freePort;

describe.each(PROVIDERS)('%s: upstream faults through the HTTP API', (_label, make) => {
  let up: Upstream;
  /** When set, the in-process upstream answers this instead of asking the emulator. */
  let override: (() => Response) | null;
  const served: ServedEmulator[] = [];

  beforeEach(() => {
    up = make();
    override = null;
  });
  afterEach(async () => {
    await Promise.all(served.splice(0).map((s) => s.close()));
  });

  const users = () => `/v1/backends/${up.backendName}/users`;
  const calls = (method?: string) => up.emu.requests.filter((r) => !method || r.method === method).length;

  /** A gateway in front of the in-process emulator, or of `baseUrl` over real sockets. No list cache. */
  function gateway(opts: { baseUrl?: string; backend?: Record<string, unknown> } = {}) {
    const emuFetch = up.emu.fetch as typeof fetch;
    const inProcess: typeof fetch = (input, init) => (override ? Promise.resolve(override()) : emuFetch(input, init));
    return createTestGateway({
      backends: { [up.backendName]: { ...up.backend(opts.baseUrl ?? 'http://upstream.test'), ...opts.backend } },
      fetchFor: () => (opts.baseUrl ? undefined : inProcess),
      // Over a real socket, the upstream is reached as the Node entry reaches it (undici Pool).
      nodeTransport: opts.baseUrl !== undefined,
      cache: 'none',
    });
  }

  async function serve(app: Hono): Promise<string> {
    const s = await serveEmulatorApp(app);
    served.push(s);
    return s.url;
  }

  /** The problem+json answer, checked for what no error may carry. */
  async function expectProblem(res: Response, status: number, code: string) {
    const text = await res.text();
    expect(res.status, text).toBe(status);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    const body = JSON.parse(text);
    expect(body).toMatchObject({ status, code, detail: expect.any(String) });
    expect(text).not.toMatch(/\n\s+at |\.[jt]s:\d+/); // no stack trace
    for (const leak of [...up.secrets, 'upstream.test', '127.0.0.1', 'Basic ', 'Bearer ']) expect(text).not.toContain(leak);
    return body;
  }

  it('a 5xx is 502 upstream_error; 502/503/504 after the GET was retried twice, 500 at once', async () => {
    const gw = gateway();
    for (const [status, tries] of [[500, 1], [502, 3], [503, 3], [504, 3]] as const) {
      up.emu.requests.length = 0;
      up.emu.setFaults({ status });
      const body = await expectProblem(await gw.call('GET', users()), 502, 'upstream_error');
      expect(body.detail).toMatch(new RegExp(`answered ${status}`));
      expect(calls(), String(status)).toBe(tries);
    }
  });

  it('a 200 whose body is not JSON or not the documented shape is 502, never a half-mapped answer', async () => {
    const gw = gateway();
    up.emu.setFaults({ garbage: true });
    expect((await expectProblem(await gw.call('GET', users()), 502, 'upstream_error')).detail).toMatch(/not JSON/);
    expect(calls()).toBe(1); // an answer, not a retryable failure
    for (const wrong of [{ surprise: true }, [{ id: 1, Id: 'x' }], 'not even an object']) {
      override = () => Response.json(wrong);
      const body = await expectProblem(await gw.call('GET', users()), 502, 'upstream_error');
      expect(body).not.toHaveProperty('data');
    }
    override = () => Response.json({ username: 42 });
    const body = await expectProblem(await gw.call('GET', `${users()}/${up.userId}`), 502, 'upstream_error');
    expect(body).not.toHaveProperty('username');
  });

  it('connection refused (a closed loopback port) is 503 upstream_unavailable', async () => {
    const gw = gateway({ baseUrl: `http://127.0.0.1:${await closedPort()}` });
    const body = await expectProblem(await gw.call('GET', users()), 503, 'upstream_unavailable');
    expect(body.detail).toMatch(/could not be reached/);
  });

  it('a connection reset over a real socket is 503, after the GET was tried 3 times', async () => {
    const gw = gateway({ baseUrl: await serve(up.emu.app) });
    up.emu.setFaults({ reset: true });
    await expectProblem(await gw.call('GET', users()), 503, 'upstream_unavailable');
    expect(calls()).toBe(3);
  });

  it('no answer is 504 upstream_timeout within timeoutMs, and not retried', async () => {
    const gw = gateway({ backend: { timeoutMs: 300 } });
    up.emu.setFaults({ hang: true });
    const started = performance.now();
    const body = await expectProblem(await gw.call('GET', users()), 504, 'upstream_timeout');
    expect(performance.now() - started).toBeLessThan(900);
    expect(body.detail).toMatch(/within 300 ms/);
    expect(calls()).toBe(1);
  });

  it('429 is retried (waiting its Retry-After), then passed on as 429 with Retry-After', async () => {
    const gw = gateway();
    up.emu.setFaults({ status: 429, headers: { 'Retry-After': '1' } });
    const res = await gw.call('GET', users());
    expect(res.headers.get('retry-after')).toBe('1');
    await expectProblem(res, 429, 'rate_limited');
    expect(calls()).toBe(3);
  });

  /** Where the first call also fetches a token: one call made, and forgotten by the log. */
  async function warm(gw: { call(method: string, path: string): Promise<Response> }): Promise<void> {
    if (!up.tokens) return;
    expect((await gw.call('GET', users())).status).toBe(200);
    up.emu.requests.length = 0;
  }

  it('a GET that fails once with 503 is retried and answered 200', async () => {
    const gw = gateway();
    await warm(gw);
    up.emu.setFaults({ status: 503, times: 1 });
    const res = await gw.json('GET', users());
    expect(res.status).toBe(200);
    expect(res.body.data.length).toBeGreaterThanOrEqual(0);
    expect(up.emu.requests.map((r) => `${r.method} ${r.path}`)).toEqual(Array(2).fill(`GET ${up.emu.requests[0]!.path}`));
  });

  it('a write is never retried: a POST answered 503, or reset, is sent once', async () => {
    const gw = gateway();
    up.emu.setFaults({ status: 503, match: { method: 'POST' } });
    await expectProblem(await gw.call('POST', users(), { body: NEW_USER }), 502, 'upstream_error');
    expect(calls('POST')).toBe(1);
    up.emu.requests.length = 0;
    up.emu.setFaults({ reset: true, match: { method: 'POST' } });
    await expectProblem(await gw.call('POST', users(), { body: NEW_USER }), 503, 'upstream_unavailable');
    expect(calls('POST')).toBe(1);
  });

  it('the circuit opens after 5 failed calls, answers 503 without reaching the upstream, and closes after the cool-down', async () => {
    const gw = gateway({ backend: { breaker: { coolDownMs: 1000 } } });
    const backend = `/v1/backends/${up.backendName}`;
    up.emu.setFaults({ status: 500 });
    for (let i = 0; i < 5; i++) await expectProblem(await gw.call('GET', users()), 502, 'upstream_error');
    expect(calls()).toBe(5);

    const fast = await gw.call('GET', users());
    expect(Number(fast.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const body = await expectProblem(fast, 503, 'upstream_unavailable');
    expect(body.detail).toMatch(/failed 5 calls in a row: the circuit to it is open for another [01]\.\d s/);
    const open = await gw.json('GET', backend);
    expect(open.body.circuit).toEqual({ state: 'open', failures: 5, openUntil: expect.stringMatching(/^\d{4}-.*Z$/) });
    expect(open.body.health).toMatchObject({ ok: false, detail: expect.stringMatching(/circuit/) });
    expect(calls()).toBe(5); // neither the call nor the health check went upstream

    await sleep(1050); // still failing: the one probe goes, fails, and the circuit reopens
    await expectProblem(await gw.call('GET', users()), 502, 'upstream_error');
    await expectProblem(await gw.call('GET', users()), 503, 'upstream_unavailable');
    expect(calls()).toBe(6);

    up.emu.setFaults(null);
    await sleep(1050); // healthy again: the probe succeeds and closes the circuit
    expect((await gw.call('GET', users())).status).toBe(200);
    const closed = await gw.json('GET', backend);
    expect(closed.body.circuit).toEqual({ state: 'closed', failures: 0, openUntil: null });
    expect(closed.body.health.ok).toBe(true);
  });

  it('keeps the upstream connection alive: sequential calls share one socket', async () => {
    const clientPorts = new Set<number | undefined>(); // one per TCP connection the gateway opened
    const counting = new Hono();
    counting.all('*', (c) => {
      clientPorts.add((c.env as { incoming: IncomingMessage }).incoming.socket.remotePort);
      return up.emu.app.fetch(c.req.raw, c.env);
    });
    const gw = gateway({ baseUrl: await serve(counting) });
    await warm(gw);
    clientPorts.clear(); // the token call may have had a socket of its own
    for (let i = 0; i < 4; i++) expect((await gw.call('GET', users())).status).toBe(200);
    expect(calls()).toBe(4);
    expect([...clientPorts]).toEqual([expect.any(Number)]);
  });
});
