/**
 * The Worker in the real workerd runtime, for tests: the bundle `wrangler deploy --dry-run`
 * makes (scripts/check-worker-bundle.ts), served by Miniflare (which runs the workerd binary of
 * the npm package), with bindings as Cloudflare would give them and the Worker's log lines
 * captured from workerd's stdout.
 *
 * Upstreams are the emulators, served on loopback by this Node process; the Worker reaches them
 * through a switchboard (a loopback reverse proxy) whose target each test can change, so one
 * workerd serves many cases, each with a fresh emulator.
 */
import { request as httpRequest, createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { Miniflare } from 'miniflare';
import type { GatewayConfig } from '../../src/config.js';
import { parseConfig } from '../../src/providers.js';
import { buildWorker, type BuiltWorker } from '../../scripts/check-worker-bundle.js';
import { callerFor, type TestGateway } from '../helpers/gateway.js';

/** wrangler.toml's, so the tests run what `wrangler deploy` ships. */
export const WRANGLER = readWranglerToml();

function readWranglerToml(): { compatibilityDate: string; compatibilityFlags: string[]; kvBindings: string[] } {
  const text = readFileSync(new URL('../../wrangler.toml', import.meta.url), 'utf8');
  const date = /^compatibility_date\s*=\s*"([^"]+)"/m.exec(text)?.[1];
  if (!date) throw new Error('wrangler.toml has no compatibility_date');
  const flags = /^compatibility_flags\s*=\s*\[([^\]]*)\]/m.exec(text)?.[1] ?? '';
  return {
    compatibilityDate: date,
    compatibilityFlags: [...flags.matchAll(/"([^"]+)"/g)].map((m) => m[1]!),
    kvBindings: [...text.matchAll(/^\[\[kv_namespaces\]\]\s*\nbinding\s*=\s*"([^"]+)"/gm)].map((m) => m[1]!),
  };
}

/** Builds the Worker into a fresh temporary folder (each test file its own: files run in parallel). */
export function buildWorkerForTest(): Promise<BuiltWorker> {
  return buildWorker({ outdir: mkdtempSync(join(tmpdir(), 'sftp-gateway-worker-')) });
}

export interface RunningWorker {
  mf: Miniflare;
  /** The Worker's own HTTP socket on loopback. */
  url: URL;
  /** Every JSON log line the Worker(s) of this workerd wrote since it started. */
  logs: string[];
  /** Lines workerd wrote that are not the Worker's JSON logs (warnings, uncaught errors). */
  otherOutput: string[];
  /** A KV namespace of the Worker, from Node (fetched once per binding). */
  kv(binding: string): Promise<Awaited<ReturnType<Miniflare['getKVNamespace']>>>;
  /** Sends every log line from now on to `sink` too (a conformance case's gateway logs). */
  tapLogs(sink: string[] | undefined): void;
  dispose(): Promise<void>;
}

/**
 * Starts workerd with the built bundle as one Worker, wrangler.toml's compatibility settings and
 * KV bindings, and `bindings` as its vars and secrets.
 */
export async function startWorker(bundlePath: string, bindings: Record<string, string>): Promise<RunningWorker> {
  const running = await startWorkers(bundlePath, { gateway: bindings });
  return running.worker('gateway');
}

export interface RunningWorkers {
  mf: Miniflare;
  logs: string[];
  otherOutput: string[];
  /** One of the Workers, by name. */
  worker(name: string): RunningWorker;
  dispose(): Promise<void>;
}

/**
 * Starts ONE workerd running the bundle as several Workers (one isolate each, with its own
 * bindings and KV namespaces), each on its own loopback socket. Cheaper than a workerd per case.
 */
export async function startWorkers(bundlePath: string, workers: Record<string, Record<string, string>>): Promise<RunningWorkers> {
  const logs: string[] = [];
  const otherOutput: string[] = [];
  let tap: string[] | undefined;
  const lines = (onLine: (line: string) => void) => {
    let rest = '';
    return (chunk: Buffer | string) => {
      const parts = (rest + String(chunk)).split('\n');
      rest = parts.pop()!;
      for (const line of parts) if (line.trim()) onLine(line);
    };
  };
  const mf = new Miniflare({
    // Never fetch Cloudflare's request.cf data from the internet: a fixed stand-in.
    cf: false,
    host: '127.0.0.1',
    port: 0,
    handleRuntimeStdio(stdout: Readable, stderr: Readable) {
      stdout.on(
        'data',
        lines((line) => {
          if (!line.startsWith('{"level":')) return void otherOutput.push(line);
          logs.push(line);
          tap?.push(line);
        }),
      );
      stderr.on('data', lines((line) => otherOutput.push(line)));
    },
    workers: Object.entries(workers).map(([name, bindings]) => ({
      name,
      modules: true,
      scriptPath: bundlePath,
      modulesRoot: dirname(bundlePath), // module names relative to it (workerd refuses `..`)
      compatibilityDate: WRANGLER.compatibilityDate,
      compatibilityFlags: WRANGLER.compatibilityFlags,
      bindings,
      // Each Worker its own namespaces.
      kvNamespaces: Object.fromEntries(WRANGLER.kvBindings.map((b) => [b, `${name}-${b}`])),
      unsafeDirectSockets: [{ host: '127.0.0.1', port: 0 }],
    })),
  });
  try {
    await mf.ready;
  } catch (err) {
    await mf.dispose().catch(() => {});
    throw new Error(`workerd did not start: ${(err as Error).message}\n${otherOutput.join('\n')}`);
  }
  const urls = new Map(await Promise.all(Object.keys(workers).map(async (name) => [name, await mf.unsafeGetDirectURL(name)] as const)));
  const namespaces = new Map<string, ReturnType<Miniflare['getKVNamespace']>>();
  const dispose = () => mf.dispose();
  return {
    mf,
    logs,
    otherOutput,
    dispose,
    worker(name) {
      const url = urls.get(name);
      if (!url) throw new Error(`no Worker named ${name}`);
      return {
        mf,
        url,
        logs,
        otherOutput,
        kv(binding) {
          const id = `${name}:${binding}`;
          if (!namespaces.has(id)) namespaces.set(id, mf.getKVNamespace(binding, name));
          return namespaces.get(id)!;
        },
        tapLogs: (sink) => void (tap = sink),
        dispose,
      };
    },
  };
}

/** Deletes every key of a KV namespace of the Worker (a fresh cache for the next case). */
export async function clearKv(worker: RunningWorker, binding: string): Promise<void> {
  const kv = await worker.kv(binding);
  for (;;) {
    const { keys } = await kv.list();
    if (keys.length === 0) return;
    await Promise.all(keys.map((k) => kv.delete(k.name)));
  }
}

export interface Switchboard {
  url: string;
  /** Where requests go from now on (an emulator's URL); undefined answers 503. */
  point(target: string | undefined): void;
  close(): Promise<void>;
}

/** A loopback reverse proxy: method, path, headers and body pass through unchanged. */
export async function createSwitchboard(): Promise<Switchboard> {
  let target: URL | undefined;
  const server = createServer(function forward(req: IncomingMessage, res: ServerResponse) {
    if (!target) {
      res.writeHead(503, { 'content-type': 'text/plain' }).end('switchboard: no upstream');
      return;
    }
    const upstream = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: target.host },
        agent: false, // a new connection per request: an emulator closed between cases leaves no stale socket
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', (err) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`switchboard: ${err.message}`);
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    point: (t) => void (target = t === undefined ? undefined : new URL(t)),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/**
 * A TestGateway whose requests go over HTTP to the Worker in workerd. `app` and `cache` live in
 * workerd, out of reach: reading them throws (the conformance suite uses neither).
 */
export function workerGateway(url: URL, configText: string, vars: Record<string, string>, logs: string[]): TestGateway {
  const config: GatewayConfig = parseConfig(configText, vars);
  return {
    get app(): never {
      throw new Error('the app runs inside workerd: use call() or json()');
    },
    get cache(): never {
      throw new Error('the cache lives inside workerd: use call() or json()');
    },
    config,
    logs,
    ...callerFor((path, init) => fetch(new URL(path, url), init)),
    close: async () => {}, // workerd holds the upstream connections; the harness stops it
  };
}

/** The conformance suite's API keys, each given to the Worker as a secret named here. */
export const KEY_SECRETS: Record<string, string> = {
  ops: 'OPS_KEY',
  reader: 'READER_KEY',
  writer: 'WRITER_KEY',
  'onprem-only': 'ONPREM_ONLY_KEY',
};

/**
 * The config text for the Worker, with every API key as `${SECRET}` (resolved from the Worker's
 * bindings, as `wrangler secret put` gives them), and the secrets to bind.
 */
export function workerConfig(
  apiKeys: readonly { name: string; key: string; scopes: string[]; backends?: string[]; requestsPerMinute?: number }[],
  rest: Record<string, unknown>,
  /** Settings of `auth` besides the keys (e.g. `failedAuthPerMinute`). */
  authSettings: Record<string, unknown> = {},
): { configText: string; secrets: Record<string, string> } {
  const secrets: Record<string, string> = {};
  const keys = apiKeys.map((k) => {
    const secret = KEY_SECRETS[k.name] ?? `${k.name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_KEY`;
    secrets[secret] = k.key;
    return { ...k, key: `\${${secret}}` };
  });
  return { configText: JSON.stringify({ auth: { apiKeys: keys, ...authSettings }, logLevel: 'debug', ...rest }), secrets };
}
