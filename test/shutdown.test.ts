/**
 * Graceful shutdown of the Node entry, as a child process (`npm start`'s command) in front of an
 * SFTPGo emulator served over a real socket from this process, whose answers are delayed so
 * that requests are in flight when the signal comes.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnNodeEntry } from './helpers/node-entry.js';
import { createSftpgoEmulator, serveSftpgoEmulator, type SftpgoEmulator } from '../adapters/sftpgo/emulator/emulator.js';
import type { ServedEmulator } from '../src/provider-kit/emulator-kit.js';

const OPS_KEY = 'ops-key-0123456789abcdef';
const children: ChildProcess[] = [];
const servers: ServedEmulator[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** An emulator on a real socket, and the gateway in a child process with a config file pointing to it. */
async function startGateway(opts: { server?: Record<string, unknown>; env?: Record<string, string> } = {}) {
  const emu: SftpgoEmulator = createSftpgoEmulator();
  const served = await serveSftpgoEmulator(emu);
  servers.push(served);
  const dir = mkdtempSync(join(tmpdir(), 'gw-shutdown-'));
  const path = join(dir, 'config.json');
  writeFileSync(path, JSON.stringify({
    server: { host: '127.0.0.1', port: 0, ...opts.server },
    auth: { apiKeys: [{ name: 'ops', key: '${OPS_KEY}', scopes: ['read', 'write', 'admin'] }] },
    cache: { driver: 'none' }, // every request reaches the (slow) upstream
    backends: { onprem: { provider: 'sftpgo', baseUrl: served.url, sftpHost: 'sftp.example.com' } },
  }));
  const { GATEWAY_CONFIG: _c, PORT: _p, HOST: _h, SHUTDOWN_GRACE_MS: _g, LOG_LEVEL: _l, ...inherited } = process.env;
  const child = await spawnNodeEntry('shutdown', {
    env: { ...inherited, GATEWAY_CONFIG: path, OPS_KEY, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const lines: Record<string, unknown>[] = [];
  let stderr = '';
  // A chunk may end inside a line (a busy log stream): keep the partial line for the next chunk.
  let partial = '';
  child.stdout!.on('data', (d) => {
    const parts = (partial + String(d)).split('\n');
    partial = parts.pop()!;
    for (const line of parts.filter(Boolean)) lines.push(JSON.parse(line));
  });
  child.stderr!.on('data', (d) => (stderr += String(d)));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  await until('the listening line', () => lines.some((l) => typeof l.url === 'string') || child.exitCode !== null);
  const url = lines.find((l) => typeof l.url === 'string')?.url as string | undefined;
  if (!url) {
    await exited; // all of stderr is in
    throw new Error(`the gateway did not start: ${stderr}`);
  }
  const logged = (msg: string | RegExp) =>
    lines.find((l) => (typeof msg === 'string' ? l.msg === msg : msg.test(String(l.msg))));
  return { emu, child, url, port: Number(new URL(url).port), lines, exited, logged, stderr: () => stderr };
}

/** A new TCP connection to the port: resolves 'connected' or the error code (ECONNREFUSED). */
function tryConnect(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket: Socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

const listUsers = (url: string) =>
  fetch(`${url}/v1/backends/onprem/users`, { headers: { authorization: `Bearer ${OPS_KEY}` } });

describe('graceful shutdown (SIGTERM)', () => {
  it('finishes every request in flight, refuses new connections, closes idle keep-alive sockets and exits 0', async () => {
    const gw = await startGateway();
    gw.emu.seedUsers(3, 'shutdown_');

    // An idle keep-alive connection, opened before the signal: it must not hold the shutdown open.
    const agent = new Agent({ keepAlive: true });
    let idleClosed = false;
    await new Promise<void>((resolve, reject) => {
      const req = httpRequest(`${gw.url}/healthz`, { agent }, (res) => {
        res.resume();
        res.on('end', resolve);
      });
      req.on('socket', (s) => s.once('close', () => (idleClosed = true)));
      req.on('error', reject);
      req.end();
    });

    gw.emu.setFaults({ delayMs: 800 });
    const inFlight = Array.from({ length: 10 }, () => listUsers(gw.url));
    // Each has reached the upstream (the emulator logs a request before delaying it).
    await until('10 requests upstream', () => gw.emu.requests.filter((r) => r.path === '/api/v1/user').length >= 10);

    const signalled = Date.now();
    gw.child.kill('SIGTERM');
    await until('the shutdown line', () => gw.logged('shutting down') !== undefined);
    expect(gw.logged('shutting down')).toMatchObject({ signal: 'SIGTERM', graceMs: 10_000, inFlight: 10 });

    // No new connection is accepted while the in-flight ones finish.
    expect(await tryConnect(gw.port)).toBe('ECONNREFUSED');
    await until('the idle keep-alive socket to close', () => idleClosed, 2000);

    const answers = await Promise.all(inFlight);
    expect(answers.map((r) => r.status)).toEqual(Array(10).fill(200));
    // Each answer closes its keep-alive socket: the client reconnects to another instance.
    expect(answers.map((r) => r.headers.get('connection'))).toEqual(Array(10).fill('close'));
    for (const r of answers) expect(((await r.json()) as { data: unknown[] }).data).toHaveLength(3);

    expect(await gw.exited).toBe(0);
    // Well within the 10 s grace: nothing (the idle socket included) held the close open.
    expect(Date.now() - signalled).toBeLessThan(5000);
    expect(gw.logged(/grace period .* ran out/)).toBeUndefined();
    expect(gw.lines.at(-1)).toMatchObject({ msg: 'stopped', clean: true, cacheClosed: true });
    const requestLines = gw.lines.filter((l) => l.msg === 'request' && l.route === '/v1/backends/:backend/users');
    expect(requestLines.map((l) => l.status)).toEqual(Array(10).fill(200));
    agent.destroy();
  }, 30_000);

  it('cuts what is still in flight when the grace period runs out, says how many, and exits 1', async () => {
    // The env override wins over the config file's grace period.
    const gw = await startGateway({ server: { shutdownGraceMs: 20_000 }, env: { SHUTDOWN_GRACE_MS: '300' } });
    gw.emu.setFaults({ delayMs: 5000 });
    const inFlight = Array.from({ length: 4 }, () => listUsers(gw.url).then((r) => r.status, () => 'cut'));
    await until('4 requests upstream', () => gw.emu.requests.filter((r) => r.path === '/api/v1/user').length >= 4);

    const signalled = Date.now();
    gw.child.kill('SIGTERM');
    expect(await gw.exited).toBe(1);
    expect(Date.now() - signalled).toBeLessThan(3000);
    expect(gw.logged('shutting down')).toMatchObject({ graceMs: 300, inFlight: 4 });
    const cut = gw.logged(/grace period of 300 ms ran out/);
    expect(cut).toMatchObject({ level: 'error', graceMs: 300, cutRequests: 4, cutConnections: 4 });
    expect(String(cut!.msg)).toContain('cut 4 in-flight request(s)');
    expect(gw.lines.at(-1)).toMatchObject({ msg: 'stopped', clean: false });
    expect(await Promise.all(inFlight)).toEqual(Array(4).fill('cut'));
  }, 30_000);

  it.each([
    ['stalled (its reader stops reading)', (child: ChildProcess) => child.stdout!.pause()],
    ['closed (its reader is gone)', (child: ChildProcess) => child.stdout!.destroy()],
  ])('with a stdout %s: requests go on, and SIGTERM ends it within the grace period', async (_name, breakStdout) => {
    const gw = await startGateway();
    breakStdout(gw.child);
    // Far more log lines than a pipe holds (64 KiB): every request writes one.
    const agent = new Agent({ keepAlive: true, maxSockets: 8 });
    const get = () => new Promise<number>((resolve, reject) => {
      httpRequest(`${gw.url}/healthz`, { agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      }).on('error', reject).end();
    });
    for (let round = 0; round < 20; round++) {
      const statuses = await Promise.all(Array.from({ length: 100 }, get));
      expect(statuses).toEqual(Array(100).fill(200));
    }
    expect((await listUsers(gw.url)).status).toBe(200);
    agent.destroy();
    const signalled = Date.now();
    gw.child.kill('SIGTERM');
    // Before: a stalled stdout held the exit for ever (only SIGKILL ended it).
    expect(await Promise.race([gw.exited, new Promise((r) => setTimeout(() => r('still running'), 10_000))])).toBe(0);
    expect(Date.now() - signalled).toBeLessThan(3000);
  }, 40_000);

  it('refuses a SHUTDOWN_GRACE_MS that is not a number of milliseconds, naming it', async () => {
    await expect(startGateway({ env: { SHUTDOWN_GRACE_MS: 'soon' } })).rejects.toThrow(/SHUTDOWN_GRACE_MS/);
  }, 30_000);
});
