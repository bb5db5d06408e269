/**
 * `npx tsx bench/growth.ts`: how the gateway's cost grows with the number of users, one size at a
 * time, each with a fresh emulator and a fresh gateway (src/node/main.ts bundled as bench/run.ts
 * bundles it, auth on, logging at "info" to bench/out/logs, default Node options). Prints a
 * markdown table per provider and writes bench/out/growth.json (and growth.md).
 *
 * SFTP To Go (no paging upstream: a miss loads the whole list, the gateway pages it), memory cache:
 * - the very first `GET /v1/users?limit=100` of the process, against the list straight from the
 *   emulator (median of 5, after one unmeasured): what the gateway adds to a cold load;
 * - meanwhile `GET /healthz` every GROWTH_PING_MS on a connection of its own, and the gateway's
 *   own event-loop delay (prom-client's, from /metrics, read just before and just after): whether
 *   other requests are answered while it loads. The window runs on for GROWTH_TAIL_MS after the
 *   answer, because the whole list is written to the cache only once the answer is out (which may
 *   be before this process has read it: that write's stall can fall on either side);
 * - ten uncached loads (`Cache-Control: no-cache`, the caller's refresh), each followed by a
 *   /healthz round trip (so that its deferred cache write is not timed in the next load) and by
 *   the list straight from the emulator again, which the gateway's warm share is taken against;
 * - a few pages further on through nextCursor (each a page miss of a cached list: the page is cut
 *   from the whole list the cache keeps), then that page as a hit at one connection (autocannon
 *   via bench/load.ts, after a warm-up); then the gateway's RSS and its peak (VmHWM).
 *
 * SFTPGo (API v1 pages by offset, 500 at most, and cannot filter by status), no cache: every
 * GROWTH_DISABLED_EVERY-th user is disabled through the gateway's own PATCH, then the
 * status-filtered list (a scan of upstream pages) and the plain list, 10 sequential requests each,
 * and the upstream calls per request from the gateway's `sftp_gateway_upstream_request_duration_seconds`.
 *
 * Environment: GROWTH_TOGO ("1000,10000,50000") and GROWTH_SFTPGO ("100,1000,10000"): the sizes,
 * empty to skip a provider; GROWTH_WARMUP_S (3), GROWTH_DURATION_S (5), GROWTH_PING_MS (5, 0 for
 * none), GROWTH_TAIL_MS (1000), GROWTH_PAGE_HOPS (3), GROWTH_DISABLED_EVERY (50), GROWTH_GATEWAY_NODE_ARGS (node
 * options for the gateways). Needs no Redis.
 * Loopback only; every child is stopped on the way out.
 */
import { closeSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { Agent, get as httpGet } from 'node:http';
import { cpus } from 'node:os';
import { join } from 'node:path';
import {
  ROOT, buildBench, cpuMs, envNumber, firstJsonLine, freePort, loadAverage, median, memoryMiB, spawnEntry, stop, stopAll, type Child,
} from './procs.js';
import { BENCH_GATEWAY_KEY, BENCH_ORG, BENCH_SFTPTOGO_KEY, type LoadResult, type LoadSpec } from './shared.js';

// ---- settings ------------------------------------------------------------------------------


/** A comma-separated list of sizes; set but empty skips the provider. */
function envSizes(name: string, fallback: number[]): number[] {
  const text = process.env[name];
  if (text === undefined) return fallback;
  return text.split(',').map((s) => s.trim()).filter(Boolean).map((s) => {
    const n = Number(s);
    if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${name}: "${s}" is not a positive whole number`);
    return n;
  });
}

const SETTINGS = {
  togo: envSizes('GROWTH_TOGO', [1000, 10_000, 50_000]),
  sftpgo: envSizes('GROWTH_SFTPGO', [100, 1000, 10_000]),
  warmupS: envNumber('GROWTH_WARMUP_S', 3),
  durationS: envNumber('GROWTH_DURATION_S', 5),
  pingMs: envNumber('GROWTH_PING_MS', 5),
  tailMs: envNumber('GROWTH_TAIL_MS', 1000),
  pageHops: envNumber('GROWTH_PAGE_HOPS', 3),
  disabledEvery: Math.max(1, envNumber('GROWTH_DISABLED_EVERY', 50)),
  /** Node/V8 options for the gateway processes, as BENCH_GATEWAY_NODE_ARGS for the bench. */
  gatewayNodeArgs: (process.env.GROWTH_GATEWAY_NODE_ARGS ?? '').split(/\s+/).filter(Boolean),
};

const OUT_DIR = join(ROOT, 'bench', 'out'); // git-ignored
const RUN_ID = `${Date.now().toString(36)}-${process.pid}`;
const PAGE = 100;
/** Sequential requests per measured SFTPGo list, and SFTP To Go uncached loads. */
const REPEATS = 10;
const UPSTREAM_REPEATS = 5;

type Provider = 'sftpgo' | 'sftptogo';
type Driver = 'none' | 'memory';

const say = (line: string) => process.stdout.write(`${line}\n`);
const round1 = (n: number) => Math.round(n * 10) / 10;
const round3 = (n: number) => Math.round(n * 1000) / 1000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const gwHeaders = { authorization: `Bearer ${BENCH_GATEWAY_KEY}` };

// ---- processes -----------------------------------------------------------------------------

async function startServer(name: string, args: string[]): Promise<{ child: Child; url: string }> {
  const child = spawnEntry(name, 'servers', args);
  const { url } = await firstJsonLine<{ url: string }>(child, 120_000);
  return { child, url };
}

interface Gateway {
  name: string;
  child: Child;
  url: string;
  /** RSS once ready, before any request. */
  idleRssMiB: number;
}

/** As bench/run.ts configures its gateways: one backend, auth on, a TTL no measurement outlasts. */
function gatewayConfig(provider: Provider, upstreamUrl: string, driver: Driver, port: number, name: string): unknown {
  const backend = provider === 'sftpgo'
    ? { provider: 'sftpgo', baseUrl: upstreamUrl, sftpHost: 'sftp.example.com' }
    : { provider: 'sftptogo', baseUrl: upstreamUrl, organizationId: BENCH_ORG, apiKey: BENCH_SFTPTOGO_KEY };
  return {
    server: { host: '127.0.0.1', port, shutdownGraceMs: 5000 },
    auth: { apiKeys: [{ name: 'bench', key: BENCH_GATEWAY_KEY, scopes: ['read', 'write'] }] },
    cache: { driver, ttlSeconds: 3600, keyPrefix: `sftp-gateway-growth:${RUN_ID}:${name}:` },
    logLevel: 'info',
    backends: { bench: backend },
  };
}

async function startGateway(provider: Provider, users: number, driver: Driver, upstreamUrl: string): Promise<Gateway> {
  const name = `gw-growth-${provider}-${users}-${driver}`;
  const port = await freePort();
  const configFile = join(OUT_DIR, `${name}.json`);
  writeFileSync(configFile, JSON.stringify(gatewayConfig(provider, upstreamUrl, driver, port, name), null, 2));
  const fd = openSync(join(OUT_DIR, 'logs', `${name}.log`), 'w');
  const child = spawnEntry(name, 'node', [], {
    env: { GATEWAY_CONFIG: configFile, LOG_LEVEL: 'info', PORT: '', HOST: '' }, stdout: fd, nodeArgs: SETTINGS.gatewayNodeArgs,
  });
  closeSync(fd);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.proc.exitCode !== null) throw new Error(`${name} exited (${child.proc.exitCode})\n${child.stderr()}`);
    if (await fetch(`${url}/healthz`).then((r) => r.ok, () => false)) break;
    if (Date.now() > deadline) throw new Error(`${name} did not answer /healthz within 60 s\n${child.stderr()}`);
    await sleep(100);
  }
  return { name, child, url, idleRssMiB: memoryMiB(child.pid).rss };
}

async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const child = spawnEntry('load', 'load', [JSON.stringify(spec)]);
  const result = await firstJsonLine<LoadResult>(child, (spec.durationS + 120) * 1000);
  if (result.errors || result.timeouts || result.non2xx) {
    throw new Error(`load on ${spec.url}: ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx (${JSON.stringify(result.statusCodes)})`);
  }
  return result;
}

// ---- requests ------------------------------------------------------------------------------

interface Timed {
  ms: number;
  status: number;
  cache: string | undefined;
  bytes: number;
}

/**
 * One GET, timed to its last byte, the body counted and dropped: node:http, as bench/run.ts times
 * the SFTP To Go list (fetch's web streams are slower than the emulator at reading tens of MB).
 */
function timed(url: string, headers: Record<string, string>, agent: Agent | false = false): Promise<Timed> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    httpGet(url, { headers, agent }, (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
      }).on('end', () => {
        const cache = res.headers['x-cache'];
        resolve({ ms: performance.now() - started, status: res.statusCode ?? 0, cache: typeof cache === 'string' ? cache : undefined, bytes });
      }).on('error', reject);
    }).on('error', reject);
  });
}

async function timedOk(url: string, headers: Record<string, string>, cache?: string): Promise<Timed> {
  const t = await timed(url, headers);
  if (t.status !== 200) throw new Error(`${url}: ${t.status}`);
  if (cache !== undefined && t.cache !== cache) throw new Error(`${url}: X-Cache ${t.cache}, expected ${cache}`);
  return t;
}

async function getJson<T>(url: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(url, { ...init, headers: { ...gwHeaders, ...(init.headers as Record<string, string> | undefined) } });
  const text = await res.text();
  if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${url}: ${res.status} ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

interface UserPage {
  data: Array<{ id: string; username: string; status: string }>;
  nextCursor: string | null;
}

/** `/metrics` as text. Reading it also resets prom-client's event-loop delay histogram. */
async function scrape(gatewayUrl: string): Promise<string> {
  const res = await fetch(`${gatewayUrl}/metrics`);
  const text = await res.text();
  if (!res.ok) throw new Error(`/metrics: ${res.status} ${text.slice(0, 200)}`);
  return text;
}

/** Every sample of a metric, whatever its labels. */
function samples(text: string, name: string): number[] {
  return [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))].map((m) => Number(m[1]));
}

const upstreamCalls = (text: string) => samples(text, 'sftp_gateway_upstream_request_duration_seconds_count').reduce((a, b) => a + b, 0);

/** The event-loop delay since the previous scrape (prom-client's monitorEventLoopDelay), in ms. */
function eventLoopLag(text: string): { p50: number; p99: number; max: number } {
  const ms = (name: string) => round3((samples(text, `nodejs_eventloop_lag_${name}_seconds`)[0] ?? NaN) * 1000);
  return { p50: ms('p50'), p99: ms('p99'), max: ms('max') };
}

type Lag = ReturnType<typeof eventLoopLag>;

interface Spread {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

function spread(values: number[]): Spread {
  const xs = [...values].sort((a, b) => a - b);
  const at = (p: number) => round3(xs[Math.min(xs.length - 1, Math.max(0, Math.ceil((p / 100) * xs.length) - 1))] ?? NaN);
  return { count: xs.length, p50: at(50), p99: at(99), max: round3(xs[xs.length - 1] ?? NaN) };
}

interface Ping {
  /** When it was sent (performance.now()). */
  at: number;
  ms: number;
}

/**
 * GET /healthz on a keep-alive connection of its own, one at a time, one every `everyMs` (or as
 * soon as the previous answers, when that took longer): a stalled gateway shows as slow answers.
 */
function startPinger(url: string, everyMs: number): { stop: () => Promise<Ping[]> } {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const pings: Ping[] = [];
  let running = true;
  let failure: unknown;
  const loop = (async () => {
    while (running) {
      const at = performance.now();
      const t = await timed(url, {}, agent);
      if (t.status !== 200) throw new Error(`${url}: ${t.status}`);
      pings.push({ at, ms: t.ms });
      const rest = everyMs - (performance.now() - at);
      if (rest > 0) await sleep(rest);
    }
  })().catch((err: unknown) => {
    failure = err;
  });
  return {
    stop: async () => {
      running = false;
      await loop;
      agent.destroy();
      if (failure) throw failure;
      return pings;
    },
  };
}

// ---- SFTP To Go ----------------------------------------------------------------------------

interface TogoRow {
  users: number;
  /** The emulator's whole list, bytes. */
  upstreamBytes: number;
  /** The very first list of a fresh gateway process (memory cache, empty). */
  firstListMs: number;
  /** The whole list straight from the emulator: median of 5. */
  upstreamMs: number;
  gatewayShareMs: number;
  /** Uncached loads (`Cache-Control: no-cache`) of a warm process: median of 10. */
  warmUncachedMs: number;
  /** The upstream alone, timed after each of those loads: median of 10. */
  upstreamWarmMs: number;
  /** warmUncachedMs − upstreamWarmMs. */
  warmUncachedShareMs: number;
  /** The gateway's CPU time per warm uncached load (its deferred cache write included). */
  warmUncachedCpuMs: number;
  /** What the first load did to other requests: /healthz before it, until its answer, and just after. */
  healthz: { idle: Spread; duringLoad: Spread; afterAnswer: Spread } | null;
  /**
   * prom-client's event-loop delay (it samples every 10 ms, so an idle loop reads about 10): half a
   * second of the idle process, the first load's window, and the warm uncached loads.
   */
  eventLoopLagMs: { idle: Lag; firstLoad: Lag; warmLoads: Lag };
  /** A new page of the cached list (the page missing, the list a hit), each hop through nextCursor. */
  pageMissMs: number[];
  /** The offset of the page measured at one connection. */
  pageOffset: number;
  page: { p50: number; p99: number; rate: number; requests: number };
  idleRssMiB: number;
  rssMiB: number;
  peakRssMiB: number;
}

async function measureTogo(users: number): Promise<TogoRow> {
  say(`sftptogo ${users}: starting the emulator…`);
  const up = await startServer(`sftptogo-${users}`, ['sftptogo', String(users)]);
  let gw: Gateway | undefined;
  try {
    const upHeaders = { authorization: `Bearer ${BENCH_SFTPTOGO_KEY}` };
    const upUrl = `${up.url}/organizations/${BENCH_ORG}/users`;
    // One unmeasured, as bench/run.ts reads the list once on start: the emulator's own first call is not the gateway's.
    const upstreamBytes = (await timedOk(upUrl, upHeaders)).bytes;
    const upstream: number[] = [];
    for (let i = 0; i < UPSTREAM_REPEATS; i++) upstream.push((await timedOk(upUrl, upHeaders)).ms);
    const upstreamMs = median(upstream);

    gw = await startGateway('sftptogo', users, 'memory', up.url);
    const listUrl = `${gw.url}/v1/users?limit=${PAGE}`;

    // The first load, with /healthz pinged beside it and the event-loop delay read around it.
    await scrape(gw.url);
    await sleep(500);
    const idleLag = eventLoopLag(await scrape(gw.url));
    const pinger = SETTINGS.pingMs > 0 ? startPinger(`${gw.url}/healthz`, SETTINGS.pingMs) : undefined;
    if (pinger) await sleep(100); // its connection open, and a few pings of the idle process
    const loadStart = performance.now();
    const first = await timedOk(listUrl, gwHeaders, 'MISS');
    const loadEnd = performance.now();
    await sleep(SETTINGS.tailMs);
    const pings = pinger ? await pinger.stop() : [];
    const firstLag = eventLoopLag(await scrape(gw.url));
    const healthz = pinger ? {
      idle: spread(pings.filter((p) => p.at < loadStart).map((p) => p.ms)),
      duringLoad: spread(pings.filter((p) => p.at >= loadStart && p.at < loadEnd).map((p) => p.ms)),
      afterAnswer: spread(pings.filter((p) => p.at >= loadEnd).map((p) => p.ms)),
    } : null;
    say(`  first list ${round1(first.ms)} ms (upstream ${round1(upstreamMs)} ms, ${(upstreamBytes / 1048576).toFixed(1)} MiB); ` +
      `event loop max ${firstLag.max} ms${healthz ? `, /healthz max ${healthz.duringLoad.max} ms during, ${healthz.afterAnswer.max} ms after` : ''}`);

    // Warm uncached loads: the caller's refresh reads the upstream and stores the list again.
    await scrape(gw.url);
    // The upstream alone again in between: by now the emulator is warmer than when first timed.
    let cpu = 0;
    const uncached: number[] = [];
    const upstreamBeside: number[] = [];
    for (let i = 0; i < REPEATS; i++) {
      const cpu0 = cpuMs(gw.child.pid);
      uncached.push((await timedOk(listUrl, { ...gwHeaders, 'cache-control': 'no-cache' })).ms);
      await timedOk(`${gw.url}/healthz`, {}); // answered once the deferred cache write has run
      cpu += cpuMs(gw.child.pid) - cpu0;
      upstreamBeside.push((await timedOk(upUrl, upHeaders)).ms);
    }
    const warmUncachedCpuMs = cpu / REPEATS;
    const warmLag = eventLoopLag(await scrape(gw.url));
    const warmUncachedMs = median(uncached);
    const upstreamWarmMs = median(upstreamBeside);
    say(`  warm uncached ${round1(warmUncachedMs)} ms (median of ${REPEATS}; upstream alone ${round1(upstreamWarmMs)} ms), gateway CPU ${round1(warmUncachedCpuMs)} ms per load, event loop max ${warmLag.max} ms`);

    // A page further on: each hop is a page not yet stored, cut from the stored list.
    let pageUrl = listUrl;
    let pageOffset = 0;
    const pageMissMs: number[] = [];
    for (let hop = 0; hop < SETTINGS.pageHops; hop++) {
      const { nextCursor } = await getJson<UserPage>(pageUrl);
      if (!nextCursor) break;
      const next = `${listUrl}&cursor=${encodeURIComponent(nextCursor)}`;
      pageMissMs.push(round1((await timedOk(next, gwHeaders, 'MISS')).ms));
      pageUrl = next;
      pageOffset += PAGE;
    }
    const page = await getJson<UserPage>(pageUrl);
    if (page.data.length !== Math.min(PAGE, users - pageOffset)) throw new Error(`page at ${pageOffset}: ${page.data.length} users`);
    await timedOk(pageUrl, gwHeaders, 'HIT');
    if (SETTINGS.warmupS > 0) await runLoad({ url: pageUrl, headers: gwHeaders, connections: 1, durationS: SETTINGS.warmupS });
    const one = await runLoad({ url: pageUrl, headers: gwHeaders, connections: 1, durationS: SETTINGS.durationS });
    const mem = memoryMiB(gw.child.pid);
    say(`  page at offset ${pageOffset}: p50 ${one.p50} ms, p99 ${one.p99} ms (${one.rate} req/s); page misses ${pageMissMs.join(', ')} ms; RSS ${mem.rss} MiB (peak ${mem.peak})`);
    return {
      users, upstreamBytes,
      firstListMs: round1(first.ms), upstreamMs: round1(upstreamMs), gatewayShareMs: round1(first.ms - upstreamMs),
      warmUncachedMs: round1(warmUncachedMs), upstreamWarmMs: round1(upstreamWarmMs), warmUncachedShareMs: round1(warmUncachedMs - upstreamWarmMs), warmUncachedCpuMs: round1(warmUncachedCpuMs),
      healthz, eventLoopLagMs: { idle: idleLag, firstLoad: firstLag, warmLoads: warmLag },
      pageMissMs, pageOffset, page: { p50: one.p50, p99: one.p99, rate: one.rate, requests: one.requests },
      idleRssMiB: gw.idleRssMiB, rssMiB: mem.rss, peakRssMiB: mem.peak,
    };
  } finally {
    if (gw) await stop(gw.child);
    await stop(up.child);
  }
}

// ---- SFTPGo --------------------------------------------------------------------------------

interface SftpgoRow {
  users: number;
  disabled: number;
  /** `status=disabled`, cache none: median of 10 sequential requests. */
  filteredP50Ms: number;
  filteredUpstreamCalls: number;
  /** Users in that page, and whether it said another follows. */
  filteredPageUsers: number;
  filteredHasNext: boolean;
  unfilteredP50Ms: number;
  unfilteredUpstreamCalls: number;
  /** One upstream page of 500 straight from the emulator: median of 5. */
  upstreamPage500Ms: number;
}

/** `REPEATS` sequential GETs: their median and the upstream calls the gateway made per request. */
async function sequential(gw: Gateway, url: string): Promise<{ p50: number; calls: number }> {
  for (let i = 0; i < 3; i++) await timedOk(url, gwHeaders, 'BYPASS'); // not measured
  const before = upstreamCalls(await scrape(gw.url));
  const ms: number[] = [];
  for (let i = 0; i < REPEATS; i++) ms.push((await timedOk(url, gwHeaders, 'BYPASS')).ms);
  const after = upstreamCalls(await scrape(gw.url));
  return { p50: round3(median(ms)), calls: round1((after - before) / REPEATS) };
}

async function measureSftpgo(users: number): Promise<SftpgoRow> {
  say(`sftpgo ${users}: starting the emulator…`);
  const up = await startServer(`sftpgo-${users}`, ['sftpgo', String(users)]);
  let gw: Gateway | undefined;
  try {
    gw = await startGateway('sftpgo', users, 'none', up.url);
    // The emulator seeds every user active: every Nth (by username) is disabled through the gateway.
    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const page: UserPage = await getJson<UserPage>(`${gw.url}/v1/users?limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      ids.push(...page.data.map((u) => u.id));
      cursor = page.nextCursor;
    } while (cursor);
    if (ids.length !== users) throw new Error(`sftpgo ${users}: the gateway listed ${ids.length} users`);
    const chosen = ids.filter((_, i) => (i + 1) % SETTINGS.disabledEvery === 0);
    for (let i = 0; i < chosen.length; i += 8) {
      await Promise.all(chosen.slice(i, i + 8).map((id) => getJson<unknown>(`${gw!.url}/v1/users/${encodeURIComponent(id)}`, {
        method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ status: 'disabled' }),
      })));
    }
    const filteredUrl = `${gw.url}/v1/users?limit=${PAGE}&status=disabled`;
    const filteredPage = await getJson<UserPage>(filteredUrl);
    if (filteredPage.data.some((u) => u.status !== 'disabled')) throw new Error(`sftpgo ${users}: an active user in the disabled list`);
    if (filteredPage.data.length !== Math.min(PAGE, chosen.length) && users <= 10_000) {
      throw new Error(`sftpgo ${users}: ${filteredPage.data.length} disabled users listed of ${chosen.length}`);
    }

    const filtered = await sequential(gw, filteredUrl);
    const plain = await sequential(gw, `${gw.url}/v1/users?limit=${PAGE}`);
    const upstream: number[] = [];
    const upUrl = `${up.url}/api/v1/user?limit=500&offset=0&order=ASC`;
    await timedOk(upUrl, {});
    for (let i = 0; i < UPSTREAM_REPEATS; i++) upstream.push((await timedOk(upUrl, {})).ms);
    say(`  ${chosen.length} disabled; status-filtered p50 ${filtered.p50} ms, ${filtered.calls} upstream calls; unfiltered p50 ${plain.p50} ms, ${plain.calls} calls`);
    return {
      users, disabled: chosen.length,
      filteredP50Ms: filtered.p50, filteredUpstreamCalls: filtered.calls,
      filteredPageUsers: filteredPage.data.length, filteredHasNext: filteredPage.nextCursor !== null,
      unfilteredP50Ms: plain.p50, unfilteredUpstreamCalls: plain.calls,
      upstreamPage500Ms: round3(median(upstream)),
    };
  } finally {
    if (gw) await stop(gw.child);
    await stop(up.child);
  }
}

// ---- report --------------------------------------------------------------------------------

function fmt(n: number | null | undefined, digits = 1): string {
  if (n === null || n === undefined || Number.isNaN(n)) return '—';
  return n.toFixed(digits);
}

interface Report {
  generatedAt: string;
  machine: { cpus: number; node: string; load1AtStart: number; load1AtEnd: number };
  settings: typeof SETTINGS;
  sftptogo: TogoRow[];
  sftpgo: SftpgoRow[];
  totalSeconds: number;
}

function markdown(r: Report): string {
  const lines = [
    '# How cost grows with users',
    '',
    `Generated by \`npx tsx bench/growth.ts\` on ${r.generatedAt}: ${r.machine.cpus} CPU(s), Node ${r.machine.node}, ` +
      `1-minute load average ${r.machine.load1AtStart} at the start. A fresh emulator and gateway per size, each in its own process, on loopback.`,
  ];
  if (r.sftptogo.length) {
    lines.push(
      '',
      '## SFTP To Go (whole list loaded on a miss; memory cache)',
      '',
      '| users | first list ms | upstream ms | gateway share ms | warm uncached share ms | page p50/p99 ms | RSS MiB (peak) |',
      '| ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...r.sftptogo.map((t) =>
        `| ${t.users} | ${fmt(t.firstListMs)} | ${fmt(t.upstreamMs)} | ${fmt(t.gatewayShareMs)} | ${fmt(t.warmUncachedShareMs)} | ` +
        `${fmt(t.page.p50, 3)} / ${fmt(t.page.p99, 3)} | ${fmt(t.rssMiB, 0)} (${fmt(t.peakRssMiB, 0)}) |`),
      '',
      'Other requests during the first load (`GET /healthz` every ' + `${r.settings.pingMs} ms on its own connection, split at the moment the list's answer was read; ` +
        `the window runs ${r.settings.tailMs} ms past it, as the whole list is written to the cache once the answer is out) and the gateway's own event-loop delay (prom-client, /metrics):`,
      '',
      '| users | upstream MiB | /healthz idle p50 ms | until the answer p50 / p99 / max ms | after it p50 / p99 / max ms | event loop max ms: idle / first load / warm loads | warm load CPU ms | new page of the cached list ms |',
      '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...r.sftptogo.map((t) => {
        const h = t.healthz;
        const s = (x: Spread | undefined) => (x && x.count ? `${fmt(x.p50, 2)} / ${fmt(x.p99, 2)} / ${fmt(x.max, 2)} (${x.count})` : '—');
        return `| ${t.users} | ${fmt(t.upstreamBytes / 1048576)} | ${fmt(h?.idle.p50, 2)} | ${s(h?.duringLoad)} | ${s(h?.afterAnswer)} | ` +
          `${fmt(t.eventLoopLagMs.idle.max)} / ${fmt(t.eventLoopLagMs.firstLoad.max)} / ${fmt(t.eventLoopLagMs.warmLoads.max)} | ${fmt(t.warmUncachedCpuMs)} | ${t.pageMissMs.map((x) => fmt(x)).join(', ') || '—'} |`;
      }),
      '',
      '"gateway share" is the first list less the upstream alone (median of 5, before the gateway started); "warm uncached share" the median of ' +
        `${REPEATS} \`Cache-Control: no-cache\` loads less the median of the upstream alone timed after each of them. The page is the one at offset ${r.sftptogo[0]?.pageOffset ?? 0}, a cache hit, ` +
        `at one connection for ${r.settings.durationS} s after ${r.settings.warmupS} s of warm-up. /healthz counts are in brackets. ` +
        'The event-loop delay is prom-client\'s (`nodejs_eventloop_lag_max_seconds`), sampled every 10 ms: an idle loop reads about 10. ' +
        'A new page of the cached list is each hop through nextCursor: the page is not stored yet, so it is cut from the whole list the cache keeps.',
    );
  }
  if (r.sftpgo.length) {
    lines.push(
      '',
      `## SFTPGo (API v1, offset pages of at most 500; cache none; every ${r.settings.disabledEvery}th user disabled)`,
      '',
      '| users | status-filtered p50 ms | upstream calls per request | unfiltered p50 ms | upstream calls per request | upstream page of 500 ms | disabled (in the page) |',
      '| ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...r.sftpgo.map((s) =>
        `| ${s.users} | ${fmt(s.filteredP50Ms, 2)} | ${fmt(s.filteredUpstreamCalls)} | ${fmt(s.unfilteredP50Ms, 2)} | ${fmt(s.unfilteredUpstreamCalls)} | ` +
        `${fmt(s.upstreamPage500Ms, 2)} | ${s.disabled} (${s.filteredPageUsers}${s.filteredHasNext ? ', more follow' : ''}) |`),
      '',
      `\`GET /v1/users?limit=${PAGE}&status=disabled\` and \`GET /v1/users?limit=${PAGE}\`, ${REPEATS} sequential requests each; upstream calls from the ` +
        'gateway\'s own `sftp_gateway_upstream_request_duration_seconds_count`.',
    );
  }
  return `${lines.join('\n')}\n`;
}

async function main(): Promise<void> {
  const startedAt = Date.now();
  mkdirSync(join(OUT_DIR, 'logs'), { recursive: true });
  const load1AtStart = loadAverage();
  say(`sftp-gateway growth: SFTP To Go ${SETTINGS.togo.join(', ') || '—'}; SFTPGo ${SETTINGS.sftpgo.join(', ') || '—'}; load average ${load1AtStart}`);
  say('building bench/out/dist…');
  await buildBench();
  const sftptogo: TogoRow[] = [];
  for (const users of SETTINGS.togo) sftptogo.push(await measureTogo(users));
  const sftpgo: SftpgoRow[] = [];
  for (const users of SETTINGS.sftpgo) sftpgo.push(await measureSftpgo(users));
  const report: Report = {
    generatedAt: new Date().toISOString(),
    machine: { cpus: cpus().length, node: process.version, load1AtStart, load1AtEnd: loadAverage() },
    settings: SETTINGS,
    sftptogo,
    sftpgo,
    totalSeconds: Math.round((Date.now() - startedAt) / 1000),
  };
  const md = markdown(report);
  writeFileSync(join(OUT_DIR, 'growth.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(OUT_DIR, 'growth.md'), md);
  say(`\n${md}`);
  say(`wrote bench/out/growth.json and growth.md in ${report.totalSeconds} s`);
}

// Interrupted: the children go too (a SIGTERM to this process alone would leave them running).
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void stopAll().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  });
}

try {
  await main();
} finally {
  await stopAll();
}
