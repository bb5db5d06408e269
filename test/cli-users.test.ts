/**
 * `sftp-gateway users …` as users run it, against a real gateway app on an ephemeral port (auth
 * on) in front of the SFTPGo and SFTP To Go emulators: tables and JSON, paging, one-time
 * passwords, and every kind of failure (problem answers, a wrong key, nothing listening).
 */
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSftpgoEmulator, type SftpgoEmulator } from '../adapters/sftpgo/emulator/emulator.js';
import { createSftpToGoEmulator, type SftpToGoEmulator } from '../adapters/sftptogo/emulator/emulator.js';
import { buildCliOnce, runCli } from './helpers/cli.js';
import { KEYS, bothProviders, type TestGateway } from './helpers/gateway.js';

let bin: string;
let sftpgo: SftpgoEmulator;
let togo: SftpToGoEmulator;
let gw: TestGateway;
let server: ServerType;
let url: string;
/** What reached the gateway: method and path with query. */
const requests: string[] = [];

beforeAll(async () => {
  ({ bin } = await buildCliOnce('cli-users'));
  sftpgo = createSftpgoEmulator();
  togo = createSftpToGoEmulator();
  gw = bothProviders(sftpgo, togo, { cache: 'none' });
  server = await new Promise<ServerType>((resolve) => {
    const s = serve({
      fetch: (req, env) => {
        const u = new URL(req.url);
        requests.push(`${req.method} ${u.pathname}${u.search}`);
        return gw.app.fetch(req, env);
      },
      hostname: '127.0.0.1', port: 0,
    }, () => resolve(s));
  });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 60_000);
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

beforeEach(() => {
  sftpgo.reset();
  sftpgo.seedUsers(5);
  togo.reset();
  requests.length = 0;
});

/** `sftp-gateway users …` against the test gateway with the ops key, unless `env` says otherwise. */
const users = (args: string[], env: Record<string, string> = {}) =>
  runCli(bin, ['users', ...args], { SFTP_GATEWAY_URL: url, SFTP_GATEWAY_API_KEY: KEYS.ops, ...env });

describe('users list', () => {
  it('prints an aligned table of every user, and a count', async () => {
    sftpgo.users.get(2)!.status = 0;
    const result = await users(['list']);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+USERNAME\s+STATUS\s+ACCESS LEVEL\s+SSH KEYS\s+HOME DIRECTORY$/);
    expect(lines.slice(1, 6).map((l) => l.split(/\s+/).slice(0, 5))).toEqual([
      ['1', 'user00001', 'active', 'full', '0'],
      ['2', 'user00002', 'disabled', 'full', '0'],
      ['3', 'user00003', 'active', 'full', '0'],
      ['4', 'user00004', 'active', 'full', '0'],
      ['5', 'user00005', 'active', 'full', '0'],
    ]);
    // Aligned: every column starts where its header does.
    for (const header of ['USERNAME', 'STATUS', 'ACCESS LEVEL', 'HOME DIRECTORY']) {
      const at = lines[0]!.indexOf(header);
      for (const line of lines.slice(1, 6)) expect(line[at - 1], `${header} in ${line}`).toBe(' ');
      for (const line of lines.slice(1, 6)) expect(line[at], `${header} in ${line}`).not.toBe(' ');
    }
    expect(lines[6]).toBe('5 users');
  });

  it('--json pages through every user with --limit 2, following nextCursor', async () => {
    const result = await users(['list', '--json', '--limit', '2']);
    expect(result.code).toBe(0);
    const listed = JSON.parse(result.stdout) as Array<{ id: string; username: string; backend: string }>;
    expect(listed.map((u) => u.username)).toEqual(['user00001', 'user00002', 'user00003', 'user00004', 'user00005']);
    expect(listed[0]).toMatchObject({ id: '1', backend: 'onprem', provider: 'sftpgo', accessLevel: 'full' });
    expect(requests).toHaveLength(3);
    expect(requests[0]).toBe('GET /v1/users?limit=2');
    for (const r of requests.slice(1)) expect(r).toMatch(/^GET \/v1\/users\?limit=2&cursor=[\w-]+$/);
  });

  it('stops at --max, and passes the filters on', async () => {
    const first = await users(['list', '--json', '--limit', '2', '--max', '3']);
    expect((JSON.parse(first.stdout) as unknown[]).length).toBe(3);
    expect(requests).toHaveLength(2);
    const table = await users(['list', '--limit', '2', '--max', '3']);
    expect(table.stdout.trimEnd().split('\n').at(-1)).toBe('3 users (more on the gateway: raise --max)');

    sftpgo.users.get(4)!.status = 0;
    requests.length = 0;
    const disabled = await users(['list', '--json', '--status', 'disabled', '--order', 'desc']);
    expect((JSON.parse(disabled.stdout) as Array<{ username: string }>).map((u) => u.username)).toEqual(['user00004']);
    expect(requests).toEqual(['GET /v1/users?status=disabled&order=desc']);
    const one = await users(['list', '--json', '--username', 'user00003']);
    expect((JSON.parse(one.stdout) as Array<{ id: string }>).map((u) => u.id)).toEqual(['3']);
  });

  it('addresses a named backend with --backend', async () => {
    const result = await users(['list', '--json', '--backend', 'togo']);
    expect(result.code).toBe(0);
    const listed = JSON.parse(result.stdout) as Array<{ backend: string; isRoot: boolean }>;
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ backend: 'togo', isRoot: true });
    expect(requests).toEqual(['GET /v1/backends/togo/users']);
  });

  it('says "no users" for an empty list', async () => {
    sftpgo.reset();
    expect((await users(['list'])).stdout).toBe('no users\n');
    expect((await users(['list', '--json'])).stdout).toBe('[]\n');
  });
});

describe('users get, create, rotate-password', () => {
  it('get prints one user as fields, or the API\'s JSON', async () => {
    const table = await users(['get', '3']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^id\s+3$/m);
    expect(table.stdout).toMatch(/^username\s+user00003$/m);
    expect(table.stdout).toMatch(/^homeDirectory\s+\/srv\/sftpgo\/data\/user00003$/m);
    const json = await users(['get', '3', '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ id: '3', username: 'user00003', backend: 'onprem', status: 'active' });
  });

  it('create with a generated password prints it once, saying it will not be shown again', async () => {
    const result = await users(['create', 'cli-created-user', '--access-level', 'read-only', '--backend', 'togo']);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const password = /^password\s+(\S+)$/m.exec(result.stdout)?.[1];
    expect(password).toBeDefined();
    expect(result.stdout.split(password!)).toHaveLength(2); // exactly once
    expect(result.stdout).toContain('will not be shown again');
    expect(result.stdout).toMatch(/^created user \S+ \(cli-created-user\) on backend togo$/m);
    expect(result.stdout).toMatch(/^accessLevel\s+read-only$/m);
    const stored = [...togo.credentials.values()].find((c) => c.UserName === 'cli-created-user');
    expect(stored?.Password).toBe(password);

    const json = await users(['create', 'cli-json-user1', '--access-level', 'read-write', '--backend', 'togo', '--json']);
    const created = JSON.parse(json.stdout) as { username: string; password: string };
    expect(created.username).toBe('cli-json-user1');
    expect(created.password).toBe([...togo.credentials.values()].find((c) => c.UserName === 'cli-json-user1')?.Password);
  });

  it('create with a chosen password prints no password', async () => {
    const chosen = 'a-chosen-passphrase-1234';
    const result = await users(['create', 'chosen', '--access-level', 'read-write', '--password', chosen]);
    expect(result.code).toBe(0);
    expect(result.stdout).not.toContain(chosen);
    expect(result.stdout).not.toContain('will not be shown again');
    expect([...sftpgo.users.values()].find((u) => u.username === 'chosen')?.password).toBe(chosen);
  });

  it('rotate-password prints the new password once', async () => {
    const before = sftpgo.users.get(2)!.password;
    const result = await users(['rotate-password', '2']);
    expect(result.code).toBe(0);
    const password = /^password\s+(\S+)$/m.exec(result.stdout)?.[1];
    expect(password).toBeDefined();
    expect(password).not.toBe(before);
    expect(sftpgo.users.get(2)!.password).toBe(password);
    expect(result.stdout.split(password!)).toHaveLength(2);
    expect(result.stdout).toContain('will not be shown again');
    const json = await users(['rotate-password', '2', '--json']);
    expect(JSON.parse(json.stdout)).toEqual({ password: sftpgo.users.get(2)!.password, rotatedAt: expect.any(String) });
  });
});

describe('users: failures', () => {
  it('a 404 prints the problem\'s title and detail on stderr, exit 1', async () => {
    const result = await users(['get', '999']);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^error: Not found \(404\): .+/);
    expect(result.stderr).toMatch(/request id: \S+/);
  });

  it('a 422 prints the problem and its field errors', async () => {
    const result = await users(['create', 'bad', '--access-level', 'read-only', '--backend', 'togo']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error: Not supported by provider \(422\): .+/);
    expect(result.stderr).toMatch(/^ {2}username: .+/m);
  });

  it('a 400 lists each field error', async () => {
    const result = await users(['create', 'no-access-level']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error: Invalid request \(400\)/);
    expect(result.stderr).toMatch(/^ {2}accessLevel: /m);
  });

  it('an unknown backend is a 404 naming it', async () => {
    const result = await users(['list', '--backend', 'nowhere']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error: Not found \(404\): .*nowhere/);
  });

  it('a wrong API key exits 1 with the problem\'s title; none at all says which variable to set', async () => {
    const wrong = await users(['list'], { SFTP_GATEWAY_API_KEY: 'wrong-key-0123456789abcdef' });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/^error: Unauthorized \(401\)/);
    expect(wrong.stderr).not.toContain('wrong-key-0123456789abcdef');
    const none = await users(['list'], { SFTP_GATEWAY_API_KEY: '' });
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('set SFTP_GATEWAY_API_KEY');
  });

  it('a gateway that is not there: connection refused, exit 1', async () => {
    const closed = await new Promise<number>((resolve) => {
      const s = serve({ fetch: () => new Response(), hostname: '127.0.0.1', port: 0 }, (info) => s.close(() => resolve(info.port)));
    });
    const result = await users(['list', '--url', `http://127.0.0.1:${closed}`]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`error: cannot reach the gateway at http://127.0.0.1:${closed}: connection refused (is it running? set --url or SFTP_GATEWAY_URL)\n`);
  });

  it('bad usage exits 2 without calling the gateway', async () => {
    for (const args of [['list', '--limit', '0'], ['list', '--status', 'gone'], ['get'], ['create', 'x', '--access-level', 'all'], ['list', '--url', 'ftp://x'], ['frobnicate']]) {
      const result = await users(args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr, args.join(' ')).toMatch(/error/);
    }
    expect(requests).toEqual([]);
  });
});
