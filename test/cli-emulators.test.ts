/**
 * `sftp-gateway emulators`: the three provider emulators on loopback, seeded, with a gateway
 * config that check-config passes and a real gateway lists the seeded users through; SIGTERM
 * stops them cleanly. Non-loopback hosts are refused.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildCliOnce, finished, runCli, spawnCli, type CliResult } from './helpers/cli.js';
import { createTestGateway } from './helpers/gateway.js';

let bin: string;
beforeAll(async () => {
  ({ bin } = await buildCliOnce('cli-emulators'));
}, 60_000);

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

interface Printed {
  emulators: Array<{ backend: string; provider: string; url: string; users: number }>;
  config: { defaultBackend: string; auth: { apiKeys: unknown[] }; backends: Record<string, Record<string, unknown>> };
}

/** Starts `emulators --json …` and waits for its JSON; `done` resolves when the process ends. */
async function startEmulators(args: string[] = []): Promise<{ child: ChildProcess; printed: Printed; done: Promise<CliResult> }> {
  const child = spawnCli(bin, ['emulators', '--json', ...args]);
  children.push(child);
  const done = finished(child);
  let text = '';
  const printed = await new Promise<Printed>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
      try {
        resolve(JSON.parse(text) as Printed);
      } catch {
        // not all of it yet
      }
    });
    void done.then((r) => reject(new Error(`exited ${r.code}: ${r.stderr}`)));
  });
  return { child, printed, done };
}

const canConnect = (url: string) => new Promise<boolean>((resolve) => {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  socket.once('connect', () => (socket.destroy(), resolve(true)));
  socket.once('error', () => resolve(false));
});

describe('emulators', () => {
  it('prints each URL and a config that check-config passes and a gateway serves the seeded users through', async () => {
    const { printed } = await startEmulators(['--users', '4']);
    expect(printed.emulators.map((e) => [e.backend, e.provider])).toEqual([['sftptogo', 'sftptogo'], ['sftpgo', 'sftpgo'], ['sftpgo-v2', 'sftpgo']]);
    for (const e of printed.emulators) expect(e.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(printed.emulators.map((e) => e.users)).toEqual([4, 4, 4]);

    // The snippet as a user saves it, with the key it reads from the environment.
    const apiKey = 'local-key-0123456789abcdef';
    const path = join(mkdtempSync(join(tmpdir(), 'cli-emulators-')), 'gateway.json');
    writeFileSync(path, JSON.stringify(printed.config, null, 2));
    const checked = await runCli(bin, ['check-config', '--config', path], { SFTP_GATEWAY_API_KEY: apiKey });
    expect(checked).toMatchObject({ code: 0, stdout: 'ok: 3 backends (sftpgo: sftpgo, sftptogo: sftptogo, sftpgo-v2: sftpgo)\n' });
    expect((await runCli(bin, ['check-config', '--config', path])).stderr).toMatch(/environment variable SFTP_GATEWAY_API_KEY is not set/);

    const gateway = createTestGateway({
      backends: printed.config.backends, defaultBackend: printed.config.defaultBackend,
      apiKeys: [{ name: 'local', key: apiKey, scopes: ['read', 'write', 'admin'] }], nodeTransport: true,
    });
    try {
      const seen: Record<string, string[]> = {};
      for (const backend of Object.keys(printed.config.backends)) {
        const res = await gateway.json('GET', `/v1/backends/${backend}/users?limit=500`, { key: apiKey });
        expect(res.status, backend).toBe(200);
        seen[backend] = (res.body.data as Array<{ username: string; isRoot: boolean }>).filter((u) => !u.isRoot).map((u) => u.username);
      }
      expect(seen).toEqual({
        sftptogo: ['user000001', 'user000002', 'user000003', 'user000004'],
        sftpgo: ['user00001', 'user00002', 'user00003', 'user00004'],
        'sftpgo-v2': ['user00001', 'user00002', 'user00003', 'user00004'],
      });
      // The credentials are this run's: a wrong one is refused upstream.
      const wrong = createTestGateway({
        backends: { sftptogo: { ...printed.config.backends.sftptogo, apiKey: 'not-the-key' } }, apiKeys: [{ name: 'local', key: apiKey, scopes: ['read'] }],
      });
      expect((await wrong.json('GET', '/v1/users', { key: apiKey })).status).toBe(502);
    } finally {
      await gateway.close();
    }
  }, 30_000);

  it('stops on SIGTERM: exit 0, every port closed', async () => {
    const { child, printed, done } = await startEmulators();
    for (const e of printed.emulators) expect(await canConnect(e.url)).toBe(true);
    child.kill('SIGTERM');
    const result = await done;
    expect(result).toMatchObject({ signal: null });
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/SIGTERM: emulators stopped/);
    for (const e of printed.emulators) expect(await canConnect(e.url)).toBe(false);
  });

  it('listens on the ports asked for, and prints a table and the config for people', async () => {
    const ports = await Promise.all([freePort(), freePort(), freePort()]);
    const child = spawnCli(bin, ['emulators', '--sftptogo-port', String(ports[0]), '--sftpgo-port', String(ports[1]), '--sftpgo-v2-port', String(ports[2])]);
    children.push(child);
    const done = finished(child);
    let text = '';
    await new Promise<void>((resolve) => child.stdout!.on('data', (c: Buffer) => ((text += c.toString('utf8')), text.trimEnd().endsWith('}') && resolve())));
    expect(text).toContain(`sftptogo   http://127.0.0.1:${ports[0]}`);
    expect(text).toContain(`http://127.0.0.1:${ports[1]}`);
    expect(text).toContain(`http://127.0.0.1:${ports[2]}`);
    expect(text).toContain('"key": "${SFTP_GATEWAY_API_KEY}"');
    child.kill('SIGINT');
    expect((await done).code).toBe(0);
  });

  it('refuses a host that is not loopback (exit 2), and a port in use (exit 1)', async () => {
    for (const host of ['0.0.0.0', '192.0.2.10', 'example.com']) {
      const result = await runCli(bin, ['emulators', '--host', host]);
      expect(result.code, host).toBe(2);
      expect(result.stderr).toMatch(/not a loopback address/);
    }
    const { printed } = await startEmulators();
    const taken = new URL(printed.emulators[1]!.url).port;
    const clash = await runCli(bin, ['emulators', '--sftpgo-port', taken]);
    expect(clash.code).toBe(1);
    expect(clash.stderr).toMatch(new RegExp(`cannot listen on 127\\.0\\.0\\.1:${taken}: the port is in use`));
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
