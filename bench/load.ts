/**
 * The load generator, in its own process: `node bench/out/dist/load.js '<LoadSpec JSON>'` (bundled by bench/run.ts).
 * autocannon 8 drives the connections; this wrapper exists because the CLI reports latencies in
 * whole milliseconds (a cache hit takes a fraction of one), so every response time is also taken
 * here, as autocannon measures it (a float, from `process.hrtime`), for exact percentiles.
 *
 * `write-pairs` uses autocannon's request sequence: each connection sends a create (POST, a
 * fresh username per request, set in `setupRequest`), reads the new id in `onResponse`, then
 * deletes it (DELETE, its path set in `setupRequest`), and again. Pairs per second are half the
 * requests per second; a pair's latency is its create's plus its delete's (one connection, in turn).
 * Each connection's first request is left out of the latency percentiles (its connect is not
 * the server's answer time); every request counts in the rate.
 * Prints one LoadResult JSON line.
 */
import autocannon from 'autocannon';
import type { LoadResult, LoadSpec } from './shared.js';

const spec = JSON.parse(process.argv[2] ?? '{}') as LoadSpec;

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return Math.round(sorted[index]! * 1000) / 1000;
}

class Samples {
  private data = new Float64Array(1 << 16);
  private n = 0;
  add(ms: number): void {
    if (this.n === this.data.length) {
      const bigger = new Float64Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.n++] = ms;
  }
  sorted(): Float64Array {
    return this.data.slice(0, this.n).sort();
  }
  get count(): number {
    return this.n;
  }
}

const latencies = new Samples();
const pairLatencies = new Samples();
const pendingCreate = new WeakMap<object, number>();
/** Created and not yet deleted: deleted after the run (a run ends between a create and its delete). */
const undeleted = new Set<string>();
let counter = 0;

const writes = spec.mode === 'write-pairs';
const usersPath = spec.usersPath ?? '/v1/users';
const instance = autocannon({
  url: spec.url,
  connections: spec.connections,
  duration: spec.durationS,
  pipelining: 1,
  timeout: 30,
  headers: spec.headers ?? {},
  ...(writes
    ? {
        requests: [
          {
            method: 'POST',
            path: usersPath,
            headers: { ...spec.headers, 'content-type': 'application/json' },
            setupRequest: (req) => {
              counter += 1;
              // 10..100 of [A-Za-z0-9_.-]: valid on both providers; unique per process and request.
              return { ...req, body: JSON.stringify({ username: `bw${process.pid}x${String(counter).padStart(8, '0')}`, accessLevel: 'read-write' }) };
            },
            onResponse: (status, body, context) => {
              context.id = status === 201 ? (JSON.parse(body) as { id: string }).id : undefined;
              if (typeof context.id === 'string') undeleted.add(context.id);
            },
          },
          {
            method: 'DELETE',
            setupRequest: (req, context) => {
              if (typeof context.id !== 'string') return null;
              undeleted.delete(context.id);
              return { ...req, path: `${usersPath}/${encodeURIComponent(context.id)}` };
            },
          },
        ],
      }
    : {}),
});

/** Connections that have answered once: each one's first answer carried its TCP connect. */
const connected = new WeakSet<object>();

instance.on('response', (client: object, status: number, _bytes: number, ms: number) => {
  if (status < 200 || status > 299) return; // as autocannon: only 2xx latencies count (errors are reported apart)
  // Each connection's first request is left out of the percentiles (it is counted in the rate):
  // it measures the server accepting a connection, not answering a request.
  const first = !connected.has(client);
  connected.add(client);
  if (!first) latencies.add(ms);
  if (!writes) return;
  if (status === 201) pendingCreate.set(client, ms);
  else if (status === 204) {
    const created = pendingCreate.get(client);
    if (created !== undefined) pairLatencies.add(created + ms);
    pendingCreate.delete(client);
  }
});

const result = await instance;
// Outside the measured run: the users whose delete the end of the run cut off, and those whose
// create answered after autocannon stopped listening (only a list finds them).
if (writes) {
  const mine = `bw${process.pid}x`;
  const listed = await fetch(`${spec.url}${usersPath}?limit=500`, { headers: { ...spec.headers, 'cache-control': 'no-cache' } });
  const page = (await listed.json()) as { data?: Array<{ id: string; username: string }> };
  for (const u of page.data ?? []) if (u.username.startsWith(mine)) undeleted.add(u.id);
  for (const id of undeleted) {
    const res = await fetch(`${spec.url}${usersPath}/${encodeURIComponent(id)}`, { method: 'DELETE', headers: spec.headers });
    await res.text();
  }
}
const sorted = latencies.sorted();
const statusCodes = Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, s]) => [code, s.count]));
const durationS = result.duration;
const out: LoadResult = {
  requests: result.requests.total,
  durationS,
  rate: Math.round((result.requests.total / durationS) * 10) / 10,
  p50: percentile(sorted, 50),
  p99: percentile(sorted, 99),
  non2xx: result.non2xx,
  errors: result.errors,
  timeouts: result.timeouts,
  statusCodes,
  cpuMs: 0,
};
if (writes) {
  const pairs = pairLatencies.sorted();
  out.pairs = pairLatencies.count;
  out.rate = Math.round((pairLatencies.count / durationS) * 10) / 10;
  out.pairP50 = percentile(pairs, 50);
  out.pairP99 = percentile(pairs, 99);
}
const usage = process.cpuUsage();
out.cpuMs = Math.round((usage.user + usage.system) / 1000);
process.stdout.write(`${JSON.stringify(out)}\n`);
