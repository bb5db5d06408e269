/**
 * `npm run bench`: what the gateway costs, side by side in one run, as ratios that survive a
 * noisy machine. See docs/performance.md for the scenarios; the numbers go to bench/results.json
 * and bench/results.md.
 *
 * Every server runs in its own process: the floor (bare node:http), the ceilings and envelopes (see
 * bench/servers.ts), the four emulators (SFTPGo and SFTP To Go at 100 and at 10,000 users) and twelve gateways (src/node/main.ts, one per provider,
 * size and cache driver, each with its own GATEWAY_CONFIG, auth on, logging at "info" to a
 * file, validation on). The load generator (bench/load.ts, autocannon 8) is a process of its own
 * for every run. Each round runs every scenario once, in turn, so that a disturbance lands in one
 * round of many scenarios rather than in all rounds of one; the medians of the rounds are reported,
 * and each ratio is the median of the ratios within a round.
 *
 * Warm, steady state: every scenario runs BENCH_WARMUP_S (10) before its first measured round, so
 * every process is past its JIT warm-up, and each connection's first request (its TCP connect) is
 * left out of the latency percentiles (bench/load.ts). The pass-through (bench/passthrough.ts) is
 * the floor of an uncached page's CPU, as the ceiling is of a cached page's rate.
 *
 * Environment: BENCH_CONNECTIONS (10), BENCH_DURATION_S (5), BENCH_ROUNDS (3), BENCH_WARMUP_S (10),
 * BENCH_BIG_USERS (10000), BENCH_MAX_LOAD (0.5) and BENCH_LOAD_WAIT_S (600): how quiet the machine
 * must be (1-minute load average) before starting, and how long to wait for it; BENCH_ONLY: a
 * regular expression of scenario ids to run (results then go to bench/out/ only); BENCH_REDIS_URL
 * (redis://127.0.0.1:6379/0); BENCH_GATEWAY_NODE_ARGS: node options for every gateway process.
 *
 * `npm run bench -- --profile`: instead, runs the miss, hit and write scenarios once against gateways
 * started with `--cpu-prof`, and writes their top self-time functions (of the measured run only,
 * not the start-up) to bench/profile.md. `npm run bench -- --render`: rewrites bench/results.md
 * from bench/results.json.
 */
import { closeSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { topSelfTime } from './cpuprofile.js';
import {
  ROOT, cpuMs, envNumber, firstJsonLine, freePort, loadAverage, machineCpuMs, median, memoryMiB, buildBench, spawnEntry, stop, stopAll,
  type Child,
} from './procs.js';
import { BENCH_GATEWAY_KEY, BENCH_ORG, BENCH_SFTPTOGO_KEY, type LoadResult, type LoadSpec } from './shared.js';

// ---- settings ------------------------------------------------------------------------------


const SETTINGS = {
  connections: envNumber('BENCH_CONNECTIONS', 10),
  durationS: envNumber('BENCH_DURATION_S', 5),
  rounds: envNumber('BENCH_ROUNDS', 3),
  /** Each scenario's load before its first measured round: JIT, connections and caches warm. */
  warmupS: envNumber('BENCH_WARMUP_S', 10),
  bigUsers: envNumber('BENCH_BIG_USERS', 10_000),
  maxLoad: envNumber('BENCH_MAX_LOAD', 0.5),
  loadWaitS: envNumber('BENCH_LOAD_WAIT_S', 600),
};
const ONLY = process.env.BENCH_ONLY ? new RegExp(process.env.BENCH_ONLY) : undefined;
/** Node/V8 options for every gateway process (e.g. the memory settings docs/performance.md gives). */
const GATEWAY_NODE_ARGS = (process.env.BENCH_GATEWAY_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/0';
const PROFILE = process.argv.includes('--profile');
const PROFILE_TOP = envNumber('BENCH_PROFILE_TOP', 15);
const RUN_ID = `${Date.now().toString(36)}-${process.pid}`;
const KEY_PREFIX = `sftp-gateway-bench:${RUN_ID}:`;

const BENCH_DIR = join(ROOT, 'bench');
const OUT_DIR = join(BENCH_DIR, 'out'); // git-ignored: configs, logs, profiles
const SMALL = 100;
const PAGE = 100;

type Provider = 'sftpgo' | 'sftptogo';
type Driver = 'none' | 'memory' | 'redis';
type Kind = 'floor' | 'ceiling' | 'envelope' | 'envelope-redis' | 'step' | 'passthrough' | 'checked-passthrough' | 'upstream' | 'miss' | 'hit-memory' | 'hit-redis' | 'get' | 'write';

const PROVIDERS: Provider[] = ['sftpgo', 'sftptogo'];
/** The envelope's steps measured alone (`none`: the request id and the pipeline around the route). */
const ENVELOPE_STEPS = ['none', 'auth', 'query', 'log', 'metrics'];
const say = (line: string) => process.stdout.write(`${line}\n`);
const round1 = (n: number) => Math.round(n * 10) / 10;
const round3 = (n: number) => Math.round(n * 1000) / 1000;

// ---- servers -------------------------------------------------------------------------------

interface Upstream {
  provider: Provider;
  users: number;
  child: Child;
  url: string;
  /** The list straight from the emulator, as the issue names it. */
  listUrl: string;
  headers: Record<string, string>;
  /** An id of a seeded user, for `get`. */
  someId: string;
}

interface Gateway {
  name: string;
  provider: Provider;
  users: number;
  driver: Driver;
  child: Child;
  url: string;
  logFile: string;
  /** RSS once ready, before any request: the process's fixed cost (Node and the app). */
  idleRssMiB: number;
}

async function startServer(name: string, args: string[]): Promise<{ child: Child; url: string }> {
  const child = spawnEntry(name, 'servers', args);
  const { url } = await firstJsonLine<{ url: string }>(child, 60_000);
  return { child, url };
}

async function startUpstream(provider: Provider, users: number): Promise<Upstream> {
  const { child, url } = await startServer(`${provider}-${users}`, [provider, String(users)]);
  if (provider === 'sftpgo') {
    return { provider, users, child, url, listUrl: `${url}/api/v1/user?limit=${PAGE}`, headers: {}, someId: String(Math.ceil(users / 2)) };
  }
  const headers = { authorization: `Bearer ${BENCH_SFTPTOGO_KEY}` };
  const listUrl = `${url}/organizations/${BENCH_ORG}/users`;
  const all = (await (await fetch(listUrl, { headers })).json()) as Array<{ Id: string; IsDefault?: boolean }>;
  const some = all.filter((c) => !c.IsDefault)[Math.floor(all.length / 2)] ?? all[0]!;
  return { provider, users, child, url, listUrl, headers, someId: some.Id };
}

function gatewayConfig(up: Upstream, driver: Driver, port: number, name: string): unknown {
  const backend = up.provider === 'sftpgo'
    ? { provider: 'sftpgo', baseUrl: up.url, sftpHost: 'sftp.example.com' }
    : { provider: 'sftptogo', baseUrl: up.url, organizationId: BENCH_ORG, apiKey: BENCH_SFTPTOGO_KEY };
  return {
    server: { host: '127.0.0.1', port, shutdownGraceMs: 5000 },
    auth: { apiKeys: [{ name: 'bench', key: BENCH_GATEWAY_KEY, scopes: ['read', 'write'] }] },
    // A long TTL: a hit scenario must not turn into a reload half-way through the benchmark.
    cache: {
      driver, ttlSeconds: 3600, keyPrefix: `${KEY_PREFIX}${name}:`,
      ...(driver === 'redis' ? { url: REDIS_URL } : {}),
    },
    logLevel: 'info',
    backends: { bench: backend },
  };
}

async function startGateway(up: Upstream, driver: Driver, extraNodeArgs: string[] = []): Promise<Gateway> {
  const nodeArgs = [...GATEWAY_NODE_ARGS, ...extraNodeArgs];
  const name = `gw-${up.provider}-${up.users}-${driver}`;
  const port = await freePort();
  const configFile = join(OUT_DIR, `${name}.json`);
  writeFileSync(configFile, JSON.stringify(gatewayConfig(up, driver, port, name), null, 2));
  const logFile = join(OUT_DIR, 'logs', `${name}.log`);
  const fd = openSync(logFile, 'a'); // O_APPEND: truncating it between runs is safe
  const child = spawnEntry(name, 'node', [], {
    env: { GATEWAY_CONFIG: configFile, LOG_LEVEL: 'info', PORT: '', HOST: '' },
    stdout: fd,
    nodeArgs,
  });
  closeSync(fd);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.proc.exitCode !== null) throw new Error(`${name} exited (${child.proc.exitCode})\n${child.stderr()}`);
    const ok = await fetch(`${url}/healthz`).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`${name} did not answer /healthz within 60 s\n${child.stderr()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { name, provider: up.provider, users: up.users, driver, child, url, logFile, idleRssMiB: memoryMiB(child.pid).rss };
}

/**
 * A server that is not the gateway but answers what that provider's 100-user gateway answers
 * (bench/servers.ts): the ceiling and the envelope (the page pre-serialized), the pass-through
 * (the page made from the emulator's answer, with nothing else).
 */
interface Bare {
  kind: 'ceiling' | 'envelope' | 'envelope-redis' | 'step' | 'passthrough' | 'checked-passthrough';
  /** The users behind it (a pass-through at the big size): SMALL unless said. */
  users?: number;
  /** A `step` server: the envelope with only this step (`none`: the request id and pipeline alone). */
  step?: string;
  provider: Provider;
  child: Child;
  url: string;
  logFile?: string;
  /** The pass-through's emulator. */
  upstream?: Child;
  /** The gateway's answer, which the pass-through must give byte for byte. */
  expected?: string;
}

async function startBareServers(gws: Gateway[], ups: Upstream[]): Promise<Bare[]> {
  const out: Bare[] = [];
  for (const provider of PROVIDERS) {
    const g = gws.find((x) => x.provider === provider && x.users === SMALL && x.driver === 'memory');
    const up = ups.find((u) => u.provider === provider && u.users === SMALL);
    if (!g || !up) continue;
    const res = await fetch(`${g.url}/v1/users?limit=${PAGE}`, { headers: gwHeaders });
    if (res.status !== 200) throw new Error(`ceiling body from ${g.name}: ${res.status}`);
    const text = await res.text();
    const file = join(OUT_DIR, `ceiling-${provider}.json`);
    writeFileSync(file, text);
    out.push({ kind: 'ceiling', provider, ...(await startServer(`ceiling-${provider}`, ['ceiling', file])) });
    const log = join(OUT_DIR, 'logs', `envelope-${provider}.log`);
    out.push({ kind: 'envelope', provider, logFile: log, ...(await startServer(`envelope-${provider}`, ['envelope', file, log])) });
    // The envelope one step at a time, to price each (a cached page's limit is their sum).
    for (const step of ENVELOPE_STEPS) {
      const stepLog = join(OUT_DIR, 'logs', `step-${step}-${provider}.log`);
      const only = step === 'none' ? '' : step;
      out.push({ kind: 'step', step, provider, ...(await startServer(`step-${step}-${provider}`, ['envelope', file, stepLog, only])) });
    }
    // The envelope reading the page from Redis with the gateway's ListCache: a Redis hit's limit.
    const redisLog = join(OUT_DIR, 'logs', `envelope-redis-${provider}.log`);
    out.push({
      kind: 'envelope-redis', provider, logFile: redisLog,
      ...(await startServer(`envelope-redis-${provider}`, ['envelope', file, redisLog, [...ENVELOPE_STEPS.slice(1), 'redis'].join(',')])),
    });
    const cursor = (JSON.parse(text) as { nextCursor: string | null }).nextCursor ?? '';
    out.push({
      kind: 'passthrough', provider, upstream: up.child, expected: text,
      ...(await startServer(`passthrough-${provider}`, ['passthrough', provider, up.url, cursor])),
    });
    // The pass-through inside the envelope: an uncached page's limit with every check on.
    const checkedLog = join(OUT_DIR, 'logs', `checked-passthrough-${provider}.log`);
    out.push({
      kind: 'checked-passthrough', provider, upstream: up.child, expected: text, logFile: checkedLog,
      ...(await startServer(`checked-passthrough-${provider}`, ['checked-passthrough', provider, up.url, checkedLog, cursor])),
    });
  }
  // SFTP To Go's whole list at the big size, nothing kept between requests: the RSS goal's limit.
  const bigGateway = gws.find((x) => x.provider === 'sftptogo' && x.users === SETTINGS.bigUsers && x.driver === 'none');
  const bigUp = ups.find((u) => u.provider === 'sftptogo' && u.users === SETTINGS.bigUsers);
  if (bigGateway && bigUp) {
    const res = await fetch(`${bigGateway.url}/v1/users?limit=${PAGE}`, { headers: gwHeaders });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`pass-through body from ${bigGateway.name}: ${res.status}`);
    const cursor = (JSON.parse(text) as { nextCursor: string | null }).nextCursor ?? '';
    out.push({
      kind: 'passthrough', provider: 'sftptogo', users: SETTINGS.bigUsers, upstream: bigUp.child, expected: text,
      ...(await startServer(`passthrough-sftptogo-${SETTINGS.bigUsers}`, ['passthrough', 'sftptogo', bigUp.url, cursor])),
    });
  }
  return out;
}

// ---- scenarios -----------------------------------------------------------------------------

interface Scenario {
  id: string;
  kind: Kind;
  provider?: Provider;
  users?: number;
  /** What is measured, for the table. */
  target: string;
  spec: LoadSpec;
  /** The process whose CPU and memory are reported (the gateway; the server itself for floor/upstream). */
  server: Child;
  /** The emulator behind it, when there is one. */
  upstream?: Child;
  /** The server's log (the gateway's, or the envelope's), which must gain a line per request of the run. */
  logFile?: string;
  /** Checks one request before measuring: a wrong answer makes every number meaningless. */
  check: () => Promise<void>;
}

interface RoundResult extends LoadResult {
  round: number;
  /** The measured server's CPU time over the run, per request (per pair for write), in µs. */
  cpuUsPerReq: number;
  upstreamCpuUsPerReq?: number;
  rssMiB: number;
  peakRssMiB: number;
  /** CPU used on the machine by processes other than this benchmark's, as % of all cores. */
  foreignCpuPct: number;
  load1: number;
  /** Gateway log lines written during the run (≥ requests: logging was on). */
  logLines?: number;
}

const gwHeaders = { authorization: `Bearer ${BENCH_GATEWAY_KEY}` };

async function expectList(url: string, headers: Record<string, string>, cache: string | null, count: number): Promise<void> {
  const res = await fetch(url, { headers });
  const body = await res.text();
  if (res.status !== 200) throw new Error(`check ${url}: ${res.status} ${body.slice(0, 300)}`);
  if (cache !== null && res.headers.get('x-cache') !== cache) {
    throw new Error(`check ${url}: X-Cache ${res.headers.get('x-cache')}, expected ${cache}`);
  }
  const parsed = JSON.parse(body) as unknown[] | { data: unknown[] };
  const n = Array.isArray(parsed) ? parsed.length : parsed.data.length;
  if (n !== count) throw new Error(`check ${url}: ${n} users, expected ${count}`);
}

function buildScenarios(
  floor: { child: Child; url: string },
  bare: Bare[],
  ups: Upstream[],
  gws: Gateway[],
): Scenario[] {
  const out: Scenario[] = [];
  const base = { connections: SETTINGS.connections, durationS: SETTINGS.durationS };
  out.push({
    id: 'floor', kind: 'floor', target: 'bare node:http, small JSON', server: floor.child,
    spec: { ...base, url: `${floor.url}/` },
    check: async () => {
      const res = await fetch(`${floor.url}/`);
      if (!res.ok) throw new Error(`floor answered ${res.status}`);
      await res.text();
    },
  });
  for (const b of bare) {
    const url = `${b.url}/v1/users?limit=${PAGE}`;
    if (b.kind === 'step') {
      out.push({
        id: `step-${b.step}-${b.provider}`, kind: 'step', provider: b.provider, users: SMALL, server: b.child,
        target: b.step === 'none' ? 'the ceiling + request id and pipeline' : `the ceiling + request id and pipeline + ${b.step}`,
        spec: { ...base, url, headers: gwHeaders },
        check: () => expectList(url, gwHeaders, 'HIT', PAGE),
      });
      continue;
    }
    if (b.kind === 'passthrough' || b.kind === 'checked-passthrough') {
      const users = b.users ?? SMALL;
      const id = `${b.kind}-${b.provider}${users === SMALL ? '' : `-${users}`}`;
      const checked = b.kind === 'checked-passthrough';
      out.push({
        id, kind: b.kind, provider: b.provider, users, server: b.child, upstream: b.upstream, logFile: b.logFile,
        target: `undici → JSON.parse → plain map → JSON.stringify of the ${PAGE}-user page${checked ? ', in the envelope' : ', nothing else'}`,
        spec: { ...base, url, ...(checked ? { headers: gwHeaders } : {}) },
        check: async () => {
          const text = await (await fetch(url, checked ? { headers: gwHeaders } : {})).text();
          if (text !== b.expected) throw new Error(`${id} does not answer the gateway's bytes:\n${text.slice(0, 400)}\n${b.expected!.slice(0, 400)}`);
          if (checked && (await fetch(url)).status !== 401) throw new Error(`${id} without a key did not answer 401`);
        },
      });
      continue;
    }
    out.push({
      id: `${b.kind}-${b.provider}`, kind: b.kind, provider: b.provider, users: SMALL, server: b.child, logFile: b.logFile,
      target: b.kind === 'ceiling'
        ? `bare Hono, the gateway's ${PAGE}-user answer pre-serialized`
        : `the ceiling + request id, API key, query parse, log line, metrics${b.kind === 'envelope-redis' ? ', the page read from Redis' : ''}`,
      spec: { ...base, url, headers: gwHeaders },
      check: async () => {
        await expectList(url, gwHeaders, 'HIT', PAGE);
        if (b.kind === 'ceiling') return;
        const refused = await fetch(url);
        if (refused.status !== 401) throw new Error(`envelope without a key answered ${refused.status}, expected 401`);
      },
    });
  }
  const gw = (p: Provider, users: number, d: Driver) => gws.find((g) => g.provider === p && g.users === users && g.driver === d)!;
  for (const users of [SMALL, SETTINGS.bigUsers]) {
    for (const provider of PROVIDERS) {
      const up = ups.find((u) => u.provider === provider && u.users === users)!;
      const tag = `${provider}-${users}`;
      const upCount = provider === 'sftpgo' ? PAGE : users;
      out.push({
        id: `upstream-${tag}`, kind: 'upstream', provider, users, server: up.child,
        target: provider === 'sftpgo' ? `GET /api/v1/user?limit=${PAGE}` : `GET /organizations/{org}/users (all ${users})`,
        spec: { ...base, url: up.listUrl, headers: up.headers },
        check: () => expectList(up.listUrl, up.headers, null, upCount),
      });
      const listUrl = (g: Gateway) => `${g.url}/v1/users?limit=${PAGE}`;
      for (const [kind, driver] of [['miss', 'none'], ['hit-memory', 'memory'], ['hit-redis', 'redis']] as const) {
        const g = gw(provider, users, driver);
        out.push({
          id: `${kind}-${tag}`, kind, provider, users, server: g.child, upstream: up.child, logFile: g.logFile,
          target: `GET /v1/users?limit=${PAGE}, cache ${driver}`,
          spec: { ...base, url: listUrl(g), headers: gwHeaders },
          check: async () => {
            if (kind === 'miss') return expectList(listUrl(g), gwHeaders, 'BYPASS', PAGE);
            await expectList(listUrl(g), gwHeaders, null, PAGE); // fills the cache when empty
            return expectList(listUrl(g), gwHeaders, 'HIT', PAGE);
          },
        });
      }
      if (users !== SMALL) continue;
      const g = gw(provider, users, 'none');
      const userUrl = `${g.url}/v1/users/${encodeURIComponent(up.someId)}`;
      out.push({
        id: `get-${tag}`, kind: 'get', provider, users, server: g.child, upstream: up.child, logFile: g.logFile,
        target: 'GET /v1/users/{id}, cache none',
        spec: { ...base, url: userUrl, headers: gwHeaders },
        check: async () => {
          const res = await fetch(userUrl, { headers: gwHeaders });
          if (res.status !== 200) throw new Error(`check ${userUrl}: ${res.status} ${await res.text()}`);
          await res.text();
        },
      });
      out.push({
        id: `write-${tag}`, kind: 'write', provider, users, server: g.child, upstream: up.child, logFile: g.logFile,
        target: 'POST /v1/users + DELETE /v1/users/{id} (pairs), cache none',
        spec: { ...base, url: g.url, headers: gwHeaders, mode: 'write-pairs', usersPath: '/v1/users' },
        check: async () => {
          const created = await fetch(`${g.url}/v1/users`, {
            method: 'POST', headers: { ...gwHeaders, 'content-type': 'application/json' },
            body: JSON.stringify({ username: `bwcheck${process.pid}`, accessLevel: 'read-write' }),
          });
          const body = (await created.json()) as { id?: string };
          if (created.status !== 201 || !body.id) throw new Error(`check create: ${created.status} ${JSON.stringify(body)}`);
          const deleted = await fetch(`${g.url}/v1/users/${encodeURIComponent(body.id)}`, { method: 'DELETE', headers: gwHeaders });
          if (deleted.status !== 204) throw new Error(`check delete: ${deleted.status} ${await deleted.text()}`);
        },
      });
    }
  }
  return out.filter((s) => !ONLY || ONLY.test(s.id));
}

function logLinesSince(file: string): number {
  // Counting newlines of what was appended since the last truncate, then starting afresh.
  const text = readFileSync(file);
  let n = 0;
  for (const byte of text) if (byte === 10) n++;
  truncateSync(file, 0);
  return n;
}

async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const child = spawnEntry('load', 'load', [JSON.stringify(spec)]);
  return firstJsonLine<LoadResult>(child, (spec.durationS + 120) * 1000);
}

async function measure(s: Scenario, round: number): Promise<RoundResult> {
  await s.check();
  const { logFile } = s;
  if (logFile) logLinesSince(logFile);
  const load1 = loadAverage();
  const machine0 = machineCpuMs();
  const cpu0 = cpuMs(s.server.pid);
  const up0 = s.upstream ? cpuMs(s.upstream.pid) : 0;
  const result = await runLoad(s.spec);
  const cpu1 = cpuMs(s.server.pid);
  const up1 = s.upstream ? cpuMs(s.upstream.pid) : 0;
  const machine1 = machineCpuMs();
  const mem = memoryMiB(s.server.pid);
  if (result.errors || result.timeouts || result.non2xx) {
    throw new Error(`${s.id}: ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx (${JSON.stringify(result.statusCodes)})`);
  }
  const units = s.kind === 'write' ? result.pairs ?? 0 : result.requests;
  let logLines: number | undefined;
  if (logFile) {
    await new Promise((r) => setTimeout(r, 500)); // the logger flushes its buffer every 200 ms
    logLines = logLinesSince(logFile);
    if (logLines < result.requests) throw new Error(`${s.id}: ${logLines} log lines for ${result.requests} requests`);
  }
  const ours = (cpu1 - cpu0) + (up1 - up0) + result.cpuMs;
  const wall = machine1.total - machine0.total;
  return {
    ...result,
    round,
    cpuUsPerReq: round1(((cpu1 - cpu0) * 1000) / units),
    ...(s.upstream ? { upstreamCpuUsPerReq: round1(((up1 - up0) * 1000) / units) } : {}),
    rssMiB: mem.rss,
    peakRssMiB: mem.peak,
    foreignCpuPct: wall > 0 ? round1(Math.max(0, ((machine1.busy - machine0.busy - ours) / wall) * 100)) : 0,
    load1,
    ...(logLines !== undefined ? { logLines } : {}),
  };
}

// ---- reporting -----------------------------------------------------------------------------

interface ScenarioSummary {
  id: string;
  kind: Kind;
  provider: Provider | null;
  users: number | null;
  target: string;
  rounds: RoundResult[];
  median: { rate: number; p50: number; p99: number; cpuUsPerReq: number; upstreamCpuUsPerReq: number | null; rssMiB: number; peakRssMiB: number; pairP50?: number; pairP99?: number };
  maxForeignCpuPct: number;
}

interface Ratio {
  name: string;
  provider: Provider;
  users: number;
  value: number;
  unit: 'x' | 'ms';
  /** Each round's value; `value` is their median. */
  perRound: number[];
}

interface Goal {
  goal: string;
  measured: string;
  met: boolean;
}

function summarize(s: Scenario, rounds: RoundResult[]): ScenarioSummary {
  const m = (pick: (r: RoundResult) => number | undefined) => round3(median(rounds.map((r) => pick(r) ?? NaN)));
  const upstreamCpu = m((r) => r.upstreamCpuUsPerReq);
  return {
    id: s.id, kind: s.kind, provider: s.provider ?? null, users: s.users ?? null, target: s.target, rounds,
    median: {
      rate: round1(m((r) => r.rate)), p50: m((r) => r.p50), p99: m((r) => r.p99), cpuUsPerReq: round1(m((r) => r.cpuUsPerReq)),
      upstreamCpuUsPerReq: Number.isNaN(upstreamCpu) ? null : round1(upstreamCpu),
      rssMiB: m((r) => r.rssMiB), peakRssMiB: Math.max(...rounds.map((r) => r.peakRssMiB)),
      ...(s.kind === 'write' ? { pairP50: m((r) => r.pairP50), pairP99: m((r) => r.pairP99) } : {}),
    },
    maxForeignCpuPct: Math.max(...rounds.map((r) => r.foreignCpuPct)),
  };
}

function ratios(summaries: ScenarioSummary[]): Ratio[] {
  const find = (id: string) => summaries.find((s) => s.id === id);
  const floor = find('floor');
  const out: Ratio[] = [];
  const perRound = (a: ScenarioSummary, b: ScenarioSummary, f: (x: RoundResult, y: RoundResult) => number) =>
    a.rounds.map((r, i) => (b.rounds[i] ? f(r, b.rounds[i]!) : NaN));
  const push = (name: string, s: ScenarioSummary, values: number[], unit: Ratio['unit']) =>
    out.push({ name, provider: s.provider!, users: s.users!, value: round3(median(values)), unit, perRound: values.map(round3) });
  for (const s of summaries) {
    const tag = `${s.provider}-${s.users}`;
    const up = find(`upstream-${tag}`);
    if (s.kind === 'miss' && up) {
      push('miss / upstream (req/s)', s, perRound(s, up, (a, b) => a.rate / b.rate), 'x');
      push('p99 added over the upstream (ms)', s, perRound(s, up, (a, b) => a.p99 - b.p99), 'ms');
      push('p50 added over the upstream (ms)', s, perRound(s, up, (a, b) => a.p50 - b.p50), 'ms');
    }
    if (s.kind === 'miss') push('miss p99 / p50', s, s.rounds.map((r) => r.p99 / r.p50), 'x');
    const through = find(`passthrough-${s.provider}`);
    if (s.kind === 'miss' && s.users === SMALL && through) {
      push('miss / passthrough (CPU µs per request)', s, perRound(s, through, (a, b) => a.cpuUsPerReq / b.cpuUsPerReq), 'x');
    }
    if (s.kind === 'checked-passthrough' && through) {
      push('checked-passthrough / passthrough (CPU µs per request)', s, perRound(s, through, (a, b) => a.cpuUsPerReq / b.cpuUsPerReq), 'x');
    }
    if ((s.kind === 'hit-memory' || s.kind === 'hit-redis') && floor) {
      push(`${s.kind} / floor (req/s)`, s, perRound(s, floor, (a, b) => a.rate / b.rate), 'x');
    }
    for (const bare of ['ceiling', 'envelope'] as const) {
      const b = find(`${bare}-${s.provider}`);
      if ((s.kind === 'hit-memory' || s.kind === 'hit-redis') && b) {
        push(`${s.kind} / ${bare} (req/s)`, s, perRound(s, b, (x, y) => x.rate / y.rate), 'x');
      }
      if (s.kind === bare && floor) push(`${bare} / floor (req/s)`, s, perRound(s, floor, (x, y) => x.rate / y.rate), 'x');
    }
    const ceiling = find(`ceiling-${s.provider}`);
    if ((s.kind === 'envelope' || s.kind === 'envelope-redis') && ceiling) {
      push(`${s.kind} / ceiling (req/s)`, s, perRound(s, ceiling, (x, y) => x.rate / y.rate), 'x');
    }
  }
  return out;
}

// ---- the extra measurements: cold loads and one-connection latency ---------------------------

interface Extras {
  /** The very first list request through a fresh gateway (memory cache), SFTP To Go at the big size. */
  firstListColdMs?: number;
  /** Median of 10 sequential uncached loads (`Cache-Control: no-cache`): upstream + parse + map + page. */
  uncachedListMs?: number;
  /** The same list straight from the emulator, median of 10: what the upstream alone takes. */
  upstreamListMs?: number;
  /** Median over the 10 pairs of (uncached list − upstream alone): what the gateway adds. */
  gatewayShareMs?: number;
  /** The same for the pass-through at the big size (parse, sort, map one page, stringify; nothing kept): the share's limit. */
  passthroughShareMs?: number;
  /** The cached page at 1 connection (no queueing behind other requests): p50 and p99 in ms. */
  pageOneConnection?: { p50: number; p99: number; rate: number };
}

/**
 * One GET, timed to its last byte. node:http with the body discarded, not fetch: fetch's web
 * streams took ~190 ms to read SFTP To Go's 7.5 MB list, four times what the emulator takes to
 * send it, and would have been counted as the upstream's time.
 */
async function timed(url: string, headers: Record<string, string>): Promise<number> {
  const started = performance.now();
  const status = await new Promise<number>((resolve, reject) => {
    httpGet(url, { headers, agent: false }, (res) => {
      res.on('data', () => {}).on('end', () => resolve(res.statusCode ?? 0)).on('error', reject);
    }).on('error', reject);
  });
  if (status !== 200) throw new Error(`${url}: ${status}`);
  return performance.now() - started;
}

async function coldList(up: Upstream): Promise<{ cold: number; gateway: Gateway }> {
  const gateway = await startGateway(up, 'memory');
  const cold = await timed(`${gateway.url}/v1/users?limit=${PAGE}`, gwHeaders);
  return { cold: round1(cold), gateway };
}

// ---- main ----------------------------------------------------------------------------------

async function waitForQuietMachine(): Promise<{ load1: number; waitedS: number }> {
  const started = Date.now();
  let load1 = loadAverage();
  while (load1 >= SETTINGS.maxLoad && Date.now() - started < SETTINGS.loadWaitS * 1000) {
    say(`  load average ${load1.toFixed(2)} ≥ ${SETTINGS.maxLoad}: waiting (up to ${SETTINGS.loadWaitS} s in all)…`);
    await new Promise((r) => setTimeout(r, 15_000));
    load1 = loadAverage();
  }
  return { load1, waitedS: Math.round((Date.now() - started) / 1000) };
}

async function clearRedisKeys(): Promise<void> {
  const client = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  client.on('error', () => {});
  try {
    await client.connect();
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${KEY_PREFIX}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await client.del(...keys);
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
}

async function profileRun(ups: Upstream[]): Promise<void> {
  const dir = join(OUT_DIR, 'profiles');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const up = (p: Provider, users: number) => ups.find((u) => u.provider === p && u.users === users)!;
  const big = SETTINGS.bigUsers;
  const cases: Array<{ slug: string; title: string; up: Upstream; driver: Driver; writes?: true }> = [
    { slug: 'miss-sftpgo-100', title: 'miss, SFTPGo, 100 users (cache none)', up: up('sftpgo', SMALL), driver: 'none' },
    { slug: 'miss-sftptogo-100', title: 'miss, SFTP To Go, 100 users (cache none)', up: up('sftptogo', SMALL), driver: 'none' },
    { slug: `miss-sftptogo-${big}`, title: `miss, SFTP To Go, ${big} users (cache none)`, up: up('sftptogo', big), driver: 'none' },
    { slug: 'hit-memory-sftpgo-100', title: 'hit, memory cache, SFTPGo, 100 users', up: up('sftpgo', SMALL), driver: 'memory' },
    { slug: 'hit-redis-sftpgo-100', title: 'hit, Redis cache, SFTPGo, 100 users', up: up('sftpgo', SMALL), driver: 'redis' },
    { slug: 'write-sftpgo-100', title: 'write (create + delete), SFTPGo, 100 users (cache none)', up: up('sftpgo', SMALL), driver: 'none', writes: true },
  ];
  const lines = [
    '# CPU profiles of the gateway',
    '',
    `Generated by \`npm run bench -- --profile\` (${new Date().toISOString()}): each gateway ran under \`node --cpu-prof\`,`,
    `${SETTINGS.connections} connections for ${SETTINGS.durationS} s after a ${SETTINGS.warmupS} s warm-up. Self time: time in the`,
    'function itself, not its callees; % of the busy (non-idle) samples. Profiling slows the process: use these to rank',
    'costs, not as throughput numbers. V8 samples the main thread by wall time: a system call it waits in while the',
    "load generator has the CPU (`writev` of a 68 KB answer, on 2 cores) is charged with that wait, so `writev`'s share",
    'here is larger than its CPU time (`perf` with `node --perf-basic-prof` counts CPU time only).',
    '',
  ];
  for (const c of cases) {
    if (ONLY && !ONLY.test(c.slug)) continue;
    const sub = join(dir, c.slug);
    mkdirSync(sub, { recursive: true });
    const g = await startGateway(c.up, c.driver, ['--cpu-prof', `--cpu-prof-dir=${sub}`]);
    const spec: LoadSpec = c.writes
      ? { connections: SETTINGS.connections, durationS: SETTINGS.durationS, url: g.url, headers: gwHeaders, mode: 'write-pairs', usersPath: '/v1/users' }
      : { connections: SETTINGS.connections, durationS: SETTINGS.durationS, url: `${g.url}/v1/users?limit=${PAGE}`, headers: gwHeaders };
    await runLoad({ ...spec, durationS: SETTINGS.warmupS || 1 });
    const fromUs = Number(process.hrtime.bigint() / 1000n);
    const result = await runLoad(spec);
    const toUs = Number(process.hrtime.bigint() / 1000n);
    await stop(g.child);
    const file = readdirSync(sub).find((f) => f.endsWith('.cpuprofile'));
    if (!file) throw new Error(`${g.name}: no .cpuprofile written`);
    // Only the measured run's samples (from the load generator's spawn to its result).
    const top = topSelfTime(join(sub, file), PROFILE_TOP, { fromUs, toUs });
    say(`\n${c.title}: ${result.rate} req/s under the profiler; busy ${top.busyMs} ms, GC ${top.gcMs} ms`);
    lines.push(`## ${c.title}`, '', `${result.rate} req/s under the profiler; busy ${top.busyMs} ms of which GC ${top.gcMs} ms.`, '');
    lines.push('| self % | self ms | function | where |', '| ---: | ---: | --- | --- |');
    for (const s of top.spots) {
      say(`  ${s.selfPct.toFixed(1).padStart(5)} %  ${s.function}  ${s.where}`);
      lines.push(`| ${s.selfPct.toFixed(1)} | ${s.selfMs} | \`${s.function}\` | ${s.where} |`);
    }
    lines.push('');
  }
  writeFileSync(join(ONLY ? OUT_DIR : BENCH_DIR, 'profile.md'), `${lines.join('\n')}\n`);
  say(`\nwrote ${ONLY ? 'bench/out' : 'bench'}/profile.md`);
}

function fmt(n: number | null | undefined, digits = 2): string {
  if (n === null || n === undefined || Number.isNaN(n)) return '—';
  return n.toFixed(digits);
}

function markdown(report: Report): string {
  const { settings, machine } = report;
  const lines: string[] = [
    '# Benchmark results',
    '',
    `Generated by \`npm run bench\` on ${report.generatedAt}: ${machine.cpus} CPU(s), Node ${machine.node}; ` +
      `${settings.connections} connections, ${settings.durationS} s per run, ${settings.rounds} rounds (medians), ` +
      `1-minute load average ${machine.load1AtStart} at the start. Every server and the load generator in its own process, on loopback.`,
    '',
    '## Scenarios',
    '',
    '| scenario | provider | users | what | req/s | p50 ms | p99 ms | server CPU µs/req | upstream CPU µs/req | RSS MiB (peak) | other load % |',
    '| --- | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const s of report.scenarios) {
    const m = s.median;
    const latency = s.kind === 'write'
      ? `${fmt(m.p50)} (pair ${fmt(m.pairP50)})` : fmt(m.p50, 3);
    const latency99 = s.kind === 'write' ? `${fmt(m.p99)} (pair ${fmt(m.pairP99)})` : fmt(m.p99, 3);
    lines.push(
      `| ${s.kind} | ${s.provider ?? '—'} | ${s.users ?? '—'} | ${s.target} | ${fmt(m.rate, 0)}${s.kind === 'write' ? ' pairs' : ''} | ` +
        `${latency} | ${latency99} | ${fmt(m.cpuUsPerReq, 0)} | ${fmt(m.upstreamCpuUsPerReq, 0)} | ${fmt(m.rssMiB, 0)} (${fmt(m.peakRssMiB, 0)}) | ${fmt(s.maxForeignCpuPct, 0)} |`,
    );
  }
  lines.push(
    '',
    '"server CPU" is the measured server\'s CPU time (utime + stime from `/proc/<pid>/stat`) over the run divided by its requests',
    '(pairs, for write): the gateway\'s for miss, hit, get and write; the emulator\'s own for upstream; the server\'s own for floor,',
    'ceiling and envelope. The envelope is the ceiling plus the gateway\'s own per-request checks, log line and metrics, without a cache.',
    '"other load" is the highest share, over the rounds, of the machine\'s CPU used by anything but the measured server, its emulator',
    'and the load generator: other processes on the machine, but also the bench\'s own orchestrator.',
    '',
    '## Ratios (median of the per-round ratios)',
    '',
    '| ratio | provider | users | value | per round |',
    '| --- | --- | ---: | ---: | --- |',
  );
  for (const r of report.ratios) {
    lines.push(`| ${r.name} | ${r.provider} | ${r.users} | ${fmt(r.value, r.unit === 'ms' ? 2 : 3)}${r.unit === 'x' ? ' ×' : ' ms'} | ${r.perRound.map((v) => fmt(v, r.unit === 'ms' ? 2 : 3)).join(', ')} |`);
  }
  const e = report.extras;
  lines.push(
    '',
    `## SFTP To Go at ${settings.bigUsers} users`,
    '',
    `- first list through a fresh gateway (cold process, memory cache empty): ${fmt(e.firstListColdMs, 1)} ms`,
    `- an uncached list (\`Cache-Control: no-cache\`: the whole list from the upstream, parsed, mapped, cached and paged), median of 10: ${fmt(e.uncachedListMs, 1)} ms, of which the upstream alone takes ${fmt(e.upstreamListMs, 1)} ms and the gateway adds ${fmt(e.gatewayShareMs, 1)} ms`,
    `- page of ${PAGE} from the memory cache at 1 connection: p50 ${fmt(e.pageOneConnection?.p50, 3)} ms, p99 ${fmt(e.pageOneConnection?.p99, 3)} ms (${fmt(e.pageOneConnection?.rate, 0)} req/s)`,
    '',
    '## Goals',
    '',
    '| goal | measured | met |',
    '| --- | --- | --- |',
  );
  for (const g of report.goals) lines.push(`| ${g.goal} | ${g.measured} | ${g.met ? 'yes' : '**no**'} |`);
  lines.push(
    '',
    '## Gateway memory',
    '',
    'RSS of each gateway process when ready (before any request: Node and the app) and its peak over the whole benchmark.',
    '',
    '| gateway | idle MiB | peak MiB |',
    '| --- | ---: | ---: |',
    ...report.gateways.map((g) => `| ${g.name} | ${fmt(g.idleRssMiB, 0)} | ${fmt(g.peakRssMiB, 0)} |`),
    '',
  );
  return lines.join('\n');
}

interface Report {
  generatedAt: string;
  machine: { cpus: number; node: string; load1AtStart: number; waitedForQuietS: number; load1AtEnd: number };
  settings: typeof SETTINGS & { only: string | null };
  scenarios: ScenarioSummary[];
  ratios: Ratio[];
  extras: Extras;
  goals: Goal[];
  /** Each gateway's RSS when ready (idle) and its peak over the benchmark. */
  gateways: Array<{ name: string; idleRssMiB: number; peakRssMiB: number }>;
  totalSeconds: number;
}

/**
 * The goals (issue 18), each a ratio within this run or a measurement against its bound: a cached
 * page against the ceiling (the same bytes from a bare server), an uncached page's CPU against
 * the pass-through (the same bytes made with nothing but undici, parse, map, stringify).
 */
function goals(summaries: ScenarioSummary[], rs: Ratio[], extras: Extras, gateways: Report['gateways']): Goal[] {
  const out: Goal[] = [];
  const bound = (name: string, limit: number, atLeast: boolean, goal: string) => {
    const found = rs.filter((r) => r.name === name && (r.users === SMALL || name === 'miss p99 / p50'));
    if (!found.length) return;
    out.push({
      goal,
      measured: found.map((r) => `${r.provider} ${r.users}: ${fmt(r.value, 3)} (rounds ${r.perRound.map((v) => fmt(v, 2)).join(', ')})`).join('; '),
      met: found.every((r) => (atLeast ? r.value >= limit : r.value <= limit)),
    });
  };
  bound('hit-memory / ceiling (req/s)', 0.8, true, 'cached page: hit-memory ≥ 0.80 × ceiling (req/s)');
  bound('hit-redis / ceiling (req/s)', 0.6, true, 'cached page: hit-redis ≥ 0.60 × ceiling (req/s)');
  // The limit of both: the envelope does only what every request must (no cache, one route).
  // Redis's: the envelope reading the page from Redis as the gateway's cache does (two round trips).
  const limitOf = (name: string) => rs.filter((r) => r.name === name).map((r) => `${r.provider} ${fmt(r.value, 3)}`).join('; ');
  for (const [prefix, name, what] of [
    ['cached page: hit-memory', 'envelope / ceiling (req/s)', 'the envelope alone (the checks every request must make, no cache)'],
    ['cached page: hit-redis', 'envelope-redis / ceiling (req/s)', 'the envelope reading the page from Redis (the generation, then the entry)'],
  ] as const) {
    const limit = limitOf(name);
    const g = out.find((x) => x.goal.startsWith(prefix));
    if (g && limit) g.measured += `; the limit, ${what}: ${limit} × ceiling`;
  }
  // What each step of the envelope costs: its server's CPU per request less the bare pipeline's.
  const cpu = (id: string) => summaries.find((x) => x.id === id)?.median.cpuUsPerReq;
  for (const provider of PROVIDERS) {
    const base = cpu(`step-none-${provider}`);
    const ceiling = cpu(`ceiling-${provider}`);
    if (base === undefined || ceiling === undefined) continue;
    const parts = ENVELOPE_STEPS.filter((s) => s !== 'none')
      .map((s) => [s, cpu(`step-${s}-${provider}`)] as const)
      .filter((p): p is readonly [string, number] => p[1] !== undefined)
      .map(([s, us]) => `${s} ${fmt(us - base, 0)}`);
    out.push({
      goal: `the limit of a cached page, ${provider}: CPU µs a request of each envelope step (informational)`,
      measured: `ceiling ${fmt(ceiling, 0)}; request id and pipeline +${fmt(base - ceiling, 0)}; then ${parts.join(', ')}; the whole envelope ${fmt(cpu(`envelope-${provider}`), 0)}`,
      met: true,
    });
  }
  bound('miss / passthrough (CPU µs per request)', 1.2, false, 'uncached page: gateway CPU per request ≤ 1.2 × pass-through');
  const checkedLimit = limitOf('checked-passthrough / passthrough (CPU µs per request)');
  const missGoal = out.find((x) => x.goal.startsWith('uncached page: gateway CPU'));
  if (missGoal && checkedLimit) {
    missGoal.measured += `; the limit, the pass-through inside the envelope (the same checks, nothing else): ${checkedLimit} × pass-through`;
  }
  const misses = summaries.filter((s) => s.kind === 'miss');
  const p99 = rs.filter((r) => r.name === 'miss p99 / p50');
  if (p99.length) {
    out.push({
      goal: 'uncached page: warm p99 ≤ 3 × p50',
      measured: p99.map((r) => {
        const m = misses.find((s) => s.provider === r.provider && s.users === r.users)?.median;
        return `${r.provider} ${r.users}: ${fmt(r.value, 2)} (p50 ${fmt(m?.p50, 2)}, p99 ${fmt(m?.p99, 2)} ms)`;
      }).join('; '),
      met: p99.every((r) => r.value <= 3),
    });
  }
  if (extras.pageOneConnection) {
    out.push({
      goal: `${SETTINGS.bigUsers} SFTP To Go users: page ${PAGE} ≤ 2 ms p50 (one connection)`,
      measured: `${fmt(extras.pageOneConnection.p50, 3)} ms (p99 ${fmt(extras.pageOneConnection.p99, 3)} ms)`,
      met: extras.pageOneConnection.p50 <= 2,
    });
  }
  if (extras.gatewayShareMs !== undefined && extras.upstreamListMs !== undefined) {
    out.push({
      goal: `${SETTINGS.bigUsers} SFTP To Go users: the gateway's share of an uncached list ≤ 1.0 × the upstream's own time`,
      measured: `${fmt(extras.gatewayShareMs, 1)} ms against ${fmt(extras.upstreamListMs, 1)} ms: ` +
        `${fmt(extras.gatewayShareMs / extras.upstreamListMs, 2)} × (warm process, median of 10; a cold process's first list: ${fmt(extras.firstListColdMs, 1)} ms)` +
        (extras.passthroughShareMs === undefined ? '' : `; the limit, the pass-through's share (parse, sort, one page mapped, nothing kept): ${
          fmt(extras.passthroughShareMs, 1)} ms, ${fmt(extras.passthroughShareMs / extras.upstreamListMs, 2)} ×`),
      met: extras.gatewayShareMs <= extras.upstreamListMs,
    });
  }
  // The peak over the whole benchmark (VmHWM): the rounds, and for SFTP To Go the uncached loads after them.
  const big = gateways.filter((g) => g.name.startsWith(`gw-sftptogo-${SETTINGS.bigUsers}-`));
  const bigThrough = summaries.find((x) => x.id === `passthrough-sftptogo-${SETTINGS.bigUsers}`);
  if (big.length) {
    out.push({
      goal: `${SETTINGS.bigUsers} SFTP To Go users: gateway RSS < 150 MiB with the default settings`,
      measured: big.map((g) => `${g.name.replace(/^gw-/, '')}: peak ${fmt(g.peakRssMiB, 0)} MiB (idle ${fmt(g.idleRssMiB, 0)})`).join('; ') +
        (bigThrough ? `; the limit, the pass-through loading the same list per request (nothing kept, default V8 settings): peak ${
          fmt(bigThrough.median.peakRssMiB, 0)} MiB` : ''),
      met: big.every((g) => g.peakRssMiB < 150),
    });
  }
  const logged = summaries.filter((s) => s.rounds.some((r) => r.logLines !== undefined));
  if (logged.length) {
    out.push({
      goal: 'no check dropped: every gateway request authenticated, validated, logged and counted',
      measured: `${logged.length} scenarios with a log line per request (a run with fewer stops the bench); auth on (401 checked on the envelope)`,
      met: true,
    });
  }
  return out;
}

async function main(): Promise<void> {
  const startedAt = Date.now();
  mkdirSync(join(OUT_DIR, 'logs'), { recursive: true });
  say(`sftp-gateway bench: ${SETTINGS.connections} connections, ${SETTINGS.durationS} s, ${SETTINGS.rounds} rounds${ONLY ? `, only /${ONLY.source}/` : ''}${PROFILE ? ', PROFILE' : ''}`);
  const quiet = await waitForQuietMachine();
  say(`  load average ${quiet.load1.toFixed(2)}${quiet.waitedS ? ` after waiting ${quiet.waitedS} s` : ''}`);

  say('building bench/out/dist…');
  await buildBench();
  say('starting servers…');
  const floor = await startServer('floor', ['floor']);
  const ups: Upstream[] = [];
  for (const users of [SMALL, SETTINGS.bigUsers]) for (const p of PROVIDERS) ups.push(await startUpstream(p, users));

  if (PROFILE) {
    await profileRun(ups);
    return;
  }

  // The cold first list, before anything else touches that upstream through a gateway.
  const bigStg = ups.find((u) => u.provider === 'sftptogo' && u.users === SETTINGS.bigUsers)!;
  const extras: Extras = {};
  const wantBig = !ONLY || ONLY.test(`hit-memory-sftptogo-${SETTINGS.bigUsers}`);
  if (wantBig) {
    const cold = await coldList(bigStg);
    extras.firstListColdMs = cold.cold;
    await stop(cold.gateway.child);
  }

  const gws: Gateway[] = [];
  for (const up of ups) for (const d of ['none', 'memory', 'redis'] as const) gws.push(await startGateway(up, d));
  const bare = await startBareServers(gws, ups);
  const scenarios = buildScenarios(floor, bare, ups, gws);
  say(`${gws.length} gateways, ${ups.length} emulators, the floor; ${scenarios.length} scenarios × ${SETTINGS.rounds} rounds`);

  const results = new Map<string, RoundResult[]>(scenarios.map((s) => [s.id, []]));
  for (let round = 1; round <= SETTINGS.rounds; round++) {
    say(`round ${round}/${SETTINGS.rounds}`);
    for (const s of scenarios) {
      if (round === 1 && SETTINGS.warmupS > 0) {
        await s.check();
        await runLoad({ ...s.spec, durationS: SETTINGS.warmupS });
      }
      const r = await measure(s, round);
      results.get(s.id)!.push(r);
      say(
        `  ${s.id.padEnd(28)} ${fmt(r.rate, 0).padStart(7)} ${s.kind === 'write' ? 'pairs' : 'req'}/s  p50 ${fmt(r.p50, 3).padStart(8)}  ` +
          `p99 ${fmt(r.p99, 3).padStart(8)} ms  cpu ${fmt(r.cpuUsPerReq, 0).padStart(5)} µs/req  rss ${fmt(r.rssMiB, 0)} MiB  other ${fmt(r.foreignCpuPct, 0)} %`,
      );
    }
  }

  if (wantBig) {
    const g = gws.find((x) => x.provider === 'sftptogo' && x.users === SETTINGS.bigUsers && x.driver === 'memory')!;
    const listUrl = `${g.url}/v1/users?limit=${PAGE}`;
    const through = bare.find((b) => b.kind === 'passthrough' && b.users === SETTINGS.bigUsers);
    const uncached: number[] = [];
    const upstream: number[] = [];
    const passthrough: number[] = [];
    for (let i = 0; i < 10; i++) {
      uncached.push(await timed(listUrl, { ...gwHeaders, 'cache-control': 'no-cache' }));
      upstream.push(await timed(bigStg.listUrl, bigStg.headers));
      if (through) passthrough.push(await timed(`${through.url}/v1/users?limit=${PAGE}`, {}));
    }
    extras.uncachedListMs = round1(median(uncached));
    extras.upstreamListMs = round1(median(upstream));
    extras.gatewayShareMs = round1(median(uncached.map((ms, i) => ms - upstream[i]!)));
    if (passthrough.length) extras.passthroughShareMs = round1(median(passthrough.map((ms, i) => ms - upstream[i]!)));
    await expectList(listUrl, gwHeaders, 'HIT', PAGE);
    const one = await runLoad({ url: listUrl, headers: gwHeaders, connections: 1, durationS: Math.max(2, SETTINGS.durationS / 2) });
    extras.pageOneConnection = { p50: one.p50, p99: one.p99, rate: one.rate };
  }

  const summaries = scenarios.map((s) => summarize(s, results.get(s.id)!));
  const rs = ratios(summaries);
  const gatewayMemory = gws.map((g) => ({ name: g.name, idleRssMiB: g.idleRssMiB, peakRssMiB: memoryMiB(g.child.pid).peak }));
  const report: Report = {
    generatedAt: new Date().toISOString(),
    machine: { cpus: cpus().length, node: process.version, load1AtStart: quiet.load1, waitedForQuietS: quiet.waitedS, load1AtEnd: loadAverage() },
    settings: { ...SETTINGS, only: ONLY?.source ?? null },
    scenarios: summaries,
    ratios: rs,
    extras,
    goals: goals(summaries, rs, extras, gatewayMemory),
    gateways: gatewayMemory,
    totalSeconds: Math.round((Date.now() - startedAt) / 1000),
  };
  const md = markdown(report);
  // A partial run (BENCH_ONLY) must not overwrite the committed results.
  const dest = ONLY ? OUT_DIR : BENCH_DIR;
  writeFileSync(join(dest, 'results.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(dest, 'results.md'), md);
  say(`\n${md}`);
  say(`wrote ${join(dest, 'results.json').slice(ROOT.length + 1)} and results.md in ${report.totalSeconds} s`);
}

/**
 * `--render`: rewrites bench/results.md from bench/results.json, the goals recomputed from the
 * measurements kept there (e.g. after a change of this file's tables or goals).
 */
function render(): void {
  const report = JSON.parse(readFileSync(join(BENCH_DIR, 'results.json'), 'utf8')) as Report;
  report.goals = goals(report.scenarios, report.ratios, report.extras, report.gateways);
  writeFileSync(join(BENCH_DIR, 'results.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(BENCH_DIR, 'results.md'), markdown(report));
  say('wrote bench/results.md from bench/results.json');
}

if (process.argv.includes('--render')) {
  render();
  process.exit(0);
}

try {
  await main();
} finally {
  await stopAll();
  await clearRedisKeys().catch((err: unknown) => say(`could not clear the bench's Redis keys: ${String(err)}`));
}
