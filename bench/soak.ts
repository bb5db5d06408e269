/**
 * The soak run: `npm run soak` (not part of `npm test`).
 *
 * Minutes of mixed traffic at a steady rate through the real Node gateway (a child process:
 * `npm start`'s bundle, built into dist/soak/, under plain node, with a config file), in front
 * of both emulators served on loopback sockets by this process, with a private `redis-server`
 * as the list cache and the idempotency store. Meanwhile upstream faults are switched on and
 * off on a schedule, one backend at a time, and Redis is killed once and restarted. Then it
 * checks that:
 *
 * - every answer was expected: 2xx (or an allowed 4xx) outside faults; a 5xx only from a backend
 *   that had a fault on while the request ran (or a 503 of the circuit that fault opened); never a
 *   500 `internal_error`, a dropped connection or an answer later than the client's deadline;
 * - every user it created exists upstream exactly once, with the id the gateway answered, every
 *   user it deleted is gone, and nothing else appeared (creates and deletes whose answer was lost
 *   are retried with the same Idempotency-Key, and resolved by username, until settled);
 * - the gateway's own paged list agrees with the upstream's state;
 * - the gateway's RSS did not keep growing (last third's average ≤ 1.5 × first third's, after
 *   warm-up); `/readyz` answered 200 all along; SIGTERM ends it with exit code 0.
 *
 * It prints a summary, writes it to `bench/soak-results.json`, and exits 1 when a check failed.
 *
 * Environment: SOAK_SECONDS (default 300), SOAK_RPS (default 50), SOAK_MAX_IN_FLIGHT (default 128).
 * Loopback only. Needs the `redis-server` binary (as the tests do).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EmulatorFaults, ServedEmulator } from '../src/provider-kit/emulator-kit.js';
import { createSftpgoEmulator, serveSftpgoEmulator } from '../adapters/sftpgo/emulator/emulator.js';
import { createSftpToGoEmulator, serveSftpToGoEmulator } from '../adapters/sftptogo/emulator/emulator.js';
import { freePort, startPrivateRedis, type PrivateRedis } from '../test/helpers/redis.js';
import { buildNode } from '../scripts/build.js';

let builtEntry: Promise<string> | undefined;

// ---- settings -----------------------------------------------------------------------------------

function envNumber(name: string, fallback: number, min: number, max: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || n < min || n > max) {
    console.error(`${name} must be a number from ${min} to ${max}, not "${text}"`);
    process.exit(2);
  }
  return n;
}

const SECONDS = envNumber('SOAK_SECONDS', 300, 10, 86_400);
const RPS = envNumber('SOAK_RPS', 50, 1, 5000);
const MAX_IN_FLIGHT = envNumber('SOAK_MAX_IN_FLIGHT', 128, 1, 10_000);
const DURATION_MS = SECONDS * 1000;
/** Each backend's `timeoutMs`: short, so that a slow upstream shows as 504s within the run. */
const UPSTREAM_TIMEOUT_MS = 2000;
/** Each backend's `breaker.coolDownMs`. */
const COOL_DOWN_MS = 3000;
/** The client's deadline: an answer later than this is a hung request (a failure). */
const DEADLINE_MS = 15_000;
const SHUTDOWN_GRACE_MS = 10_000;
const MEMORY_GROWTH_LIMIT = 1.5;
const SAMPLE_EVERY_MS = 2000;
/** Live soak users each backend is kept around (creates and deletes balance there). */
const TARGET_LIVE = 150;
const SEEDED = 40;

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const RESULTS_PATH = join(ROOT, 'bench', 'soak-results.json');
const RUN = randomBytes(2).toString('hex');
const API_KEY = `soak-${randomUUID()}`;
const SFTPGO_ADMIN = { username: 'soak-admin', password: `Soak-${randomUUID()}` };
const TOGO_API_KEY = `soak-togo-${randomUUID()}`;

type Backend = 'onprem' | 'togo';
const BACKENDS: Backend[] = ['onprem', 'togo'];

// ---- small helpers ------------------------------------------------------------------------------

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const rand = (n: number) => Math.floor(Math.random() * n);
const chance = (p: number) => Math.random() < p;
const pick = <T>(items: readonly T[]): T => items[rand(items.length)]!;
const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
const mb = (bytes: number) => round(bytes / 1024 / 1024, 1);

let t0 = performance.now();
/** Milliseconds since the load started. */
const now = () => performance.now() - t0;

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

function latencyOf(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  return { n: sorted.length, p50: round(percentile(sorted, 50)), p99: round(percentile(sorted, 99)), max: round(sorted.at(-1) ?? 0) };
}

/** An OpenSSH one-line ed25519 public key, new each time. */
function newSshKey(comment: string): string {
  const { publicKey } = generateKeyPairSync('ed25519');
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url');
  const field = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
  return `ssh-ed25519 ${Buffer.concat([field(Buffer.from('ssh-ed25519')), field(raw)]).toString('base64')} ${comment}`;
}

// ---- the schedule of faults and the Redis outage --------------------------------------------------

type FaultKind = 'delay' | 'status503' | 'garbage' | 'reset' | 'slow';
const FAULTS: Record<FaultKind, { faults: EmulatorFaults; label: string; statuses: number[] }> = {
  // Slower, but within the timeout: nothing may fail.
  delay: { faults: { delayMs: 300 }, label: 'delay 300 ms', statuses: [] },
  status503: { faults: { status: 503 }, label: 'HTTP 503', statuses: [502, 503] },
  garbage: { faults: { garbage: true }, label: 'garbage 200 body', statuses: [502, 503] },
  reset: { faults: { reset: true }, label: 'connection reset', statuses: [503] },
  // Past the timeout: the gateway gives up (504), and the emulator still makes the change once the
  // gateway hangs up, so creates and deletes whose answer was lost happen upstream anyway.
  slow: { faults: { delayMs: UPSTREAM_TIMEOUT_MS + 500 }, label: `answers after ${UPSTREAM_TIMEOUT_MS + 500} ms`, statuses: [504, 503] },
};
const FAULT_ORDER: FaultKind[] = ['delay', 'status503', 'garbage', 'reset', 'slow'];

interface Window {
  label: string;
  kind: FaultKind | 'redis';
  backend: Backend | null;
  planStart: number;
  planEnd: number;
  /** When it was switched on and off (ms since the start), as seen from here. */
  on?: number;
  off?: number;
}

/** Ten fault windows (every tenth of the run, for a third of it), and Redis down at 40 %. */
function plan(): Window[] {
  const period = DURATION_MS / 10;
  const windows: Window[] = [];
  for (let k = 0; k < 10; k++) {
    const kind = FAULT_ORDER[k % FAULT_ORDER.length]!;
    const backend: Backend = k % 2 === 0 ? 'onprem' : 'togo';
    const start = k * period + period / 2;
    windows.push({ label: `${FAULTS[kind].label} @${backend}`, kind, backend, planStart: start, planEnd: start + period / 3 });
  }
  const redisStart = DURATION_MS * 0.4;
  windows.push({ label: 'redis down', kind: 'redis', backend: null, planStart: redisStart, planEnd: redisStart + DURATION_MS / 30 });
  return windows.sort((a, b) => a.planStart - b.planStart);
}

const windows = plan();
let settling = false;

/**
 * How long after a fault its effects may last: a call admitted just before the switch-off times
 * out `UPSTREAM_TIMEOUT_MS` later and (re)opens the circuit for `COOL_DOWN_MS`; after Redis, the
 * cache is left alone for 5 s after its last failure.
 */
const TAIL_MS = UPSTREAM_TIMEOUT_MS + COOL_DOWN_MS + 1000;
const REDIS_TAIL_MS = 6000;

/** The phase a request started in: a fault or Redis outage, the recovery after one, or steady. */
function phaseAt(t: number): string {
  if (settling) return 'settle';
  for (const w of windows) if (w.on !== undefined && t >= w.on && t < (w.off ?? Infinity)) return w.label;
  for (const w of windows) {
    if (w.off !== undefined && t >= w.off && t < w.off + (w.kind === 'redis' ? REDIS_TAIL_MS : TAIL_MS)) return `after ${w.label}`;
  }
  return 'steady';
}

// ---- the world ----------------------------------------------------------------------------------

let gatewayUrl = '';
let redis: PrivateRedis | undefined;
let gateway: ChildProcess | undefined;
let gatewayExit: Promise<number | null> | undefined;
let gatewayExited = false;
const served: Partial<Record<Backend, ServedEmulator>> = {};
const onprem = createSftpgoEmulator({ basicAuth: SFTPGO_ADMIN, seedConnections: false });
const togo = createSftpToGoEmulator({ apiKey: TOGO_API_KEY });

/** Every soak user's username on the upstream, with its id, straight from the emulator's state. */
function upstreamUsers(b: Backend): Array<{ id: string; username: string }> {
  return b === 'onprem'
    ? [...onprem.users.values()].map((u) => ({ id: String(u.id), username: u.username }))
    : [...togo.credentials.values()].map((c) => ({ id: c.Id, username: c.UserName }));
}

async function control(b: Backend, method: 'POST' | 'DELETE', faults?: EmulatorFaults): Promise<void> {
  const res = await fetch(`${served[b]!.url}/__emulator/faults`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(faults ? { body: JSON.stringify(faults) } : {}),
  });
  if (!res.ok && res.status !== 204) throw new Error(`emulator control ${method} answered ${res.status}`);
  await res.arrayBuffer();
}

// ---- the gateway child -----------------------------------------------------------------------------

const logCounts = new Map<string, number>();
const errorLines: string[] = [];
let stderrText = '';

async function startGateway(): Promise<void> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'gw-soak-'));
  const path = join(dir, 'config.json');
  writeFileSync(path, JSON.stringify({
    server: { host: '127.0.0.1', port, shutdownGraceMs: SHUTDOWN_GRACE_MS },
    auth: { apiKeys: [{ name: 'soak', key: '${SOAK_API_KEY}', scopes: ['read', 'write', 'admin'] }] },
    cache: { driver: 'redis', url: redis!.url, ttlSeconds: 30, keyPrefix: `soak-${RUN}:` },
    logLevel: 'warn',
    defaultBackend: 'onprem',
    backends: {
      onprem: {
        provider: 'sftpgo', baseUrl: served.onprem!.url, username: SFTPGO_ADMIN.username, password: '${SOAK_SFTPGO_PASSWORD}',
        sftpHost: 'sftp.example.com', sftpPort: 2022, timeoutMs: UPSTREAM_TIMEOUT_MS, breaker: { coolDownMs: COOL_DOWN_MS },
      },
      togo: {
        provider: 'sftptogo', baseUrl: served.togo!.url, organizationId: togo.organizationId, apiKey: '${SOAK_TOGO_API_KEY}',
        timeoutMs: UPSTREAM_TIMEOUT_MS, breaker: { coolDownMs: COOL_DOWN_MS },
      },
    },
  }, null, 2));
  const { GATEWAY_CONFIG: _c, PORT: _p, HOST: _h, SHUTDOWN_GRACE_MS: _g, LOG_LEVEL: _l, ...inherited } = process.env;
  // What `npm start` runs: the bundle of the Node entry (built once per soak).
  const entry = await (builtEntry ??= buildNode(join(ROOT, 'dist', 'soak')));
  const child = spawn(process.execPath, ['--enable-source-maps', entry], {
    cwd: ROOT,
    env: {
      ...inherited, GATEWAY_CONFIG: path, SOAK_API_KEY: API_KEY,
      SOAK_SFTPGO_PASSWORD: SFTPGO_ADMIN.password, SOAK_TOGO_API_KEY: TOGO_API_KEY,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  gateway = child;
  gatewayExit = new Promise((resolve) => child.on('exit', (code) => {
    gatewayExited = true;
    resolve(code);
  }));
  let pending = '';
  child.stdout!.on('data', (chunk) => {
    pending += String(chunk);
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines.filter(Boolean)) {
      let level = '?';
      let msg = line.slice(0, 120);
      try {
        const parsed = JSON.parse(line) as { level?: string; msg?: string };
        level = parsed.level ?? '?';
        msg = parsed.msg ?? '';
      } catch { /* not JSON: counted as is */ }
      const key = `${level}: ${msg}`;
      logCounts.set(key, (logCounts.get(key) ?? 0) + 1);
      if ((level === 'error' || level === 'fatal') && errorLines.length < 20) errorLines.push(line.slice(0, 1000));
    }
  });
  child.stderr!.on('data', (chunk) => (stderrText += String(chunk)));
  gatewayUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (gatewayExited) throw new Error(`the gateway exited at start: ${stderrText}`);
    if (Date.now() > deadline) throw new Error('the gateway did not answer /healthz within 30 s');
    try {
      const res = await fetch(`${gatewayUrl}/healthz`);
      if (res.ok) break;
    } catch { /* not listening yet */ }
    await sleep(100);
  }
  rmSync(dir, { recursive: true, force: true }); // read once at start
}

// ---- requests and their verdicts ------------------------------------------------------------------

type Verdict = 'ok' | 'fault' | 'unexpected';
interface Answer {
  status: number; // 0: no answer (connection error or past the deadline)
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  headers: Headers;
  start: number;
  end: number;
  error?: string;
  timedOut?: boolean;
}
interface Sample {
  op: string;
  backend: Backend;
  phase: string;
  start: number;
  ms: number;
  status: number;
  verdict: Verdict;
  reason?: string;
  cache?: string;
}

const samples: Sample[] = [];
let requestsSent = 0;

async function send(method: string, path: string, opts: { body?: unknown; headers?: Record<string, string> } = {}): Promise<Answer> {
  const headers: Record<string, string> = { authorization: `Bearer ${API_KEY}`, ...opts.headers };
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  requestsSent++;
  const start = now();
  try {
    const res = await fetch(gatewayUrl + path, {
      method,
      headers,
      ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
      signal: AbortSignal.timeout(DEADLINE_MS),
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch { /* kept as text */ }
    return { status: res.status, body, headers: res.headers, start, end: now() };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    return {
      status: 0, body: undefined, headers: new Headers(), start, end: now(),
      error: `${e.name}: ${e.message}${e.cause?.code ? ` (${e.cause.code})` : ''}`, timedOut: e.name === 'TimeoutError',
    };
  }
}

/** Why a 5xx of this backend was to be expected, or undefined when nothing explains it. */
function explain5xx(backend: Backend, a: Answer): string | undefined {
  const detail = String(a.body?.detail ?? '');
  for (const w of windows) {
    if (w.backend !== backend || w.on === undefined || w.kind === 'redis') continue;
    const off = w.off ?? Infinity;
    const spec = FAULTS[w.kind];
    if (a.start <= off && a.end >= w.on && spec.statuses.includes(a.status)) return w.label;
    const circuit = a.status === 503 && a.body?.code === 'upstream_unavailable' && /circuit/.test(detail);
    if (circuit && spec.statuses.length && a.end >= w.on && a.start <= off + TAIL_MS) {
      return `${w.label} (its open circuit)`;
    }
  }
  return undefined;
}

/** true, or what is wrong with the answer. */
type Accept = (a: Answer) => true | string;

function judge(backend: Backend, a: Answer, accept: Accept): [Verdict, string?] {
  if (a.status === 0) return ['unexpected', a.timedOut ? `no answer within ${DEADLINE_MS} ms` : `no answer: ${a.error}`];
  if (!a.headers.get('x-request-id')) return ['unexpected', `${a.status} without X-Request-Id`];
  if (a.status >= 400 && (a.headers.get('content-type') !== 'application/problem+json' || typeof a.body?.code !== 'string')) {
    return ['unexpected', `${a.status} that is not application/problem+json with a code`];
  }
  if (a.status >= 500) {
    if (a.body.code === 'internal_error') return ['unexpected', `500 internal_error: ${a.body.detail}`];
    const why = explain5xx(backend, a);
    return why ? ['fault', why] : ['unexpected', `${a.status} ${a.body.code} with no fault on ${backend}: ${a.body.detail}`];
  }
  const verdict = accept(a);
  return verdict === true ? ['ok'] : ['unexpected', `${a.status}${a.body?.code ? ` ${a.body.code}` : ''}: ${verdict}`];
}

/** Sends, judges and records one request. */
async function call(op: string, backend: Backend, method: string, path: string, accept: Accept,
  opts: { body?: unknown; headers?: Record<string, string> } = {}): Promise<Answer & { verdict: Verdict }> {
  const a = await send(method, path, opts);
  const [verdict, reason] = judge(backend, a, accept);
  // X-Cache of the users lists only (SSH key lists always say BYPASS: they are never cached).
  const cache = /users(\?|$)/.test(path) ? a.headers.get('x-cache') ?? undefined : undefined;
  samples.push({
    op, backend, phase: phaseAt(a.start), start: a.start, ms: a.end - a.start, status: a.status, verdict,
    ...(reason ? { reason } : {}), ...(cache ? { cache } : {}),
  });
  return { ...a, verdict };
}

/** An extra check across several answers (replays, races) that failed: counted as unexpected. */
const crossFailures: string[] = [];
function crossFail(what: string): void {
  crossFailures.push(`${phaseAt(now())} @${Math.round(now() / 1000)} s: ${what}`);
}

const status = (...wanted: number[]): Accept => (a) => wanted.includes(a.status) || `expected ${wanted.join(' or ')}`;

// ---- soak users -----------------------------------------------------------------------------------

type UserState = 'creating' | 'live' | 'create-uncertain' | 'delete-uncertain' | 'deleted' | 'refused';
interface SoakUser {
  backend: Backend;
  username: string;
  id?: string;
  state: UserState;
  busy: boolean;
  createKey: string;
  createBody: Record<string, unknown>;
  /** The first 201: what a replay must repeat. */
  first?: { id: string; password?: string; at: number };
  keyIds: string[];
  keyCount: number;
  /** False once a key change's answer was lost: the count may be either. */
  keysCertain: boolean;
  attempts: number;
}

const users = new Map<string, SoakUser>();
const livePool: Record<Backend, SoakUser[]> = { onprem: [], togo: [] };
const deletedNames: Record<Backend, string[]> = { onprem: [], togo: [] };
let seq = 0;
const stats = {
  creates: 0, created: 0, createLost: 0, createRetries: 0, createResolvedByLookup: 0, deletes: 0, deleted: 0, deleteLost: 0,
  deleteRetries: 0, deletedByEarlierAttempt: 0, replays: 0, replaysConfirmed: 0, replaysLostWithRedis: 0, reuseChecks: 0,
  concurrentPairs: 0, rotationReplays: 0, races: 0, raceChecks: 0, readYourWrites: 0, cursorPages: 0, skippedSlots: 0,
};

function setLive(u: SoakUser, id: string): void {
  u.id = id;
  u.state = 'live';
  if (!livePool[u.backend].includes(u)) livePool[u.backend].push(u);
}

function leaveLive(u: SoakUser, state: UserState): void {
  u.state = state;
  const pool = livePool[u.backend];
  const i = pool.indexOf(u);
  if (i >= 0) pool.splice(i, 1);
}

/** A random live user that is not busy, now busy; undefined when none is free. */
function pickUser(b: Backend, filter?: (u: SoakUser) => boolean): SoakUser | undefined {
  const pool = livePool[b];
  for (let i = 0; i < 12 && pool.length; i++) {
    const u = pool[rand(pool.length)]!;
    if (!u.busy && (!filter || filter(u))) {
      u.busy = true;
      return u;
    }
  }
  return undefined;
}

const base = (b: Backend, alias = false) => (alias && b === 'onprem' ? '/v1' : `/v1/backends/${b}`);
const userPath = (u: SoakUser, alias = false) => `${base(u.backend, alias)}/users/${encodeURIComponent(u.id!)}`;
const redisWindow = () => windows.find((w) => w.kind === 'redis')!;
/** Redis lost its data (it keeps nothing on disk) between these two times. */
const redisRestartedBetween = (from: number, to: number) => {
  const w = redisWindow();
  return w.on !== undefined && w.on >= from && w.on <= to;
};

// ---- follow-ups: replays, retries, next pages -------------------------------------------------------

interface FollowUp { due: number; what: string; run: () => Promise<void> }
const followUps: FollowUp[] = [];
function later(delayMs: number, what: string, run: () => Promise<void>): void {
  followUps.push({ due: now() + delayMs, what, run });
}
function takeDueFollowUp(): FollowUp | undefined {
  const t = now();
  const i = followUps.findIndex((f) => f.due <= t);
  return i < 0 ? undefined : followUps.splice(i, 1)[0];
}

// ---- operations -----------------------------------------------------------------------------------

function createBody(b: Backend, username: string): { body: Record<string, unknown>; keys: number } {
  const keys = pick([0, 0, 1, 2]);
  const sshKeys = Array.from({ length: keys }, (_, i) => newSshKey(`soak-${i}@${username}`));
  if (b === 'onprem') {
    const body: Record<string, unknown> = { username };
    if (chance(0.2)) body.permissions = ['list', 'download', 'upload'];
    else body.accessLevel = pick(['read-only', 'write-only', 'read-write', 'full']);
    if (chance(0.3)) body.password = `pw-${randomUUID()}`;
    if (keys) body.sshKeys = sshKeys;
    if (chance(0.3)) body.limits = { quotaBytes: 1 << 30, maxSessions: 3 };
    if (chance(0.2)) body.expiresAt = new Date(Date.now() + 86_400_000 * (1 + rand(300))).toISOString();
    if (chance(0.1)) body.status = 'disabled';
    return { body, keys };
  }
  const body: Record<string, unknown> = { username, accessLevel: pick(['none', 'read-only', 'write-only', 'read-write', 'full']) };
  if (chance(0.5)) body.displayName = `Soak ${username}`;
  if (keys) body.sshKeys = sshKeys.slice(0, 1);
  if (chance(0.2)) body.networkRules = [{ cidr: '203.0.113.0/24', protocol: 'sftp', description: 'office' }];
  if (chance(0.3)) {
    body.homeDirectory = `/soak/${username}`;
    body.chrootDirectory = `/soak/${username}`;
  }
  if (chance(0.1)) body.status = 'disabled';
  return { body, keys: keys ? 1 : 0 };
}

function acceptCreated(u: SoakUser): Accept {
  return (a) => {
    if (a.status !== 201) return 'expected 201';
    const { id, username, backend, password, sshKeyCount } = a.body ?? {};
    if (typeof id !== 'string' || username !== u.username || backend !== u.backend) return 'not the user asked for';
    if (a.headers.get('location') !== `/v1/backends/${u.backend}/users/${encodeURIComponent(id)}`) return `Location ${a.headers.get('location')}`;
    if (u.createBody.password === undefined && typeof password !== 'string') return 'no generated password';
    if (u.createBody.password !== undefined && password !== undefined) return 'a password the caller chose came back';
    if (sshKeyCount !== u.keyCount) return `sshKeyCount ${sshKeyCount}, sent ${u.keyCount}`;
    if (a.body.status !== (u.createBody.status ?? 'active')) return `status ${a.body.status}`;
    return true;
  };
}

async function opCreate(b: Backend): Promise<void> {
  const username = `soak-${RUN}-${String(++seq).padStart(6, '0')}`;
  const { body, keys } = createBody(b, username);
  const u: SoakUser = {
    backend: b, username, state: 'creating', busy: true, createKey: randomUUID(), createBody: body,
    keyIds: [], keyCount: keys, keysCertain: true, attempts: 1,
  };
  users.set(`${b}/${username}`, u);
  stats.creates++;
  const path = `${base(b, chance(0.3))}/users`;
  const opts = { body, headers: { 'idempotency-key': u.createKey } };
  let a: Answer & { verdict: Verdict };
  if (chance(0.1)) {
    // The same request twice at once: one runs, the other shares its answer.
    stats.concurrentPairs++;
    const [x, y] = await Promise.all([
      call('create', b, 'POST', path, acceptCreated(u), opts),
      call('create (concurrent repeat)', b, 'POST', path, acceptCreated(u), opts),
    ]);
    a = x;
    if (x.status !== y.status) crossFail(`concurrent repeats of a create answered ${x.status} and ${y.status}`);
    else if (x.status === 201) {
      const replayed = [x, y].filter((r) => r.headers.get('idempotent-replayed') === 'true').length;
      if (x.body?.id !== y.body?.id) crossFail(`concurrent repeats of a create answered ids ${x.body?.id} and ${y.body?.id}`);
      if (replayed !== 1) crossFail(`concurrent repeats of a create: ${replayed} of 2 marked Idempotent-Replayed`);
    }
  } else {
    a = await call('create', b, 'POST', path, acceptCreated(u), opts);
  }
  afterCreateAnswer(u, a);
}

function afterCreateAnswer(u: SoakUser, a: Answer & { verdict: Verdict }): void {
  if (a.status === 201 && typeof a.body?.id === 'string') {
    stats.created++;
    u.first = { id: a.body.id, password: a.body.password, at: a.end };
    setLive(u, a.body.id);
    if (chance(0.25)) {
      later(300 + rand(1700), 'create replay', () => replayCreate(u));
      return; // stays busy until the replay
    }
    u.busy = false;
    return;
  }
  if (a.status === 0 || a.status >= 500) {
    // Lost: it may or may not have happened. Retry with the same key, as a careful client does.
    stats.createLost++;
    u.state = 'create-uncertain';
    later(3000 + rand(3000), 'create retry', () => retryCreate(u));
    return;
  }
  if (a.status === 409) {
    u.state = 'create-uncertain';
    later(0, 'create lookup', () => lookupCreated(u));
    return;
  }
  u.state = 'refused'; // a 4xx: nothing may have been made
  u.busy = false;
}

async function replayCreate(u: SoakUser): Promise<void> {
  const first = u.first!;
  const path = `${base(u.backend)}/users`;
  const headers = { 'idempotency-key': u.createKey };
  try {
    if (chance(0.1)) {
      // The same key with another request: refused, and nothing runs.
      stats.reuseChecks++;
      const other = { ...u.createBody, status: u.createBody.status === 'disabled' ? 'active' : 'disabled' };
      await call('create (key reused)', u.backend, 'POST', path, (a) => {
        if (a.status === 422 && a.body?.code === 'idempotency_key_reused') return true;
        if (a.status === 409 && redisRestartedBetween(first.at, a.start)) return true; // the store lost the key: it ran, and met the user
        return 'expected 422 idempotency_key_reused';
      }, { body: other, headers });
      return;
    }
    stats.replays++;
    const a = await call('create (replay)', u.backend, 'POST', path, (r) => {
      if (r.status === 409 && redisRestartedBetween(first.at, r.start)) return true;
      if (r.status !== 201) return 'expected the first 201 again';
      if (r.headers.get('idempotent-replayed') !== 'true') return 'no Idempotent-Replayed: true';
      if (r.body?.id !== first.id || r.body?.password !== first.password) return 'not the first answer';
      return true;
    }, { body: u.createBody, headers });
    if (a.status === 201) stats.replaysConfirmed++;
    if (a.status === 409) stats.replaysLostWithRedis++;
  } finally {
    u.busy = false;
  }
}

async function retryCreate(u: SoakUser): Promise<void> {
  stats.createRetries++;
  u.attempts++;
  const a = await call('create (retry)', u.backend, 'POST', `${base(u.backend)}/users`, (r) =>
    r.status === 409 || acceptCreated(u)(r), { body: u.createBody, headers: { 'idempotency-key': u.createKey } });
  if (a.status === 409) {
    later(0, 'create lookup', () => lookupCreated(u));
  } else if (a.status === 201 && typeof a.body?.id === 'string') {
    stats.created++;
    u.first = { id: a.body.id, password: a.body.password, at: a.end };
    setLive(u, a.body.id);
    u.busy = false;
  } else if ((a.status === 0 || a.status >= 500) && u.attempts < 20) {
    later(2000 + rand(3000), 'create retry', () => retryCreate(u));
  } else {
    u.busy = false; // gave up (counted as unresolved at the end), or a 4xx (unexpected, counted)
    if (a.status >= 400 && a.status < 500) u.state = 'refused';
  }
}

/** The create met its own user (409): find its id by username, reading the upstream. */
async function lookupCreated(u: SoakUser): Promise<void> {
  u.attempts++;
  const a = await call('create (lookup)', u.backend, 'GET', `${base(u.backend)}/users?username=${encodeURIComponent(u.username)}`, (r) => {
    if (r.status !== 200) return 'expected 200';
    if (r.body?.data?.length !== 1) return `a 409 said ${u.username} exists, the list has ${r.body?.data?.length}`;
    return true;
  }, { headers: { 'cache-control': 'no-cache' } });
  const found = a.status === 200 ? a.body?.data?.[0] : undefined;
  if (found?.username === u.username) {
    stats.createResolvedByLookup++;
    stats.created++;
    setLive(u, found.id);
    u.keysCertain = false; // a half-made SFTP To Go create may have kept some keys
    u.busy = false;
  } else if ((a.status === 0 || a.status >= 500) && u.attempts < 20) {
    later(2000 + rand(2000), 'create lookup', () => lookupCreated(u));
  } else {
    u.busy = false;
  }
}

async function opDelete(b: Backend): Promise<void> {
  const u = pickUser(b);
  if (!u) return opList(b);
  stats.deletes++;
  u.attempts = 0;
  const a = await call('delete', b, 'DELETE', userPath(u, chance(0.3)), status(204));
  afterDelete(u, a, false);
}

function afterDelete(u: SoakUser, a: Answer, retry: boolean): void {
  if (a.status === 204 || (retry && a.status === 404)) {
    if (a.status === 404) stats.deletedByEarlierAttempt++;
    stats.deleted++;
    leaveLive(u, 'deleted');
    deletedNames[u.backend].push(u.username);
    u.busy = false;
  } else if ((a.status === 0 || a.status >= 500) && u.attempts < 20) {
    if (!retry) stats.deleteLost++;
    leaveLive(u, 'delete-uncertain');
    later(3000 + rand(3000), 'delete retry', async () => {
      stats.deleteRetries++;
      u.attempts++;
      afterDelete(u, await call('delete (retry)', u.backend, 'DELETE', userPath(u), status(204, 404)), true);
    });
  } else {
    u.busy = false; // unexpected (counted); it stays where it was
  }
}

async function opGet(b: Backend): Promise<void> {
  const u = pickUser(b);
  if (!u) return opList(b);
  try {
    await call('get', b, 'GET', userPath(u, chance(0.3)), (a) => {
      if (a.status !== 200) return 'expected 200';
      if (a.body?.id !== u.id || a.body?.username !== u.username) return 'another user';
      if ('password' in (a.body ?? {})) return 'a password in a read';
      if (u.keysCertain && a.body.sshKeyCount !== u.keyCount) return `sshKeyCount ${a.body.sshKeyCount}, expected ${u.keyCount}`;
      return true;
    });
  } finally {
    u.busy = false;
  }
}

async function opList(b: Backend): Promise<void> {
  const params = new URLSearchParams({ limit: String(pick([5, 10, 25, 50, 100])) });
  const order = pick(['asc', 'desc', undefined]);
  if (order) params.set('order', order);
  let filterUser: SoakUser | undefined;
  let goneName: string | undefined;
  const statusFilter = chance(0.25) ? pick(['active', 'disabled']) : undefined;
  if (statusFilter) params.set('status', statusFilter);
  else if (chance(0.15)) {
    // Read-your-writes: a user created (or deleted) earlier must show (or not) at once, cached or not.
    if (chance(0.7)) filterUser = pickUser(b);
    else if (deletedNames[b].length) goneName = pick(deletedNames[b]);
    const name = filterUser?.username ?? goneName;
    if (name) params.set('username', name);
  }
  const headers = chance(0.1) ? { 'cache-control': 'no-cache' } : undefined;
  try {
    await listPage(b, `${base(b, chance(0.3))}/users?${params}`, { order: order ?? 'asc', status: statusFilter, filterUser, goneName }, headers, 0);
  } finally {
    if (filterUser) filterUser.busy = false;
  }
}

interface ListExpectation { order: string; status?: string; filterUser?: SoakUser; goneName?: string }

async function listPage(b: Backend, path: string, want: ListExpectation, headers: Record<string, string> | undefined, depth: number) {
  if (want.filterUser || want.goneName) stats.readYourWrites++;
  const a = await call(depth ? 'list (next page)' : 'list', b, 'GET', path, (r) => {
    if (r.status !== 200) return 'expected 200';
    const data = r.body?.data;
    if (!Array.isArray(data) || (r.body.nextCursor !== null && typeof r.body.nextCursor !== 'string')) return 'not a page';
    if (!['HIT', 'MISS', 'BYPASS'].includes(r.headers.get('x-cache') ?? '')) return `X-Cache ${r.headers.get('x-cache')}`;
    for (let i = 1; i < data.length; i++) {
      const [x, y] = [data[i - 1].username as string, data[i].username as string];
      if (want.order === 'asc' ? !(x < y) : !(x > y)) return `page not in ${want.order} order: ${x}, ${y}`;
    }
    if (want.status && data.some((u: { status: string }) => u.status !== want.status)) return `a user not ${want.status}`;
    if (want.filterUser && (data.length !== 1 || data[0].id !== want.filterUser.id)) {
      return `read-your-writes: ${want.filterUser.username} (id ${want.filterUser.id}) listed ${data.length} time(s) (X-Cache ${r.headers.get('x-cache')})`;
    }
    if (want.goneName && data.length !== 0) return `read-your-writes: deleted ${want.goneName} still listed (X-Cache ${r.headers.get('x-cache')})`;
    if (data.some((u: object) => 'password' in u)) return 'a password in a list';
    return true;
  }, headers ? { headers } : {});
  const next = a.status === 200 ? a.body?.nextCursor : null;
  if (typeof next === 'string' && depth < 3 && chance(0.5)) {
    stats.cursorPages++;
    const url = new URL(path, 'http://x');
    url.searchParams.set('cursor', next);
    later(0, 'next page', () => listPage(b, `${url.pathname}${url.search}`, { order: want.order, status: want.status }, headers, depth + 1));
  }
}

async function opPatch(b: Backend): Promise<void> {
  const u = pickUser(b);
  if (!u) return opList(b);
  const options: Array<[Record<string, unknown>, (user: any) => boolean]> = b === 'onprem' // eslint-disable-line @typescript-eslint/no-explicit-any
    ? [
      [{ status: 'disabled' }, (x) => x.status === 'disabled'],
      [{ status: 'active' }, (x) => x.status === 'active'],
      [{ limits: { maxSessions: 1 + rand(9) } }, (x) => typeof x.limits?.maxSessions === 'number'],
      [{ expiresAt: null }, (x) => x.expiresAt === null],
      [{ accessLevel: 'read-write' }, (x) => x.accessLevel === 'read-write'],
    ]
    : [
      [{ status: 'disabled' }, (x) => x.status === 'disabled'],
      [{ status: 'active' }, (x) => x.status === 'active'],
      [{ displayName: `Soak ${rand(1000)}` }, (x) => typeof x.displayName === 'string'],
      [{ displayName: null }, (x) => x.displayName === null],
      [{ accessLevel: 'read-only' }, (x) => x.accessLevel === 'read-only'],
    ];
  const [body, holds] = pick(options);
  try {
    await call('patch', b, 'PATCH', userPath(u, chance(0.3)), (a) =>
      a.status !== 200 ? 'expected 200' : a.body?.id !== u.id ? 'another user' : holds(a.body) || `${JSON.stringify(body)} did not hold`, { body });
  } finally {
    u.busy = false;
  }
}

async function opRotate(b: Backend): Promise<void> {
  const u = pickUser(b);
  if (!u) return opList(b);
  const key = chance(0.4) ? randomUUID() : undefined;
  const path = `${userPath(u)}/password-rotations`;
  const opts = key ? { headers: { 'idempotency-key': key } } : {};
  const a = await call('password rotation', b, 'POST', path, (r) =>
    r.status !== 200 ? 'expected 200' : typeof r.body?.password !== 'string' || r.body.password.length < 8 ? 'no password'
      : r.headers.get('cache-control') !== 'no-store' ? 'no Cache-Control: no-store' : true, opts);
  if (key && a.status === 200 && chance(0.4)) {
    later(200 + rand(1000), 'rotation replay', async () => {
      stats.rotationReplays++;
      try {
        await call('password rotation (replay)', b, 'POST', path, (r) => {
          if (r.status !== 200) return 'expected 200';
          if (redisRestartedBetween(a.end, r.start)) return true; // the store lost the key: it rotated again
          if (r.headers.get('idempotent-replayed') !== 'true' || r.body?.password !== a.body.password) return 'not the first answer';
          return true;
        }, opts);
      } finally {
        u.busy = false;
      }
    });
    return;
  }
  u.busy = false;
}

async function opSetPassword(b: Backend): Promise<void> {
  if (b !== 'onprem') return opRotate(b);
  const u = pickUser(b);
  if (!u) return opList(b);
  try {
    await call('password set', b, 'PUT', `${userPath(u)}/password`, status(204), { body: { password: `pw-${randomUUID()}` } });
  } finally {
    u.busy = false;
  }
}

const acceptKey: Accept = (a) =>
  a.status !== 201 ? 'expected 201' : typeof a.body?.id !== 'string' || a.body.type !== 'ed25519' || !/^SHA256:/.test(a.body.fingerprint ?? '') ? 'not a key' : true;

function afterKeyAdd(u: SoakUser, a: Answer): void {
  if (a.status === 201 && typeof a.body?.id === 'string') {
    u.keyIds.push(a.body.id);
    u.keyCount++;
  } else {
    u.keysCertain = false;
  }
}

async function opKeyAdd(b: Backend): Promise<void> {
  const u = pickUser(b, (x) => x.keyCount < 8);
  if (!u) return opList(b);
  try {
    const opts = { body: { publicKey: newSshKey(`added@${u.username}`) }, ...(chance(0.3) ? { headers: { 'idempotency-key': randomUUID() } } : {}) };
    afterKeyAdd(u, await call('ssh-key add', b, 'POST', `${userPath(u)}/ssh-keys`, acceptKey, opts));
  } finally {
    u.busy = false;
  }
}

async function opKeyDelete(b: Backend): Promise<void> {
  const u = pickUser(b, (x) => x.keyIds.length > 0);
  if (!u) return opKeyAdd(b);
  try {
    const keyId = u.keyIds.splice(rand(u.keyIds.length), 1)[0]!;
    const a = await call('ssh-key delete', b, 'DELETE', `${userPath(u)}/ssh-keys/${encodeURIComponent(keyId)}`, status(204));
    if (a.status === 204) u.keyCount--;
    else u.keysCertain = false;
  } finally {
    u.busy = false;
  }
}

async function opKeyList(b: Backend): Promise<void> {
  const u = pickUser(b);
  if (!u) return opList(b);
  try {
    await call('ssh-key list', b, 'GET', `${userPath(u)}/ssh-keys`, (a) => {
      if (a.status !== 200 || !Array.isArray(a.body?.data)) return 'expected 200 and a list';
      if (!u.keysCertain) return true;
      if (a.body.data.length !== u.keyCount) return `${a.body.data.length} keys, expected ${u.keyCount}`;
      const ids = new Set(a.body.data.map((k: { id: string }) => k.id));
      return u.keyIds.every((id) => ids.has(id)) || 'a key added is missing';
    });
  } finally {
    u.busy = false;
  }
}

async function opNetworkRules(b: Backend): Promise<void> {
  if (b !== 'togo') return opPatch(b);
  const u = pickUser(b);
  if (!u) return opList(b);
  try {
    const cidr = `198.51.100.${rand(256)}`;
    await call('network rules', b, 'PUT', `${userPath(u)}/network-rules`, (a) =>
      a.status !== 200 ? 'expected 200' : a.body?.data?.[0]?.cidr !== `${cidr}/32` ? `rules ${JSON.stringify(a.body?.data)}` : true,
    { body: { data: [{ cidr, protocol: 'sftp', description: 'soak' }] } });
  } finally {
    u.busy = false;
  }
}

/**
 * Two changes to one SFTPGo user at once (a patch and a key add): the gateway reads, merges and
 * writes the whole user, serialized per user, so a read afterwards must show both.
 */
async function opRace(b: Backend): Promise<void> {
  if (b !== 'onprem') return opKeyAdd(b);
  const u = pickUser(b, (x) => x.keyCount < 8);
  if (!u) return opList(b);
  stats.races++;
  try {
    const maxSessions = 10 + rand(90);
    const [patched, added] = await Promise.all([
      call('race: patch', b, 'PATCH', userPath(u), (a) => (a.status === 200 ? true : 'expected 200'), { body: { limits: { maxSessions } } }),
      call('race: ssh-key add', b, 'POST', `${userPath(u)}/ssh-keys`, acceptKey, { body: { publicKey: newSshKey(`race@${u.username}`) } }),
    ]);
    afterKeyAdd(u, added);
    if (patched.status !== 200 || added.status !== 201) return;
    stats.raceChecks++;
    await call('race: read back', b, 'GET', userPath(u), (a) => {
      if (a.status !== 200) return 'expected 200';
      if (a.body?.limits?.maxSessions !== maxSessions) return `lost update: maxSessions ${a.body?.limits?.maxSessions}, patched ${maxSessions}`;
      if (u.keysCertain && a.body.sshKeyCount !== u.keyCount) return `lost update: sshKeyCount ${a.body.sshKeyCount}, expected ${u.keyCount}`;
      return true;
    });
  } finally {
    u.busy = false;
  }
}

const acceptBackend = (b: Backend): Accept => (a) =>
  a.status !== 200 ? 'expected 200 (a failing upstream is ok: false, not an error)'
    : a.body?.name !== b || typeof a.body?.health?.ok !== 'boolean' || typeof a.body?.circuit?.state !== 'string' ? 'no health or circuit' : true;

async function opBackend(b: Backend): Promise<void> {
  if (chance(0.5)) {
    await call('backends', b, 'GET', '/v1/backends', (a) =>
      a.status === 200 && Array.isArray(a.body?.data) && a.body.data.length === 2 ? true : 'expected both backends');
    return;
  }
  await call('backend health', b, 'GET', `/v1/backends/${b}`, acceptBackend(b));
}

interface Op { name: string; weight: (b: Backend) => number; run: (b: Backend) => Promise<void> }
const OPS: Op[] = [
  { name: 'list', weight: () => 27, run: opList },
  { name: 'get', weight: () => 17, run: opGet },
  { name: 'create', weight: (b) => (livePool[b].length < 30 ? 30 : 12), run: opCreate },
  { name: 'delete', weight: (b) => (livePool[b].length > TARGET_LIVE ? 18 : livePool[b].length < 30 ? 0 : 6), run: opDelete },
  { name: 'patch', weight: () => 10, run: opPatch },
  { name: 'rotate', weight: () => 6, run: opRotate },
  { name: 'set password', weight: (b) => (b === 'onprem' ? 2 : 0), run: opSetPassword },
  { name: 'key add', weight: () => 6, run: opKeyAdd },
  { name: 'key delete', weight: () => 3, run: opKeyDelete },
  { name: 'key list', weight: () => 3, run: opKeyList },
  { name: 'network rules', weight: (b) => (b === 'togo' ? 2 : 0), run: opNetworkRules },
  { name: 'race', weight: (b) => (b === 'onprem' ? 2 : 0), run: opRace },
  { name: 'backend', weight: () => 1, run: opBackend },
];

function randomTask(): () => Promise<void> {
  const b = pick(BACKENDS);
  const weights = OPS.map((op) => op.weight(b));
  let r = Math.random() * weights.reduce((s, w) => s + w, 0);
  for (let i = 0; i < OPS.length; i++) {
    r -= weights[i]!;
    if (r < 0) return () => OPS[i]!.run(b);
  }
  return () => opList(b);
}

// ---- the run --------------------------------------------------------------------------------------

const running = new Set<Promise<void>>();
const scriptErrors: string[] = [];

function launch(task: () => Promise<void>): void {
  const p = task().catch((err: unknown) => {
    scriptErrors.push(err instanceof Error ? err.stack ?? err.message : String(err));
  });
  running.add(p);
  void p.finally(() => running.delete(p));
}

/** A steady rate: slot n starts at n / RPS seconds; a slot that finds MAX_IN_FLIGHT busy is skipped. */
async function runLoad(): Promise<void> {
  let issued = 0;
  while (now() < DURATION_MS && !gatewayExited) {
    const due = Math.floor((now() * RPS) / 1000);
    while (issued < due) {
      issued++;
      if (running.size >= MAX_IN_FLIGHT) {
        stats.skippedSlots++;
        continue;
      }
      const followUp = takeDueFollowUp();
      launch(followUp ? followUp.run : randomTask());
    }
    await sleep(5);
  }
}

async function runTimeline(): Promise<void> {
  const events = windows.flatMap((w) => [{ at: w.planStart, w, on: true }, { at: w.planEnd, w, on: false }]).sort((a, b) => a.at - b.at);
  for (const e of events) {
    await sleep(Math.max(0, e.at - now()));
    if (gatewayExited) return;
    const { w } = e;
    if (e.on) {
      w.on = now();
      if (w.kind === 'redis') await redis!.kill();
      else await control(w.backend!, 'POST', FAULTS[w.kind].faults);
    } else {
      if (w.kind === 'redis') await redis!.restart();
      else await control(w.backend!, 'DELETE');
      w.off = now();
    }
    log(`${e.on ? 'on ' : 'off'} ${w.label}`);
  }
}

interface MemorySample { t: number; rssBytes: number }
const rss: MemorySample[] = [];
const metricsSamples: Array<{ t: number; rss: number; heapUsed: number; cpuSeconds: number }> = [];
const readyz = { samples: 0, degraded: 0, failures: [] as string[] };

function readRss(pid: number): number | undefined {
  try {
    const match = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

function metricValue(text: string, name: string): number {
  const match = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)`, 'm').exec(text);
  return match ? Number(match[1]) : NaN;
}

async function scrapeMetrics(): Promise<string | undefined> {
  try {
    const res = await fetch(`${gatewayUrl}/metrics`, { signal: AbortSignal.timeout(5000) });
    return await res.text();
  } catch {
    return undefined;
  }
}

async function sampleOnce(tick: number): Promise<void> {
  onprem.clearRequests(); // the emulators' request logs would otherwise grow in this process
  togo.clearRequests();
  const bytes = gateway?.pid ? readRss(gateway.pid) : undefined;
  if (bytes !== undefined) rss.push({ t: now(), rssBytes: bytes });
  readyz.samples++;
  try {
    const res = await fetch(`${gatewayUrl}/readyz`, { signal: AbortSignal.timeout(5000) });
    const body = (await res.json()) as { status?: string };
    if (res.status !== 200) readyz.failures.push(`@${Math.round(now() / 1000)} s: ${res.status}`);
    if (body.status === 'degraded') readyz.degraded++;
  } catch (err) {
    readyz.failures.push(`@${Math.round(now() / 1000)} s: ${(err as Error).message}`);
  }
  if (tick % 5 === 0) {
    const text = await scrapeMetrics();
    if (text) {
      metricsSamples.push({
        t: now(), rss: metricValue(text, 'process_resident_memory_bytes'), heapUsed: metricValue(text, 'nodejs_heap_size_used_bytes'),
        cpuSeconds: metricValue(text, 'process_cpu_seconds_total'),
      });
    }
  }
}

function log(line: string): void {
  process.stdout.write(`[soak ${String(Math.round(now() / 1000)).padStart(4)} s] ${line}\n`);
}

/** After the load: retry what is still uncertain until it is settled, faults off and circuits closed. */
async function settle(): Promise<void> {
  settling = true;
  // A circuit opened by the last fault lets one probe through after its cool-down, and fails the
  // calls made meanwhile fast: probe it with the health check first, as a careful client would.
  for (const b of BACKENDS) {
    for (let i = 0; i < 60; i++) {
      const a = await call('backend health', b, 'GET', `/v1/backends/${b}`, acceptBackend(b));
      if (a.body?.circuit?.state === 'closed' && a.body?.health?.ok === true) break;
      await sleep(500);
    }
  }
  for (let roundNo = 0; roundNo < 30 && followUps.length; roundNo++) {
    const batch = followUps.splice(0);
    for (let i = 0; i < batch.length; i += 20) await Promise.all(batch.slice(i, i + 20).map((f) => f.run().catch((err: unknown) => {
      scriptErrors.push(err instanceof Error ? err.stack ?? err.message : String(err));
    })));
    if (followUps.length) await sleep(500);
  }
}

/** Every page of a backend's users through the gateway, read from the upstream. */
async function listThroughGateway(b: Backend): Promise<{ usernames: string[]; problem?: string }> {
  const usernames: string[] = [];
  let cursor: string | null = null;
  for (let pageNo = 0; pageNo < 1000; pageNo++) {
    const q = new URLSearchParams({ limit: '100' });
    if (cursor) q.set('cursor', cursor);
    const a = await call('final list', b, 'GET', `${base(b)}/users?${q}`, status(200), { headers: { 'cache-control': 'no-cache' } });
    if (a.status !== 200) return { usernames, problem: `page ${pageNo} answered ${a.status}` };
    usernames.push(...(a.body.data as Array<{ username: string }>).map((u) => u.username));
    cursor = a.body.nextCursor;
    if (!cursor) return { usernames };
  }
  return { usernames, problem: 'more than 1000 pages' };
}

interface Check { name: string; ok: boolean; detail: string }
const checks: Check[] = [];
function check(name: string, ok: boolean, detail: string): void {
  checks.push({ name, ok, detail });
}

function checkUsers(): Record<string, unknown> {
  const report: Record<string, unknown> = {};
  for (const b of BACKENDS) {
    const upstream = upstreamUsers(b);
    const count = new Map<string, number>();
    const idOf = new Map<string, string>();
    for (const u of upstream) {
      count.set(u.username, (count.get(u.username) ?? 0) + 1);
      idOf.set(u.username, u.id);
    }
    const duplicates = [...count].filter(([, n]) => n > 1).map(([name]) => name);
    const problems: string[] = [];
    const byState: Record<string, number> = {};
    let checked = 0;
    for (const u of users.values()) {
      if (u.backend !== b) continue;
      checked++;
      byState[u.state] = (byState[u.state] ?? 0) + 1;
      const n = count.get(u.username) ?? 0;
      if (u.state === 'live') {
        if (n !== 1) problems.push(`${u.username}: answered 201 (id ${u.id}), upstream has it ${n} time(s)`);
        else if (idOf.get(u.username) !== u.id) problems.push(`${u.username}: answered id ${u.id}, upstream id ${idOf.get(u.username)}`);
      } else if (u.state === 'deleted' || u.state === 'refused') {
        if (n !== 0) problems.push(`${u.username}: ${u.state}, but upstream has it ${n} time(s)`);
      } else {
        problems.push(`${u.username}: still ${u.state} after settling (upstream has it ${n} time(s))`);
      }
    }
    const prefix = `soak-${RUN}-`;
    const phantoms = upstream.filter((u) => u.username.startsWith(prefix) && !users.has(`${b}/${u.username}`)).map((u) => u.username);
    const seeds = upstream.filter((u) => u.username.startsWith('seeduser')).length;
    check(`${b}: usernames unique upstream`, duplicates.length === 0, duplicates.length ? duplicates.slice(0, 10).join(', ') : `${upstream.length} users`);
    check(`${b}: every created user exists exactly once (deleted ones gone)`, problems.length === 0,
      problems.length ? `${problems.length} problem(s): ${problems.slice(0, 10).join('; ')}` : `${checked} soak users checked`);
    check(`${b}: no user appeared that the soak did not create`, phantoms.length === 0, phantoms.slice(0, 10).join(', ') || 'none');
    check(`${b}: seeded users untouched`, seeds === SEEDED, `${seeds} of ${SEEDED}`);
    report[b] = { upstreamUsers: upstream.length, soakUsersChecked: checked, byState, duplicates, problems: problems.slice(0, 50), phantoms };
  }
  return report;
}

function summarizeByPhase() {
  const phases = new Map<string, Sample[]>();
  for (const s of samples) {
    if (!phases.has(s.phase)) phases.set(s.phase, []);
    phases.get(s.phase)!.push(s);
  }
  const order = ['steady', ...windows.flatMap((w) => [w.label, `after ${w.label}`]), 'settle'];
  return order.filter((p) => phases.has(p)).map((phase) => {
    const list = phases.get(phase)!;
    const count = (f: (s: Sample) => boolean) => list.filter(f).length;
    const win = windows.find((w) => w.label === phase);
    return {
      phase,
      ...(win ? { from: round((win.on ?? 0) / 1000), to: round((win.off ?? 0) / 1000) } : {}),
      requests: list.length,
      '2xx': count((s) => s.status >= 200 && s.status < 300),
      '4xx': count((s) => s.status >= 400 && s.status < 500),
      '5xx': count((s) => s.status >= 500),
      noAnswer: count((s) => s.status === 0),
      '5xxByBackend': Object.fromEntries(BACKENDS.map((b) => [b, count((s) => s.backend === b && s.status >= 500)])),
      byStatus: Object.fromEntries([...new Set(list.map((s) => s.status))].sort().map((st) => [st, count((s) => s.status === st)])),
      expectedFaults: count((s) => s.verdict === 'fault'),
      unexpected: count((s) => s.verdict === 'unexpected'),
      xCache: Object.fromEntries(['HIT', 'MISS', 'BYPASS'].map((c) => [c, count((s) => s.cache === c)])),
      latencyMs: latencyOf(list.filter((s) => s.status !== 0).map((s) => s.ms)),
    };
  });
}

function memoryReport() {
  const warmUp = Math.min(30_000, DURATION_MS / 10);
  const avg = (xs: MemorySample[]) => xs.reduce((s, x) => s + x.rssBytes, 0) / Math.max(1, xs.length);
  const during = rss.filter((s) => s.t <= DURATION_MS);
  const first = during.filter((s) => s.t >= warmUp && s.t < DURATION_MS / 3);
  const last = during.filter((s) => s.t >= (2 * DURATION_MS) / 3);
  const ratio = avg(last) / avg(first);
  const values = during.map((s) => s.rssBytes);
  const heap = metricsSamples.filter((s) => Number.isFinite(s.heapUsed)).map((s) => s.heapUsed);
  return {
    samples: during.length,
    everyMs: SAMPLE_EVERY_MS,
    warmUpMs: warmUp,
    rssMB: {
      first: mb(values[0] ?? 0), last: mb(values.at(-1) ?? 0), min: mb(Math.min(...values)), max: mb(Math.max(...values)),
      firstThirdAvg: mb(avg(first)), lastThirdAvg: mb(avg(last)),
    },
    lastToFirstThirdRatio: round(ratio, 3),
    limit: MEMORY_GROWTH_LIMIT,
    heapUsedMB: heap.length ? { first: mb(heap[0]!), last: mb(heap.at(-1)!), max: mb(Math.max(...heap)) } : null,
    ok: first.length > 0 && last.length > 0 && ratio <= MEMORY_GROWTH_LIMIT,
    series: during.filter((_, i) => i % 5 === 0).map((s) => [Math.round(s.t / 1000), mb(s.rssBytes)]),
  };
}

async function main(): Promise<number> {
  console.log(`soak: ${SECONDS} s at ${RPS} req/s (at most ${MAX_IN_FLIGHT} in flight), run ${RUN}`);
  redis = await startPrivateRedis();
  onprem.seedUsers(SEEDED, 'seeduser');
  togo.seedCredentials(SEEDED, 'seeduser');
  served.onprem = await serveSftpgoEmulator(onprem);
  served.togo = await serveSftpToGoEmulator(togo);
  await startGateway();
  console.log(`gateway ${gatewayUrl} (pid ${gateway!.pid}), sftpgo ${served.onprem.url}, sftptogo ${served.togo.url}, redis ${redis.url}`);
  for (const w of windows) console.log(`  ${String(round(w.planStart / 1000)).padStart(6)}–${String(round(w.planEnd / 1000)).padEnd(6)} s  ${w.label}`);

  t0 = performance.now();
  const cpuBefore = process.cpuUsage();
  let tick = 0;
  const sampler = setInterval(() => void sampleOnce(tick++), SAMPLE_EVERY_MS);
  await sampleOnce(tick++);
  const progress = setInterval(() => {
    const recent = samples.filter((s) => s.start > now() - 10_000);
    const bad = samples.filter((s) => s.verdict === 'unexpected').length;
    const lastRss = rss.at(-1);
    log(`${recent.length / 10} req/s, ${running.size} in flight, live ${livePool.onprem.length}/${livePool.togo.length}, ` +
      `unexpected ${bad}, rss ${lastRss ? mb(lastRss.rssBytes) : '?'} MB`);
  }, Math.min(30_000, Math.max(5000, DURATION_MS / 10)));

  const timeline = runTimeline();
  await runLoad();
  const loadEnded = now();
  const requestsInLoad = requestsSent;
  await timeline;
  clearInterval(progress);
  log(`load over: ${samples.length} answers; waiting for ${running.size} in flight`);
  await Promise.all([...running]);
  log(`settling ${followUps.length} follow-up(s)`);
  await settle();
  clearInterval(sampler);
  const cpu = process.cpuUsage(cpuBefore);

  const finalMetrics = await scrapeMetrics();
  const finalLists: Record<string, unknown> = {};
  for (const b of BACKENDS) {
    const { usernames, problem } = await listThroughGateway(b);
    const upstream = upstreamUsers(b).map((u) => u.username).sort();
    const seen = new Set(usernames);
    const missing = upstream.filter((n) => !seen.has(n));
    const extra = usernames.filter((n) => !upstream.includes(n));
    const dupes = usernames.length - seen.size;
    check(`${b}: the gateway's paged list matches the upstream`, !problem && !missing.length && !extra.length && !dupes,
      problem ?? `${usernames.length} listed, ${upstream.length} upstream, ${missing.length} missing, ${extra.length} extra, ${dupes} duplicated`);
    finalLists[b] = { listed: usernames.length, upstream: upstream.length, missing: missing.slice(0, 10), extra: extra.slice(0, 10), duplicates: dupes };
  }
  const userReport = checkUsers();

  // ---- shutdown
  const alive = !gatewayExited;
  let exitCode: number | null = null;
  let shutdownMs = 0;
  if (alive) {
    const signalled = Date.now();
    gateway!.kill('SIGTERM');
    const outcome = await Promise.race([
      gatewayExit!.then((code) => ({ code })),
      sleep(SHUTDOWN_GRACE_MS + 5000).then(() => 'timeout' as const),
    ]);
    shutdownMs = Date.now() - signalled;
    if (outcome === 'timeout') gateway!.kill('SIGKILL');
    else exitCode = outcome.code;
  }
  await stopRedis();
  await Promise.all([served.onprem.close(), served.togo.close()]);

  // ---- numbers and checks
  const unexpected = samples.filter((s) => s.verdict === 'unexpected');
  const reasons = new Map<string, number>();
  for (const s of unexpected) {
    const key = `${s.op} @${s.backend} [${s.phase}]: ${s.reason}`.replace(/\d{3,}/g, 'N');
    reasons.set(key, (reasons.get(key) ?? 0) + 1);
  }
  const answered = samples.filter((s) => s.status !== 0);
  const steady = answered.filter((s) => s.phase === 'steady');
  const byOp = new Map<string, number[]>();
  for (const s of answered) {
    if (!byOp.has(s.op)) byOp.set(s.op, []);
    byOp.get(s.op)!.push(s.ms);
  }
  const memory = memoryReport();
  const rate = requestsInLoad / (loadEnded / 1000);
  const w = redisWindow();
  const hitsAfterRedis = samples.filter((s) => s.cache === 'HIT' && w.off !== undefined && s.start > w.off).length;
  const bypassWhileDown = samples.filter((s) => s.cache === 'BYPASS' && s.phase === 'redis down').length;
  const felt = windows.filter((x) => x.kind !== 'redis' && x.kind !== 'delay')
    .map((x) => [x.label, samples.filter((s) => s.verdict === 'fault' && s.reason?.startsWith(x.label)).length] as const);

  check('no unexpected answer (5xx only from a faulted backend, no 500 internal_error, no dropped or hung request)', unexpected.length === 0,
    unexpected.length ? `${unexpected.length}: ${[...reasons].slice(0, 8).map(([r, n]) => `${n}× ${r}`).join(' | ')}` : `${samples.length} answers`);
  check('replays, concurrent repeats and races agree', crossFailures.length === 0, crossFailures.slice(0, 8).join(' | ') || `${stats.replays} replays, ${stats.concurrentPairs} concurrent pairs, ${stats.raceChecks} races read back`);
  check('the gateway stayed up', alive, alive ? 'no exit during the run' : 'it exited during the run');
  check('the gateway wrote nothing to stderr', stderrText.trim() === '', stderrText.slice(0, 500) || 'empty');
  check('/readyz answered 200 every time', readyz.failures.length === 0, readyz.failures.slice(0, 5).join(', ') || `${readyz.samples} samples, ${readyz.degraded} degraded`);
  check('every fault was felt (the harness works)', felt.every(([, n]) => n > 0), felt.map(([l, n]) => `${l}: ${n}`).join(', '));
  check('lists bypassed the cache while Redis was down, and hit it again after', bypassWhileDown > 0 && hitsAfterRedis > 0,
    `${bypassWhileDown} BYPASS while down, ${hitsAfterRedis} HIT after`);
  check(`rate held (≥ 90 % of ${RPS} req/s)`, rate >= RPS * 0.9, `${round(rate)} req/s, ${stats.skippedSlots} slots skipped (in-flight cap)`);
  check(`memory did not keep growing (last third ≤ ${MEMORY_GROWTH_LIMIT} × first third)`, memory.ok,
    `RSS ${memory.rssMB.firstThirdAvg} → ${memory.rssMB.lastThirdAvg} MB (×${memory.lastToFirstThirdRatio}), min ${memory.rssMB.min}, max ${memory.rssMB.max}`);
  check('SIGTERM: the gateway exited 0', exitCode === 0, `exit code ${exitCode} after ${shutdownMs} ms`);
  check('the soak script itself raised no error', scriptErrors.length === 0, scriptErrors.slice(0, 3).join(' | ') || 'none');

  const failed = checks.filter((c) => !c.ok);
  const result = {
    ok: failed.length === 0,
    finishedAt: new Date().toISOString(),
    settings: {
      seconds: SECONDS, rps: RPS, maxInFlight: MAX_IN_FLIGHT, upstreamTimeoutMs: UPSTREAM_TIMEOUT_MS, breakerCoolDownMs: COOL_DOWN_MS,
      clientDeadlineMs: DEADLINE_MS, cache: 'redis (private redis-server, killed and restarted once)', node: process.version,
    },
    requests: {
      duringLoad: requestsInLoad, total: samples.length, rateAchieved: round(rate), skippedSlots: stats.skippedSlots,
      latencyMs: { all: latencyOf(answered.map((s) => s.ms)), steady: latencyOf(steady.map((s) => s.ms)) },
      latencyByOp: Object.fromEntries([...byOp].sort().map(([op, ms]) => [op, latencyOf(ms)])),
    },
    phases: summarizeByPhase(),
    windows: windows.map((x) => ({ label: x.label, on: round((x.on ?? NaN) / 1000), off: round((x.off ?? NaN) / 1000) })),
    users: { ...stats, report: userReport, finalLists },
    memory,
    gateway: {
      cpuSeconds: metricsSamples.length ? round((metricsSamples.at(-1)!.cpuSeconds - metricsSamples[0]!.cpuSeconds), 1) : null,
      exitCode, shutdownMs,
      readyz,
      logLines: Object.fromEntries([...logCounts].sort((a, b) => b[1] - a[1])),
      errorLines,
      stderr: stderrText.slice(0, 2000),
      finalMetrics: finalMetrics ? {
        circuitState: finalMetrics.split('\n').filter((l) => l.startsWith('sftp_gateway_circuit_state')),
        cacheReads: finalMetrics.split('\n').filter((l) => l.startsWith('sftp_gateway_list_cache_reads_total')),
      } : null,
    },
    soakProcessCpuSeconds: round((cpu.user + cpu.system) / 1e6, 1),
    unexpected: { count: unexpected.length, reasons: Object.fromEntries(reasons), first: unexpected.slice(0, 30) },
    crossFailures,
    checks,
  };
  mkdirSync(dirname(RESULTS_PATH), { recursive: true });
  writeFileSync(RESULTS_PATH, `${JSON.stringify(result, null, 2)}\n`);
  printSummary(result);
  return failed.length ? 1 : 0;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function printSummary(r: any): void {
  const out: string[] = [];
  out.push('', `==== soak: ${r.settings.seconds} s, target ${r.settings.rps} req/s ====`);
  out.push(`requests ${r.requests.duringLoad} in the load (${r.requests.total} with settling), ${r.requests.rateAchieved} req/s, ${r.requests.skippedSlots} slots skipped`);
  out.push(`latency ms: all p50 ${r.requests.latencyMs.all.p50} p99 ${r.requests.latencyMs.all.p99} max ${r.requests.latencyMs.all.max}; ` +
    `steady p50 ${r.requests.latencyMs.steady.p50} p99 ${r.requests.latencyMs.steady.p99}`);
  out.push('', 'phase                                      reqs   2xx   4xx   5xx  none  fault  unexp   HIT/MISS/BYPASS    p50/p99 ms');
  for (const p of r.phases) {
    out.push(`${p.phase.padEnd(40)} ${String(p.requests).padStart(6)} ${String(p['2xx']).padStart(5)} ${String(p['4xx']).padStart(5)} ` +
      `${String(p['5xx']).padStart(5)} ${String(p.noAnswer).padStart(5)} ${String(p.expectedFaults).padStart(6)} ${String(p.unexpected).padStart(6)}   ` +
      `${`${p.xCache.HIT}/${p.xCache.MISS}/${p.xCache.BYPASS}`.padEnd(17)} ${p.latencyMs.p50}/${p.latencyMs.p99}`);
  }
  const u = r.users;
  out.push('', `users: ${u.creates} creates (${u.created} confirmed, ${u.createLost} answers lost → ${u.createRetries} retries, ${u.createResolvedByLookup} found by username), ` +
    `${u.deletes} deletes (${u.deleted} confirmed, ${u.deleteLost} lost → ${u.deleteRetries} retries, ${u.deletedByEarlierAttempt} found already gone)`);
  out.push(`idempotency: ${u.replays} create replays (${u.replaysConfirmed} replayed, ${u.replaysLostWithRedis} lost with Redis' data), ` +
    `${u.concurrentPairs} concurrent pairs, ${u.reuseChecks} key-reuse checks, ${u.rotationReplays} rotation replays; ` +
    `${u.raceChecks} race read-backs, ${u.readYourWrites} read-your-writes lists`);
  for (const b of BACKENDS) {
    const rep = u.report[b];
    out.push(`  ${b}: ${rep.soakUsersChecked} soak users checked (${Object.entries(rep.byState).map(([k, v]) => `${v} ${k}`).join(', ')}), ${rep.upstreamUsers} users upstream`);
  }
  const m = r.memory;
  out.push(`memory (RSS, ${m.samples} samples): first ${m.rssMB.first} MB, last ${m.rssMB.last} MB, min ${m.rssMB.min}, max ${m.rssMB.max}; ` +
    `first third ${m.rssMB.firstThirdAvg} → last third ${m.rssMB.lastThirdAvg} MB (×${m.lastToFirstThirdRatio})` +
    (m.heapUsedMB ? `; heap used ${m.heapUsedMB.first} → ${m.heapUsedMB.last} MB (max ${m.heapUsedMB.max})` : ''));
  out.push(`gateway: ${r.gateway.cpuSeconds} CPU s, /readyz ${r.gateway.readyz.samples} samples (${r.gateway.readyz.degraded} degraded), exit ${r.gateway.exitCode} after SIGTERM in ${r.gateway.shutdownMs} ms`);
  out.push('', 'checks:');
  for (const c of r.checks) out.push(`  ${c.ok ? 'PASS' : 'FAIL'}  ${c.name} — ${c.detail}`);
  out.push('', `${r.ok ? 'SOAK PASSED' : 'SOAK FAILED'} — results in ${RESULTS_PATH}`);
  console.log(out.join('\n'));
}

/** Kills the private Redis; bounded, since a Redis already down never exits again. */
async function stopRedis(): Promise<void> {
  if (redis) await Promise.race([redis.kill().catch(() => {}), sleep(2000)]);
}

async function cleanup(): Promise<void> {
  if (gateway && !gatewayExited) gateway.kill('SIGKILL');
  await stopRedis();
}

process.on('SIGINT', () => {
  void cleanup().finally(() => process.exit(130));
});

main().then(
  (code) => process.exit(code),
  async (err: unknown) => {
    console.error('soak: failed to run:', err);
    await cleanup();
    process.exit(2);
  },
);
