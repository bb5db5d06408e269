/**
 * `sftp-gateway check-config`, run as users run it: a good file passes, each broken file or
 * environment fails naming its field exactly as the gateway's own start does, nothing is
 * contacted, and no secret ever reaches the output.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCliOnce, finished, runCli, type CliResult } from './helpers/cli.js';
import { spawnNodeEntry } from './helpers/node-entry.js';

let bin: string;
const dir = mkdtempSync(join(tmpdir(), 'cli-check-config-'));
/** Every secret below holds this word: no output may. */
const SECRET = 'SECRET';
const ENV = { OPS_KEY: `env-${SECRET}-ops-key-0123456789`, TOGO_KEY: `env-${SECRET}-togo-key` };

// A listener standing in for every upstream and Redis: check-config must never connect to it.
let trap: Server;
let trapUrl: string;
let connections = 0;

beforeAll(async () => {
  ({ bin } = await buildCliOnce('cli-check-config'));
  trap = createServer((socket) => {
    connections += 1;
    socket.destroy();
  });
  await new Promise<void>((resolve) => trap.listen(0, '127.0.0.1', resolve));
  trapUrl = `http://127.0.0.1:${(trap.address() as { port: number }).port}`;
}, 60_000);
afterAll(() => new Promise<void>((resolve) => trap.close(() => resolve())));

/** A good config: both providers, secrets written in and read from the environment. */
function goodConfig(): Record<string, any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  return {
    auth: { apiKeys: [
      { name: 'ops', key: '${OPS_KEY}', scopes: ['read', 'write', 'admin'] },
      { name: 'reader', key: `literal-${SECRET}-key-0123456789`, scopes: ['read'] },
    ] },
    metrics: { token: `metrics-${SECRET}-token-0123` },
    cache: { driver: 'redis', url: `redis://:redis-${SECRET}-pass@${trapUrl.slice('http://'.length)}/0` },
    audit: { sink: 'http', url: `${trapUrl}/audit`, secret: `audit-${SECRET}-value` },
    defaultBackend: 'onprem',
    backends: {
      onprem: { provider: 'sftpgo', apiVersion: 'v1', baseUrl: trapUrl, username: 'admin', password: `sftpgo-${SECRET}-password` },
      togo: { provider: 'sftptogo', baseUrl: trapUrl, organizationId: 'org-1', apiKey: '${TOGO_KEY}' },
    },
  };
}

let files = 0;
function configFile(content: unknown): string {
  const path = join(dir, `config-${(files += 1)}.json`);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return path;
}

const results: CliResult[] = [];
async function check(content: unknown, env: Record<string, string> = ENV): Promise<CliResult> {
  const result = await runCli(bin, ['check-config', '--config', configFile(content)], env);
  results.push(result);
  return result;
}

describe('check-config', () => {
  it('passes a good file: exit 0, one line naming each backend and its provider, nothing contacted', async () => {
    const result = await check(goodConfig());
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toBe('ok: 2 backends (onprem: sftpgo, togo: sftptogo)\n');
    await new Promise((r) => setTimeout(r, 200));
    expect(connections).toBe(0);
  });

  it('reads the file named by GATEWAY_CONFIG when --config is absent', async () => {
    const result = await runCli(bin, ['check-config'], { ...ENV, GATEWAY_CONFIG: configFile(goodConfig()) });
    results.push(result);
    expect(result).toMatchObject({ code: 0, stdout: 'ok: 2 backends (onprem: sftpgo, togo: sftptogo)\n' });
  });

  const broken: Array<[string, (c: ReturnType<typeof goodConfig>) => void, RegExp]> = [
    ['a bad upstream URL', (c) => (c.backends.togo.baseUrl = `not a url ${SECRET}`), /^config error: backends\.togo\.baseUrl: /],
    ['a short API key', (c) => (c.auth.apiKeys[1].key = `short-${SECRET}`), /^config error: auth\.apiKeys\.1\.key: API keys must be at least 16 characters$/],
    ['no default among two backends', (c) => delete c.defaultBackend, /^config error: defaultBackend: required when more than one backend/],
    ['an unknown provider', (c) => (c.backends.togo.provider = 'ftp'), /^config error: backends\.togo\.provider: /],
    ['SFTPGo credentials half given', (c) => delete c.backends.onprem.username, /^config error: backends\.onprem\.password: username and password go together/],
    ['a key limited to an unknown backend', (c) => (c.auth.apiKeys[1].backends = ['elsewhere']), /^config error: auth\.apiKeys\.1\.backends\.0: "elsewhere" is not a configured backend$/],
    ['the Workers-only kv cache', (c) => (c.cache = { driver: 'kv' }), /^config error: cache\.driver: the kv driver needs Cloudflare Workers KV/],
    ['an unknown top-level field', (c) => (c.colour = 'blue'), /^config error: \(root\): .*colour/],
  ];
  it.each(broken)('fails on %s: exit 1, the field named on stderr', async (_name, breakIt, message) => {
    const config = goodConfig();
    breakIt(config);
    const result = await check(config);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim()).toMatch(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('names a missing environment variable and the field that uses it', async () => {
    const result = await check(goodConfig(), { TOGO_KEY: ENV.TOGO_KEY });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('config error: auth.apiKeys.0.key: environment variable OPS_KEY is not set\n');
  });

  it('checks the environment the start reads: PORT, SHUTDOWN_GRACE_MS, LOG_LEVEL', async () => {
    for (const [name, value] of [['PORT', '99999'], ['SHUTDOWN_GRACE_MS', 'soon'], ['LOG_LEVEL', 'loud']] as const) {
      const result = await check(goodConfig(), { ...ENV, [name]: value });
      expect(result.code, name).toBe(1);
      expect(result.stderr, name).toMatch(new RegExp(`^config error: ${name}: `));
    }
  });

  it('says where a file is not JSON without quoting it', async () => {
    const text = JSON.stringify(goodConfig(), null, 2).replace(`"sftpgo-${SECRET}-password"`, `"sftpgo-${SECRET}-password" oops`);
    const result = await check(text);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^config error: \(file\): not valid JSON: a syntax error at line \d+, column \d+\n$/);
  });

  it('never quotes the text around a bad token (where JSON.parse would)', async () => {
    const result = await check(`{ "auth": { "apiKeys": [{ "key": ${SECRET}-unquoted }] } }`);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('config error: (file): not valid JSON: a syntax error\n');
  });

  it('names the file it cannot read', async () => {
    const result = await runCli(bin, ['check-config', '--config', join(dir, 'missing.json')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`config error: --config: cannot read ${join(dir, 'missing.json')}: ENOENT\n`);
  });

  it('is a usage error (exit 2) with no config named, or an unknown option', async () => {
    const none = await runCli(bin, ['check-config']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/--config <file> or set GATEWAY_CONFIG/);
    const unknown = await runCli(bin, ['check-config', '--konfig', 'x.json']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown option '--konfig'/);
  });

  it('never prints a secret, whatever it checked', () => {
    expect(results.length).toBeGreaterThan(10);
    for (const r of results) expect(r.stdout + r.stderr).not.toContain(SECRET);
  });
});

describe('check-config and the gateway agree', () => {
  /** The gateway's own start (the npm start bundle) with this config and environment: its fatal message. */
  async function gatewayStart(path: string, env: Record<string, string>): Promise<{ code: number | null; message: string }> {
    const child = await spawnNodeEntry('cli-check-config-gateway', { env: { PATH: process.env.PATH ?? '', GATEWAY_CONFIG: path, ...env }, stdio: ['ignore', 'pipe', 'pipe'] }, []);
    const done = await finished(child);
    const line = done.stderr.split('\n').find((l) => l.includes('"fatal"'));
    return { code: done.code, message: line ? (JSON.parse(line) as { msg: string }).msg : done.stderr };
  }

  const cases: Array<[string, (c: ReturnType<typeof goodConfig>) => void, Record<string, string>]> = [
    ['a missing variable', () => {}, { TOGO_KEY: ENV.TOGO_KEY }],
    ['a bad upstream URL', (c) => (c.backends.onprem.baseUrl = 'ftp://files'), ENV],
    ['a bad SHUTDOWN_GRACE_MS', () => {}, { ...ENV, SHUTDOWN_GRACE_MS: '-1' }],
    ['the kv cache', (c) => (c.cache = { driver: 'kv' }), ENV],
  ];
  it.each(cases)('on %s: the same field and reason', async (_name, breakIt, env) => {
    const config = goodConfig();
    breakIt(config);
    const path = configFile(config);
    const [cli, gateway] = await Promise.all([runCli(bin, ['check-config', '--config', path], env), gatewayStart(path, env)]);
    expect(cli.code).toBe(1);
    expect(gateway.code).toBe(1);
    expect(cli.stderr.trim().replace(/^config error: /, 'invalid configuration: ')).toBe(gateway.message);
  }, 60_000);
});
