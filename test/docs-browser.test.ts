/**
 * `/docs` in a real browser: headless Chromium (Debian's `chromium`; CI installs it, and without it
 * this test fails) against `npm start`'s bundle in demo mode on a loopback port. The page must show
 * every operation of the live /openapi.json, the Authorize button and a parameter's constraints,
 * break no rule of its CSP, and fetch nothing but the gateway: every request of the browser goes
 * through a counting proxy that forwards only to the gateway and refuses the rest, and no host name
 * resolves — so nothing leaves loopback, and the page renders without anything from elsewhere.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NPM_START_ARGS, spawnNodeEntry } from './helpers/node-entry.js';
import { operationsOf, type Operation } from './helpers/openapi-operations.js';
import { colourCounts, decodePng } from './helpers/png.js';

const CHROMIUM = process.env.CHROMIUM ?? 'chromium';
/**
 * Chromium's own services (component and extension updates — Debian's launcher enables remote
 * extensions —, network time, account and autofill checks), which it calls whatever the page shows,
 * with no Referer, on Google's domains (which hosts exactly changes between Chromium releases); the
 * proxy refuses them too. A refused request with a Referer (a page's), or to any other domain, fails.
 */
const CHROMIUM_OWN = /(^|\.)(googleapis\.com|gvt1\.com|google\.com)$/;
const SCREENSHOT = resolve('test/out/docs.png');

let gateway: ChildProcess | undefined;
let gatewayUrl: URL;
let proxy: CountingProxy;
let profiles: string;

beforeAll(async () => {
  const version = spawnSync(CHROMIUM, ['--version'], { encoding: 'utf8' });
  if (version.error || version.status !== 0) {
    throw new Error(
      `"${CHROMIUM}" cannot run (${version.error?.message ?? version.stderr}): the docs browser test needs Chromium. ` +
        'Install it (Debian: apt-get install -y chromium; .ci/run does) or point CHROMIUM at the binary.',
    );
  }
  const { GATEWAY_CONFIG: _config, NODE_ENV: _env, ...inherited } = process.env;
  gateway = await spawnNodeEntry('docs-browser', { env: { ...inherited, PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] }, NPM_START_ARGS);
  gatewayUrl = new URL(await listeningUrl(gateway));
  proxy = await startCountingProxy(gatewayUrl);
  profiles = mkdtempSync(join(tmpdir(), 'sftp-gateway-chromium-'));
}, 60_000);

afterAll(async () => {
  gateway?.kill('SIGTERM');
  await proxy?.close();
  if (profiles) rmSync(profiles, { recursive: true, force: true });
});

describe('/docs in headless Chromium', () => {
  it('shows every operation, Authorize, and a deep-linked list call with its constraints, fetching only from the gateway', async () => {
    const doc = await (await fetch(new URL('/openapi.json', gatewayUrl))).json();
    const operations = operationsOf(doc);
    expect(operations.length).toBeGreaterThan(10);
    const list = operationWithMaximum(operations, 'limit');
    const tag = (list.op.tags?.[0] ?? 'default').replace(/\s/g, '_'); // as swagger-ui writes it in ids and links
    proxy.forwarded.length = 0;

    const { stdout: dom, stderr } = await chromium(['--dump-dom', `${gatewayUrl.origin}/docs#/${encodeURIComponent(tag)}/${list.op.operationId}`]);

    for (const op of operations) {
      expect(dom, `${op.method} ${op.path}`).toMatch(new RegExp(`class="opblock-summary-operation-id"[^>]*>${op.operationId}<`));
      expect(dom, `${op.method} ${op.path}`).toContain(`data-path="${op.path}"`);
    }
    expect(dom).toMatch(/<button[^>]*class="btn authorize[^"]*"[^>]*>\s*<span>Authorize<\/span>/);
    // The deep link opened its operation: its parameters with their constraints, and its responses.
    const idAt = dom.indexOf(`id="operations-${tag}-${list.op.operationId}"`);
    expect(idAt).toBeGreaterThan(0);
    const end = dom.indexOf('class="opblock opblock-', idAt);
    const body = dom.slice(dom.lastIndexOf('<div', idAt), end < 0 ? undefined : end);
    expect(body).toMatch(/^<div class="opblock opblock-get is-open"/);
    expect(body).toContain(`maximum: ${list.maximum}`);
    expect(body).toContain('data-param-name="limit"');
    expect(body).toMatch(/Example Value/);
    expect(body).toMatch(/>Schema</);

    expect(consoleOf(stderr).filter((line) => /Content Security Policy|Refused to/i.test(line))).toEqual([]);
    // The page asked the gateway only: for itself, its three files and the document.
    expect(fromPage(proxy.refused)).toEqual([]);
    const paths = proxy.forwarded.map((r) => new URL(r).pathname);
    expect(paths).toHaveLength(5);
    expect(paths).toEqual(expect.arrayContaining([
      '/docs', '/openapi.json',
      expect.stringMatching(/^\/docs\/assets\/[^/]+\/swagger-ui\.css$/),
      expect.stringMatching(/^\/docs\/assets\/[^/]+\/swagger-ui-bundle\.js$/),
      expect.stringMatching(/^\/docs\/assets\/[^/]+\/docs-init\.js$/),
    ]));
  }, 120_000);

  it('paints the page: a screenshot with many colours and the GET badges', async () => {
    mkdirSync(resolve('test/out'), { recursive: true });
    rmSync(SCREENSHOT, { force: true });
    await chromium([`--screenshot=${SCREENSHOT}`, '--window-size=1280,2400', `${gatewayUrl.origin}/docs`]);
    console.log(`docs screenshot: ${SCREENSHOT}`);
    const image = decodePng(readFileSync(SCREENSHOT));
    expect([image.width, image.height]).toEqual([1280, 2400]);
    const colours = colourCounts(image);
    expect(colours.size).toBeGreaterThan(200);
    // No colour covers the whole page, and swagger-ui's GET blue (light or dark theme) is there.
    expect(Math.max(...colours.values())).toBeLessThan(image.width * image.height * 0.95);
    const getBlue = (colours.get(0x61affeff) ?? 0) + (colours.get(0x55a1ffff) ?? 0);
    expect(getBlue).toBeGreaterThan(1000);
    expect(fromPage(proxy.refused)).toEqual([]);
  }, 120_000);
});

/** The refused requests that were not Chromium's own housekeeping. */
function fromPage(refused: Refused[]): Refused[] {
  return refused.filter((r) => r.referer !== undefined || !CHROMIUM_OWN.test(r.host));
}

/** The page's console lines in Chromium's log (`--enable-logging=stderr`), where CSP violations show. */
function consoleOf(stderr: string): string[] {
  return stderr.split('\n').filter((line) => line.includes(':CONSOLE'));
}

/** A list operation with a query parameter bounded by `maximum`, read from the document. */
function operationWithMaximum(operations: Operation[], name: string): { op: Operation; maximum: number } {
  for (const op of operations) {
    const param = op.method === 'get' ? op.parameters?.find((p) => p.in === 'query' && p.name === name) : undefined;
    const maximum = param?.schema?.maximum;
    if (typeof maximum === 'number') return { op, maximum };
  }
  throw new Error(`no GET operation has a query parameter "${name}" with a maximum`);
}

/**
 * Runs headless Chromium once on a fresh profile, all its traffic through the counting proxy
 * (loopback too: `<-loopback>` drops the implicit bypass) and no host name resolvable.
 */
function chromium(args: string[]): Promise<{ stdout: string; stderr: string }> {
  const flags = [
    '--headless', '--no-sandbox', '--disable-background-networking', '--disable-gpu', '--virtual-time-budget=15000',
    `--user-data-dir=${mkdtempSync(join(profiles, 'profile-'))}`, '--no-first-run', '--no-default-browser-check',
    `--proxy-server=http://127.0.0.1:${proxy.port}`, '--proxy-bypass-list=<-loopback>',
    '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
    '--enable-logging=stderr', '--v=0', // the page's console, CSP reports among it, on stderr
    // Less of Chromium's own traffic (the rest is refused, see CHROMIUM_OWN).
    '--disable-component-update', '--disable-sync', '--disable-features=NetworkTimeServiceQuerying,AutofillServerCommunication',
  ];
  const child = spawn(CHROMIUM, [...flags, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += String(d)));
  child.stderr.on('data', (d) => (stderr += String(d)));
  const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
  return new Promise((done, fail) => {
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) done({ stdout, stderr });
      else fail(new Error(`chromium exited with ${code}:\n${stderr.slice(-4000)}`));
    });
  });
}

interface Refused {
  request: string;
  host: string;
  /** Sent by a page's requests (HTTP only: a CONNECT shows nothing of what is inside). */
  referer?: string;
}

interface CountingProxy {
  port: number;
  /** Every URL it passed on to the gateway, in order. */
  forwarded: string[];
  /** What it would not forward: anything but the gateway, and every CONNECT (HTTPS). */
  refused: Refused[];
  close(): Promise<void>;
}

/** A forward HTTP proxy that passes requests for the gateway on, and refuses and records the rest. */
async function startCountingProxy(target: URL): Promise<CountingProxy> {
  const forwarded: string[] = [];
  const refused: Refused[] = [];
  const server: Server = createServer((req, res) => {
    const url = req.url ?? '';
    let to: URL | undefined;
    try {
      to = new URL(url);
    } catch {
      to = undefined;
    }
    if (!to || to.host !== target.host || to.protocol !== 'http:') {
      refused.push({ request: `${req.method} ${url}`, host: to?.hostname ?? '', referer: req.headers.referer });
      res.writeHead(403).end();
      return;
    }
    forwarded.push(url);
    const upstream = httpRequest(
      { host: target.hostname, port: target.port, method: req.method, path: to.pathname + to.search, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  server.on('connect', (req, socket) => {
    refused.push({ request: `CONNECT ${req.url}`, host: (req.url ?? '').replace(/:\d+$/, '') });
    socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
  });
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  return {
    port: (server.address() as { port: number }).port,
    forwarded,
    refused,
    close: () =>
      new Promise<void>((closed) => {
        server.close(() => closed());
        server.closeAllConnections();
      }),
  };
}

/** The address the entry logs once it listens; its output is read on to the end, so it never blocks. */
function listeningUrl(child: ChildProcess): Promise<string> {
  return new Promise((found, fail) => {
    let text = '';
    child.stderr!.resume();
    child.stdout!.on('data', (chunk) => {
      text += String(chunk);
      const url = text.split('\n').slice(0, -1).filter((line) => line.startsWith('{')).map((line) => (JSON.parse(line) as { url?: string }).url).find(Boolean);
      if (url) found(url);
    });
    child.on('close', (code) => fail(new Error(`the gateway exited (${code}) before listening:\n${text}`)));
  });
}
