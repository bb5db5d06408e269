/**
 * Replays every exchange recorded with a real SFTPGo 1.2.2 (shared/reference/sftpgo-1.2.2-recorded)
 * against the emulator, each on a fresh emulator in the state the recording was taken in (the
 * recordings were taken in sequence on one server; that state is set through the backdoor), and
 * checks status, content type, `Www-Authenticate` and body, byte for byte.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSftpgoEmulator } from '../adapters/sftpgo/emulator/emulator.js';
import type { SftpgoEmulator, SftpgoEmulatorOptions, SftpgoStoredUser } from '../adapters/sftpgo/emulator/emulator.js';
import { ADMIN, E2E_KEY, RECORDINGS, readExchange, type RecordedRequest, type RecordedResponse } from './helpers/sftpgo-recordings.js';

// --- replaying --------------------------------------------------------------------------------------

function emulator(opts: SftpgoEmulatorOptions = {}): SftpgoEmulator {
  return createSftpgoEmulator({ basicAuth: ADMIN, seedConnections: false, ...opts });
}

async function send(emu: SftpgoEmulator, request: RecordedRequest): Promise<Response> {
  const headers: Record<string, string> = { ...request.headers };
  if (request.auth) headers.authorization = `Basic ${btoa(request.auth)}`;
  return emu.fetch(request.target, { method: request.method, headers, body: request.body });
}

/** The emulator's answer must be the recorded one: status, content type, auth challenge, body bytes. */
async function expectRecorded(file: string, res: Response, recorded: RecordedResponse): Promise<void> {
  const text = await res.text();
  const where = `${file}: ${res.status} ${text}`;
  expect(res.status, where).toBe(recorded.status);
  expect(res.headers.get('content-type'), `${file}: content-type`).toBe(recorded.headers['content-type'] ?? null);
  expect(res.headers.get('www-authenticate'), `${file}: www-authenticate`).toBe(recorded.headers['www-authenticate'] ?? null);
  if (recorded.body === '') {
    expect(text, `${file}: body`).toBe('');
    return;
  }
  if (!recorded.body.includes('/srv/sftpgo/data/')) {
    expect(new TextEncoder().encode(recorded.body).length, `${file}: recorded Content-Length`).toBe(Number(recorded.headers['content-length']));
  }
  expect(JSON.parse(text), `${file}: body`).toEqual(JSON.parse(recorded.body));
  expect(text, `${file}: body bytes (field order, trailing newline)`).toBe(recorded.body);
}

// --- the server's state when each exchange was recorded ---------------------------------------------

/** A stored 1.x user with Go's zero values, as the server would hold it. */
function stored(fields: Partial<SftpgoStoredUser> & Pick<SftpgoStoredUser, 'id' | 'username'>): SftpgoStoredUser {
  return {
    status: 1, expiration_date: 0, public_keys: null, home_dir: `/srv/sftpgo/data/${fields.username}`, uid: 0, gid: 0,
    max_sessions: 0, quota_size: 0, quota_files: 0, permissions: { '/': ['*'] }, used_quota_size: 0, used_quota_files: 0,
    last_quota_update: 0, upload_bandwidth: 0, download_bandwidth: 0, last_login: 0, filters: {},
    filesystem: { provider: 0, s3config: {}, gcsconfig: {}, azblobconfig: {} }, virtual_folders: null, ...fields,
  };
}

/** User 1 as create-map-shape.txt made it. */
function rawMap(fields: Partial<SftpgoStoredUser> = {}): SftpgoStoredUser {
  return stored({
    id: 1, username: 'raw_map', password: 'Passw0rd-raw-1', public_keys: [E2E_KEY], max_sessions: 2, quota_size: 1048576,
    quota_files: 10, upload_bandwidth: 100, download_bandwidth: 200, permissions: { '/': ['list', 'download'] }, ...fields,
  });
}

/** User 24 as create-keyonly-nopw.txt made it. */
const rawKeyOnly = () => stored({ id: 24, username: 'raw_keyonly', public_keys: [E2E_KEY] });

/** The end-to-end suite's expired users that list-offset-neg.txt shows. */
function e2eExpired(id: number, username: string): SftpgoStoredUser {
  const permissions = { '/': ['list', 'download', 'upload', 'overwrite', 'delete', 'rename', 'create_dirs'] };
  return stored({ id, username, password: 'e2e-Passw0rd', expiration_date: 1577836800000, permissions });
}

function withUsers(...list: SftpgoStoredUser[]): (emu: SftpgoEmulator) => void {
  return (emu) => {
    for (const user of list) emu.users.set(user.id, user);
  };
}

interface Replay {
  options?: SftpgoEmulatorOptions;
  setup?: (emu: SftpgoEmulator) => void;
  /** For a file that is not one curl call. */
  custom?: (file: string) => Promise<void>;
}

const REPLAYS: Record<string, Replay> = {
  'close-conn-missing.txt': {},
  'connections.txt': {},
  'create-bad-perm.txt': {},
  'create-badkey.txt': {},
  'create-gateway-shape-star.txt': {},
  'create-gateway-shape.txt': {},
  // ids 19..23 were taken when it ran; 24 is next
  'create-keyonly-nopw.txt': { setup: withUsers(rawMap(), e2eExpired(19, 'e2e_exp'), e2eExpired(22, 'e2e2_exp'), stored({ id: 23, username: 'e2e_last' })) },
  'create-map-shape.txt': {},
  'create-no-home.txt': { setup: withUsers(rawMap(), rawKeyOnly()) },
  'create-nopw-nokey.txt': {},
  'create-relative-home.txt': {},
  'create-status-2.txt': {},
  'duplicate-memory.txt': { custom: replayDuplicateMemory },
  'duplicate-sqlite.txt': { setup: withUsers(rawMap()) },
  'get-1-after-empty-pw.txt': { setup: withUsers(rawMap({ password: undefined })) },
  'get-1-after-partial.txt': { setup: withUsers(rawMap({ status: 0 })) },
  'get-1.txt': { setup: withUsers(rawMap()) },
  'get-999.txt': { setup: withUsers(rawMap()) },
  'get-abc.txt': {},
  'list-badorder.txt': { setup: withUsers(rawMap()) },
  'list-default.txt': { setup: withUsers(rawMap()) },
  'list-limit-abc.txt': {},
  'list-limit-neg.txt': { setup: withUsers(rawMap()) },
  'list-limit0.txt': { setup: withUsers(rawMap()) },
  'list-offset-neg.txt': { setup: withUsers(rawMap(), e2eExpired(19, 'e2e_exp'), e2eExpired(22, 'e2e2_exp'), rawKeyOnly()) },
  'list-username-missing.txt': { setup: withUsers(rawMap()) },
  'list-username.txt': { setup: withUsers(rawMap()) },
  'not-found-path.txt': {},
  'providerstatus.txt': {},
  'put-empty-password.txt': { setup: withUsers(rawMap()) },
  'put-keyonly-empty-keys.txt': { setup: withUsers(rawMap(), rawKeyOnly()) },
  'put-noid.txt': { setup: withUsers(rawMap({ status: 0 })) },
  'put-partial-status.txt': { setup: withUsers(rawMap()) },
  'put-rename.txt': { custom: replayPutRename },
  'put-wrong-id.txt': { setup: withUsers(rawMap()) },
  'quota-scans.txt': {},
  'unauth.txt': { setup: withUsers(rawMap()) },
  'version.txt': {},
  'wrong-method.txt': { setup: withUsers(rawMap()) },
};

/** put-rename.txt: the PUT's answer, then user 1 as read right after: the username did not change. */
async function replayPutRename(file: string): Promise<void> {
  const { request, response, rest } = readExchange(file);
  const emu = emulator();
  withUsers(rawMap())(emu);
  await expectRecorded(file, await send(emu, request), response);
  const after = await send(emu, { method: 'GET', target: '/api/v1/user/1', auth: request.auth, headers: {} });
  const text = await after.text();
  expect(after.status, `${file}: GET after`).toBe(200);
  expect(JSON.parse(text), `${file}: GET after`).toEqual(JSON.parse(rest.trim()));
  expect(text, `${file}: GET after, bytes`).toBe(`${rest.trim()}\n`);
}

/**
 * duplicate-memory.txt holds two answers from a memory-provider server (body, then ` <status>`):
 * the first create (cut short in the file) and the same create again.
 */
async function replayDuplicateMemory(file: string): Promise<void> {
  const [firstBody = '', firstStatus = '', secondBody = '', secondStatus = ''] = readFileSync(resolve(RECORDINGS, file), 'utf8').split('\n');
  const emu = emulator({ dataProvider: 'memory' });
  const create = {
    method: 'POST', target: '/api/v1/user', auth: `${ADMIN.username}:${ADMIN.password}`, headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ status: 1, username: 'memdup', password: 'Passw0rd-mem-1', home_dir: '/srv/sftpgo/data/memdup', permissions: { '/': ['*'] } }),
  };
  const first = await send(emu, create);
  const firstText = await first.text();
  expect(first.status, `${file}: first create`).toBe(Number(firstStatus.trim()));
  expect(firstText.startsWith(firstBody), `${file}: first create body ${firstText}`).toBe(true);
  const second = await send(emu, create);
  expect(second.status, `${file}: duplicate`).toBe(Number(secondStatus.trim()));
  expect(second.headers.get('content-type')).toBe('application/json; charset=utf-8');
  expect(await second.text(), `${file}: duplicate body`).toBe(`${secondBody}\n`);
}

// --- the tests ----------------------------------------------------------------------------------

const files = readdirSync(RECORDINGS).filter((f) => f.endsWith('.txt')).sort();

describe('SFTPGo 1.2.2 recordings, replayed against the emulator', () => {
  it('finds the recordings, and has a replay for each and no other', () => {
    expect(files.length).toBeGreaterThan(30);
    expect(files.filter((f) => !(f in REPLAYS)), 'recordings without a replay').toEqual([]);
    expect(Object.keys(REPLAYS).filter((f) => !files.includes(f)), 'replays without a recording').toEqual([]);
  });

  it.each(files)('%s', async (file) => {
    const replay = REPLAYS[file];
    if (!replay) throw new Error(`${file}: no replay for this recording`);
    if (replay.custom) return replay.custom(file);
    const { request, response } = readExchange(file);
    const emu = emulator(replay.options);
    replay.setup?.(emu);
    await expectRecorded(file, await send(emu, request), response);
  });
});
