/** The Node entry as a user runs it: `npm start`'s bundle in a child process. */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { NPM_START_ARGS, spawnNodeEntry } from './helpers/node-entry.js';

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});

async function start(env: Record<string, string>, args: string[] = NPM_START_ARGS) {
  const { GATEWAY_CONFIG: _omit, NODE_ENV: _env, ...inherited } = process.env;
  const child = await spawnNodeEntry('node-entry', {
    env: { ...inherited, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  }, args);
  children.push(child);
  const lines: string[] = [];
  let stderr = '';
  child.stdout!.on('data', (d) => lines.push(...String(d).split('\n').filter(Boolean)));
  child.stderr!.on('data', (d) => (stderr += String(d)));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const firstLine = async () => {
    for (let i = 0; i < 200 && !lines.length; i++) await new Promise((r) => setTimeout(r, 50));
    return JSON.parse(lines[0]!);
  };
  return { child, lines, exited, firstLine, stderr: () => stderr };
}

describe('npm start', () => {
  it('starts in demo mode without GATEWAY_CONFIG, says so first, serves, and stops cleanly on SIGTERM', async () => {
    const gw = await start({ PORT: '0' });
    const first = await gw.firstLine();
    expect(first.msg).toMatch(/^DEMO MODE/);
    expect(first.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const backends = await (await fetch(`${first.url}/v1/backends`)).json();
    expect(backends.data.map((b: { name: string }) => b.name).sort()).toEqual(['demo-sftpgo', 'demo-sftpgo-v2', 'demo-sftptogo']);
    // SFTPGo 2.x: found on first use, its users addressed by username.
    const v2 = await fetch(`${first.url}/v1/backends/demo-sftpgo-v2/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'demo_v2_user', accessLevel: 'read-write', displayName: 'On SFTPGo 2.x' }),
    });
    expect(v2.status).toBe(201);
    expect(await v2.json()).toMatchObject({ id: 'demo_v2_user', displayName: 'On SFTPGo 2.x' });
    expect((await (await fetch(`${first.url}/v1/backends/demo-sftpgo-v2`)).json())).toMatchObject({
      apiVersion: 'v2', serverVersion: '2.7.5', health: { ok: true },
    });
    const created = await fetch(`${first.url}/v1/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'demo_user_1', accessLevel: 'read-only' }),
    });
    expect(created.status).toBe(201);
    const togo = await fetch(`${first.url}/v1/backends/demo-sftptogo/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'demo_togo_user', displayName: 'Zoë 🚀 日本語', accessLevel: 'read-only', sshKeys: [] }),
    });
    expect(togo.status).toBe(201);
    expect((await togo.json()).password).toEqual(expect.any(String));
    // The cached list goes out as stored bytes: the same bytes as the miss, and their length.
    const lists = [];
    for (const cache of ['MISS', 'HIT']) {
      const res = await fetch(`${first.url}/v1/backends/demo-sftptogo/users`);
      expect(res.headers.get('x-cache')).toBe(cache);
      const bytes = new Uint8Array(await res.arrayBuffer());
      expect(Number(res.headers.get('content-length'))).toBe(bytes.byteLength);
      lists.push(bytes);
    }
    expect(lists[1]).toEqual(lists[0]);
    expect(new TextDecoder().decode(lists[1])).toContain('Zoë 🚀 日本語');
    const health = await (await fetch(`${first.url}/v1/backends/demo-sftptogo`)).json();
    expect(health.health.ok).toBe(true);
    gw.child.kill('SIGTERM');
    expect(await gw.exited).toBe(0);
    expect(gw.lines.map((l) => JSON.parse(l).msg).slice(-2)).toEqual(["shutting down", "stopped"]);
  }, 30_000);

  it("passes the entry what the tests pass it (package.json's start script)", () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    expect(pkg.scripts.start).toMatch(new RegExp(`node --enable-source-maps dist/node\\.js ${NPM_START_ARGS.join(' ')}$`));
  });

  it.each([
    ['without npm start\'s request for demo mode', {}, []],
    ['with an empty GATEWAY_CONFIG, without the request', { GATEWAY_CONFIG: ' ' }, []],
    ['under NODE_ENV=production, even through npm start', { NODE_ENV: 'production' }, NPM_START_ARGS],
    ['under NODE_ENV=production with an empty GATEWAY_CONFIG', { NODE_ENV: 'production', GATEWAY_CONFIG: '' }, NPM_START_ARGS],
  ])('exits 1 within 15 s naming GATEWAY_CONFIG %s, never serving without keys', async (_name, env, args) => {
    const started = Date.now();
    const gw = await start({ PORT: '0', ...env }, args);
    expect(await gw.exited).toBe(1);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(gw.stderr()).toMatch(/GATEWAY_CONFIG is not set/);
    expect(gw.lines.join('\n')).not.toMatch(/DEMO MODE|listening/);
  }, 30_000);

  it('an empty GATEWAY_CONFIG through npm start is no config: demo mode', async () => {
    const gw = await start({ PORT: '0', GATEWAY_CONFIG: '' });
    expect((await gw.firstLine()).msg).toMatch(/^DEMO MODE/);
    gw.child.kill('SIGTERM');
    expect(await gw.exited).toBe(0);
  }, 30_000);

  it('refuses to start on a bad config, naming the field', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-config-'));
    const path = join(dir, 'config.json');
    writeFileSync(path, JSON.stringify({
      auth: { apiKeys: [{ name: 'ops', key: '${OPS_KEY}', scopes: ['read'] }] },
      backends: { onprem: { provider: 'sftpgo', baseUrl: 'http://127.0.0.1:1', sftpPort: 99999 } },
    }));
    const gw = await start({ GATEWAY_CONFIG: path, OPS_KEY: 'ops-key-0123456789abcdef' });
    expect(await gw.exited).toBe(1);
    expect(gw.stderr()).toMatch(/backends\.onprem\.sftpPort/);
    const missing = await start({ GATEWAY_CONFIG: path });
    expect(await missing.exited).toBe(1);
    expect(missing.stderr()).toMatch(/OPS_KEY is not set/);
  }, 30_000);
});
