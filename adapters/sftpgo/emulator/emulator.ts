/**
 * An in-memory SFTPGo REST API (`/api/v1`), quirks included, for tests and demo mode.
 *
 * By default it answers as a real SFTPGo 1.2.2 does (the exchanges recorded in
 * shared/reference/sftpgo-1.2.2-recorded): `permissions` is a map of directory to list, users carry
 * `filters` and `filesystem`, `POST /user` is a 200 with the user read back, a duplicate username
 * is a 500, `PUT /user/{id}` decodes the body onto the stored user, answers carry no `status`.
 * `version: '0.9.4'` (any 0.x) answers in the seed document's older shape instead, as this
 * emulator always did: one flat permission list, `ApiResponse` with `status`, a quota scan is a 201.
 * Faults, the request log and the `/__emulator` control API come from the shared emulator kit.
 *
 * @example
 * const emu = createSftpgoEmulator({ scanDurationMs: 20 });
 * const res = await emu.fetch('/api/v1/user', { method: 'POST', body: JSON.stringify(user) });
 * emu.setFaults({ status: 503, times: 1 });
 * const { url, close } = await serveSftpgoEmulator(emu); // url is the server root
 */
import { Hono } from 'hono';
import type { Context, MiddlewareHandler } from 'hono';
import { createEmulatorKit, serveEmulatorApp } from '../../../src/provider-kit/emulator-kit.js';
import type { EmulatorFaults, FetchLike, RecordedRequest, ServedEmulator } from '../../../src/provider-kit/emulator-kit.js';
import { goJsonText } from './gojson.js';
import { goQuote, pathJoin } from './gostd.js';
import { blankDraftV0, blankDraftV1, localFilesystem } from './user.js';
import type { SftpgoStoredUser, UserDraftV0, UserDraftV1 } from './user.js';
import { createUserRoutes, decodeBodyV0, decodeBodyV1 } from './users.js';
import type { ValidationEnv } from './validate.js';

export type { EmulatorFaults, FaultMatch, FetchLike, RecordedRequest } from '../../../src/provider-kit/emulator-kit.js';
export type { SftpgoStoredUser } from './user.js';

/** How the emulator behaves; every option has a default. */
export interface SftpgoEmulatorOptions {
  /** The SFTPGo version to be: 1.x answers as 1.2.2 does, 0.x in the seed document's (0.9.4) shape. @default '1.2.2' */
  version?: string;
  /** The data provider behind the API (1.x): it words the duplicate and not-found errors. @default 'sqlite' */
  dataProvider?: 'sqlite' | 'memory';
  /** `users_base_dir` (1.x): a user created without `home_dir` gets `<usersBaseDir>/<username>`. @default '/srv/sftpgo/data' */
  usersBaseDir?: string;
  /** How long a quota scan runs. @default 300 */
  scanDurationMs?: number;
  /** When set, every request (but `/__emulator`) needs this HTTP basic auth, else 401. */
  basicAuth?: { username: string; password: string };
  /** Answer `GET /version` with an array of one, as the 0.x document says (the server sends an object). @default false */
  versionAsArray?: boolean;
  /** Start with three fake connections. @default true */
  seedConnections?: boolean;
}

/** An emulator: a Hono app plus its backdoor. */
export interface SftpgoEmulator {
  /** Mount or serve it; the API lives under `/api/v1`, the control API under `/__emulator`. */
  app: Hono;
  /** In-process stand-in for the global `fetch` (relative URLs allowed). */
  fetch: FetchLike;
  /** The SFTPGo version it answers as, e.g. `'1.2.2'`. */
  version: string;
  /** Backdoor state, keyed by id. Changes show in the API at once. */
  users: Map<number, SftpgoStoredUser>;
  /** `ConnectionStatus` objects, as `GET /connection` returns them. */
  connections: Array<Record<string, unknown>>;
  /** Every `/api/v1` request, oldest first. */
  requests: RecordedRequest[];
  clearRequests(): void;
  setFaults(faults: EmulatorFaults | null): void;
  /** Makes `GET /providerstatus` answer 500 (other routes keep working). */
  setProviderDown(down: boolean): void;
  /** What the next quota scan of `username` finds on disk. */
  setStored(username: string, bytes: number, files: number): void;
  /** Adds `n` valid users named `${prefix}00001`… (existing names are skipped). */
  seedUsers(n: number, prefix?: string): void;
  /** Back to the initial state: no users, ids from 1, seed connections, no scans, faults or log. */
  reset(): void;
}

const API_PREFIX = '/api/v1';
const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8' };
const FEATURES = ['+metrics', '+azblob', '+gcs', '+s3', '+bolt', '+mysql', '+pgsql', '+sqlite', '+portable'];
const GCS_CREDENTIALS_DIR = '/var/lib/sftpgo/credentials';
const KNOWN_PATHS = [
  /^\/api\/v1\/(version|providerstatus|connection|quota_scan|user)$/,
  /^\/api\/v1\/(connection|user)\/[^/]+$/,
];

interface RunningScan {
  username: string;
  start_time: number;
  timer: ReturnType<typeof setTimeout>;
}

interface FolderRecord {
  id: number;
  used_quota_size: number;
  used_quota_files: number;
  last_quota_update: number;
}

/** A fresh emulator (see the module comment); `opts.version` picks the 1.x or the 0.x shape. */
export function createSftpgoEmulator(opts: SftpgoEmulatorOptions = {}): SftpgoEmulator {
  const { version = '1.2.2', dataProvider = 'sqlite', usersBaseDir = '/srv/sftpgo/data', scanDurationMs = 300 } = opts;
  const { basicAuth, versionAsArray = false, seedConnections = true } = opts;
  const legacy = /^v?0\./.test(version);
  const users = new Map<number, SftpgoStoredUser>();
  const connections: Array<Record<string, unknown>> = [];
  const scans: RunningScan[] = [];
  const stored = new Map<string, { bytes: number; files: number }>();
  const gcsCredentials = new Set<string>();
  const folders = new Map<string, FolderRecord>();
  let highestId = 0; // SQLite AUTOINCREMENT never hands an id out twice
  let providerDown = false;

  const kit = createEmulatorKit({ apiPrefix: API_PREFIX, errorBody: (status, error) => apiBody(status, '', error) });

  // --- answers in the version's shape --------------------------------------------------------

  /** The server's `ApiResponse`: 1.x `{error?, message}`, 0.x `{error, message, status}`. */
  function apiBody(status: number, message: string, error = ''): Record<string, unknown> {
    if (legacy) return { error, message, status };
    return error ? { error, message } : { message };
  }

  function answer(status: number, message: string, error = ''): Response {
    return json(apiBody(status, message, error), status);
  }

  /** As Go's `render.JSON`: a trailing newline and a charset (1.x: Go's escaping too). */
  function json(body: unknown, status = 200): Response {
    const text = legacy ? `${JSON.stringify(body)}\n` : goJsonText(body);
    return new Response(text, { status, headers: JSON_HEADERS });
  }

  // --- ids and users -------------------------------------------------------------------------

  function findByUsername(username: string): SftpgoStoredUser | undefined {
    for (const user of users.values()) if (user.username === username) return user;
    return undefined;
  }

  function maxId(): number {
    let max = 0;
    for (const id of users.keys()) max = Math.max(max, id);
    return max;
  }

  /**
   * The id a new user gets: SQLite AUTOINCREMENT (past every id ever used, backdoor ones included),
   * the memory provider's highest id + 1, or (0.x, as always) the first free id counting up.
   */
  function nextIds(count: number): number[] {
    if (legacy) {
      const ids: number[] = [];
      for (let id = highestId + 1; ids.length < count; id += 1) if (!users.has(id)) ids.push(id);
      highestId = ids[ids.length - 1] ?? highestId;
      return ids;
    }
    const first = (dataProvider === 'memory' ? maxId() : Math.max(highestId, maxId())) + 1;
    highestId = first + count - 1;
    return Array.from({ length: count }, (_, i) => first + i);
  }

  function insert(build: (id: number) => SftpgoStoredUser): SftpgoStoredUser {
    const [id = 1] = nextIds(1);
    const user = build(id);
    users.set(id, user);
    return user;
  }

  /** generateVirtualFoldersMapping: one folder record per mapped path, shared by the users mapping it. */
  function attachFolders(draft: UserDraftV1): void {
    for (const folder of draft.virtual_folders ?? []) {
      let record = folders.get(folder.mapped_path);
      if (!record) {
        record = { id: folders.size + 1, used_quota_size: 0, used_quota_files: 0, last_quota_update: 0 };
        folders.set(folder.mapped_path, record);
      }
      Object.assign(folder, record);
    }
  }

  /** disconnectUser: closes every connection of `username`. */
  function disconnect(username: string): void {
    for (let i = connections.length - 1; i >= 0; i -= 1) if (connections[i]?.username === username) connections.splice(i, 1);
  }

  const env: ValidationEnv = {
    usersBaseDir,
    gcsCredentialsPath: (username) => pathJoin(GCS_CREDENTIALS_DIR, `${username}_gcs_credentials.json`),
    hasGcsCredentials: (username) => gcsCredentials.has(username),
    saveGcsCredentials: (username) => void gcsCredentials.add(username),
  };
  const userRoutes = createUserRoutes({ legacy, dataProvider, users, env, answer, json, findByUsername, insert, attachFolders, disconnect });

  // --- other handlers ------------------------------------------------------------------------

  function getVersion(): Response {
    const info = legacy
      ? { version, build_date: '2020-05-23T14:18:45Z', commit_hash: 'emulator' }
      : { version, build_date: '', commit_hash: '', features: FEATURES };
    return json(versionAsArray ? [info] : info);
  }

  function getProviderStatus(): Response {
    if (!providerDown) return answer(200, 'Alive');
    const reason = dataProvider === 'memory' && !legacy ? 'memory provider is closed' : 'unable to open database file (emulated provider failure)';
    return answer(500, '', reason);
  }

  function closeConnection(c: Context): Response {
    const index = connections.findIndex((conn) => conn.connection_id === c.req.param('connectionID'));
    if (index < 0) return answer(404, 'Not Found');
    connections.splice(index, 1);
    return answer(200, 'Connection closed');
  }

  function getQuotaScans(): Response {
    return json(scans.map(({ username, start_time }) => ({ username, start_time })));
  }

  /** startQuotaScan: the body is a User; only its username counts. 1.x answers 202, 0.x 201. */
  async function startQuotaScan(c: Context): Promise<Response> {
    const draft = legacy ? blankDraftV0() : blankDraftV1();
    const text = await c.req.text();
    const decodeError = legacy ? decodeBodyV0(text, draft as UserDraftV0) : decodeBodyV1(text, draft as UserDraftV1);
    if (decodeError) return answer(400, '', decodeError);
    const user = findByUsername(draft.username);
    if (!user) return answer(404, '', scanNotFound(draft.username));
    if (scans.some((s) => s.username === user.username)) return answer(409, 'Another scan is already in progress');
    const timer = setTimeout(() => finishScan(user.username), scanDurationMs);
    (timer as { unref?: () => void }).unref?.();
    scans.push({ username: user.username, start_time: Date.now(), timer });
    return answer(legacy ? 201 : 202, 'Scan started');
  }

  /** UserExists' error: the SQL providers' no-rows error, or the memory provider's own. */
  function scanNotFound(username: string): string {
    if (legacy) return `Not found: username ${JSON.stringify(username)} does not exist`;
    return dataProvider === 'memory' ? `Not found: username ${goQuote(username)} does not exist` : 'Not found: sql: no rows in result set';
  }

  /** The scan "walks the home dir": it finds what `setStored` said, and resets the used quota to it. */
  function finishScan(username: string): void {
    removeScan(scans.findIndex((s) => s.username === username));
    const user = findByUsername(username);
    if (!user) return;
    const found = stored.get(username) ?? { bytes: 0, files: 0 };
    Object.assign(user, { used_quota_size: found.bytes, used_quota_files: found.files, last_quota_update: Date.now() });
  }

  /** 1.x's RemoveUserQuotaScan moves the last scan into the hole; 0.x kept the order. */
  function removeScan(index: number): void {
    if (index < 0) return;
    if (legacy) {
      scans.splice(index, 1);
      return;
    }
    const last = scans.pop();
    if (last && index < scans.length) scans[index] = last;
  }

  // --- app -----------------------------------------------------------------------------------

  const api = new Hono()
    .get('/version', getVersion)
    .get('/providerstatus', getProviderStatus)
    .get('/connection', () => json(connections))
    .delete('/connection/:connectionID', closeConnection)
    .get('/quota_scan', getQuotaScans)
    .post('/quota_scan', startQuotaScan)
    .get('/user', userRoutes.getUsers)
    .post('/user', userRoutes.addUser)
    .get('/user/:userID', userRoutes.getUserById)
    .put('/user/:userID', userRoutes.updateUser)
    .delete('/user/:userID', userRoutes.deleteUser);

  const app = new Hono();
  app.use('*', kit.middleware); // before auth: faults stand for the network, and every request is logged
  // 1.x serves a health check outside the API and its auth.
  if (!legacy) app.get('/healthz', () => new Response('ok', { headers: { 'content-type': 'text/plain; charset=utf-8' } }));
  if (basicAuth) app.use('*', basicAuthGuard(basicAuth, legacy, () => unauthorized()));
  app.route('/__emulator', kit.controlRoutes);
  app.route(API_PREFIX, api);
  // The server's router: 405 for a known path with another method, 404 for anything else.
  app.notFound((c) => (KNOWN_PATHS.some((re) => re.test(c.req.path)) ? answer(405, 'Method not allowed') : answer(404, 'Not Found')));
  app.onError((err) => answer(500, '', err.message));

  /** checkAuth: 1.x's realm is "SFTPGo Web". */
  function unauthorized(): Response {
    const res = answer(401, '', 'Unauthorized');
    res.headers.set('www-authenticate', legacy ? 'Basic realm="SFTPGo"' : 'Basic realm="SFTPGo Web"');
    return res;
  }

  // --- backdoor ------------------------------------------------------------------------------

  function seedUsers(n: number, prefix = 'user'): void {
    const taken = new Set([...users.values()].map((u) => u.username));
    const names = Array.from({ length: n }, (_, i) => `${prefix}${String(i + 1).padStart(5, '0')}`).filter((name) => !taken.has(name));
    const ids = nextIds(names.length);
    names.forEach((username, i) => {
      const id = ids[i] ?? 0;
      users.set(id, seededUser(id, username));
    });
  }

  function reset(): void {
    users.clear();
    highestId = 0;
    for (const scan of scans) clearTimeout(scan.timer);
    scans.length = 0;
    stored.clear();
    gcsCredentials.clear();
    folders.clear();
    providerDown = false;
    connections.length = 0;
    if (seedConnections) connections.push(...fakeConnections(Date.now(), legacy));
    kit.clearRequests();
    kit.setFaults(null);
  }

  reset();
  return {
    app,
    fetch: kit.fetchFor(app),
    version,
    users,
    connections,
    requests: kit.requests,
    clearRequests: kit.clearRequests,
    setFaults: kit.setFaults,
    setProviderDown: (down) => {
      providerDown = down;
    },
    setStored: (username, bytes, files) => {
      stored.set(username, { bytes, files });
    },
    seedUsers,
    reset,
  };
}

/**
 * Serves the emulator on 127.0.0.1 (port 0: any free one). `url` is the server root, without
 * `/api/v1`. A `reset` fault destroys the socket.
 */
export async function serveSftpgoEmulator(emu: SftpgoEmulator, port = 0): Promise<ServedEmulator> {
  return serveEmulatorApp(emu.app, port);
}

// --- helpers ------------------------------------------------------------------------------------

/** A valid user of either shape: password `secret`, every permission on `/`. */
function seededUser(id: number, username: string): SftpgoStoredUser {
  return {
    id, username, password: 'secret', status: 1, expiration_date: 0, public_keys: null, home_dir: `/srv/sftpgo/data/${username}`,
    uid: 0, gid: 0, max_sessions: 0, quota_size: 0, quota_files: 0, permissions: { '/': ['*'] }, used_quota_size: 0,
    used_quota_files: 0, last_quota_update: 0, upload_bandwidth: 0, download_bandwidth: 0, last_login: 0,
    filters: {}, filesystem: localFilesystem(), virtual_folders: null,
  };
}

function basicAuthGuard(expected: { username: string; password: string }, legacy: boolean, refuse: () => Response): MiddlewareHandler {
  const wanted = `${expected.username}:${expected.password}`;
  return async function sftpgoBasicAuth(c, next) {
    if (c.req.path.startsWith('/__emulator/') || (!legacy && c.req.path === '/healthz')) return next();
    return decodeBasic(c.req.header('authorization')) === wanted ? next() : refuse();
  };
}

function decodeBasic(header: string | undefined): string | null {
  const match = /^Basic\s+(\S+)$/i.exec(header ?? '');
  if (!match?.[1]) return null;
  try {
    return new TextDecoder().decode(Uint8Array.from(atob(match[1]), (ch) => ch.charCodeAt(0)));
  } catch {
    return null;
  }
}

/**
 * A few connections as SFTPGo reports them, one of them mid-upload. 1.x's ConnectionStatus leaves
 * out empty transfers and has none of 0.x's `last_activity` per transfer.
 */
/** Three live connections as 0.9.x (`legacy`) or 1.x and 2.x answer them. */
export function fakeConnections(now: number, legacy: boolean): Array<Record<string, unknown>> {
  const transfer = (operation_type: string, path: string, started: number, size: number, last: number) =>
    legacy
      ? { operation_type, path, start_time: now - started, size, last_activity: now - last }
      : { operation_type, start_time: now - started, size, path };
  const connection = (fields: Record<string, unknown>, transfers: Array<Record<string, unknown>>) =>
    legacy || transfers.length > 0 ? { ...fields, active_transfers: transfers } : fields;
  return [
    connection({
      username: 'alice', connection_id: '6a1c3b4f5e2d7a8b9c0d1e2f3a4b5c6d', client_version: 'SSH-2.0-OpenSSH_8.2p1',
      remote_address: '192.0.2.10:52144', connection_time: now - 120_000, last_activity: now - 1_000, protocol: 'SFTP',
    }, [transfer('upload', '/uploads/report.csv', 5_000, 1_048_576, 500)]),
    connection({
      username: 'bob', connection_id: 'f0e1d2c3b4a5968778695a4b3c2d1e0f', client_version: 'SSH-2.0-PuTTY_Release_0.73',
      remote_address: '198.51.100.7:40022', connection_time: now - 600_000, last_activity: now - 30_000, protocol: 'SCP',
    }, []),
    connection({
      username: 'carol', connection_id: '0123456789abcdef0123456789abcdef', client_version: 'SSH-2.0-paramiko_2.7.1',
      remote_address: '203.0.113.42:61000', connection_time: now - 45_000, last_activity: now - 2_000, protocol: 'SFTP',
    }, [transfer('download', '/data/archive.zip', 10_000, 52_428_800, 100)]),
  ];
}
