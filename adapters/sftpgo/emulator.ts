/**
 * An in-memory SFTPGo 1.2.0 REST API (`/api/v1`), quirks included, for tests and demo mode.
 *
 * It answers as the real server does, not as its OpenAPI document says: `POST /user` is a 200,
 * a duplicate username is a 500, `PUT /user/{id}` decodes the body onto the stored user (an empty
 * `password` removes it), the JSON says `used_quota_files`. Faults, the request log and the
 * `/__emulator` control API come from the shared emulator kit (`adapters/emulator-kit.ts`).
 *
 * @example
 * const emu = createSftpgoEmulator({ scanDurationMs: 20 });
 * const res = await emu.fetch('/api/v1/user', { method: 'POST', body: JSON.stringify(user) });
 * emu.setFaults({ status: 503, times: 1 });
 * const { url, close } = await serveSftpgoEmulator(emu); // url is the server root
 */
import { Hono } from 'hono';
import type { Context, MiddlewareHandler } from 'hono';
import { createEmulatorKit, serveEmulatorApp } from '../emulator-kit.js';
import type { EmulatorFaults, FetchLike, RecordedRequest, ServedEmulator } from '../emulator-kit.js';
import { blankDraft, decodeOnto, draftOf, storedFromDraft, toApiUser, validateUser } from './emulator-user.js';
import type { SftpgoStoredUser, UserDraft } from './emulator-user.js';

export type { EmulatorFaults, FaultMatch, FetchLike, RecordedRequest } from '../emulator-kit.js';
export type { SftpgoStoredUser } from './emulator-user.js';

export interface SftpgoEmulatorOptions {
  /** How long a quota scan runs. @default 300 */
  scanDurationMs?: number;
  /** When set, every request (but `/__emulator`) needs this HTTP basic auth, else 401. */
  basicAuth?: { username: string; password: string };
  /** Answer `GET /version` with an array of one, as the document says (the server sends an object). @default false */
  versionAsArray?: boolean;
  /** Start with three fake connections. @default true */
  seedConnections?: boolean;
}

export interface SftpgoEmulator {
  /** Mount or serve it; the API lives under `/api/v1`, the control API under `/__emulator`. */
  app: Hono;
  /** In-process stand-in for the global `fetch` (relative URLs allowed). */
  fetch: FetchLike;
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
const VERSION_INFO = { version: '1.2.0', build_date: '2020-05-23T14:18:45Z', commit_hash: 'emulator' };
const KNOWN_PATHS = [
  /^\/api\/v1\/(version|providerstatus|connection|quota_scan|user)$/,
  /^\/api\/v1\/(connection|user)\/[^/]+$/,
];

interface RunningScan {
  start_time: number;
  timer: ReturnType<typeof setTimeout>;
}

export function createSftpgoEmulator(opts: SftpgoEmulatorOptions = {}): SftpgoEmulator {
  const { scanDurationMs = 300, basicAuth, versionAsArray = false, seedConnections = true } = opts;
  const users = new Map<number, SftpgoStoredUser>();
  const connections: Array<Record<string, unknown>> = [];
  const scans = new Map<string, RunningScan>();
  const stored = new Map<string, { bytes: number; files: number }>();
  let nextId = 1;
  let providerDown = false;

  const kit = createEmulatorKit({ apiPrefix: API_PREFIX, errorBody: (status, error) => apiBody(status, '', error) });

  /** Like SQLite's AUTOINCREMENT: ascending, never reused, past any id set through the backdoor. */
  function takeId(): number {
    while (users.has(nextId)) nextId += 1;
    return nextId++;
  }

  function findByUsername(username: string): SftpgoStoredUser | undefined {
    for (const user of users.values()) if (user.username === username) return user;
    return undefined;
  }

  function insert(draft: UserDraft): SftpgoStoredUser {
    const id = takeId();
    const user = storedFromDraft(draft, id);
    users.set(id, user);
    return user;
  }

  // --- handlers -------------------------------------------------------------------------------

  function getVersion(): Response {
    return json(versionAsArray ? [VERSION_INFO] : VERSION_INFO);
  }

  function getProviderStatus(): Response {
    return providerDown ? apiResponse(500, '', 'unable to open database file (emulated provider failure)') : apiResponse(200, 'Alive');
  }

  function closeConnection(c: Context): Response {
    const index = connections.findIndex((conn) => conn.connection_id === c.req.param('connectionID'));
    if (index < 0) return apiResponse(404, 'Not Found');
    connections.splice(index, 1);
    return apiResponse(200, 'Connection closed');
  }

  function getQuotaScans(): Response {
    return json([...scans].map(([username, scan]) => ({ username, start_time: scan.start_time })));
  }

  async function startQuotaScan(c: Context): Promise<Response> {
    const draft = blankDraft();
    const decodeError = await decodeBody(c, draft);
    if (decodeError) return apiResponse(400, '', decodeError);
    const user = findByUsername(draft.username);
    if (!user) return apiResponse(404, '', `Not found: username ${JSON.stringify(draft.username)} does not exist`);
    if (scans.has(user.username)) return apiResponse(409, 'Another scan is already in progress');
    const timer = setTimeout(() => finishScan(user.username), scanDurationMs);
    (timer as { unref?: () => void }).unref?.();
    scans.set(user.username, { start_time: Date.now(), timer });
    return apiResponse(201, 'Scan started');
  }

  /** The scan "walks the home dir": it finds what `setStored` said, and resets the used quota to it. */
  function finishScan(username: string): void {
    scans.delete(username);
    const user = findByUsername(username);
    if (!user) return;
    const found = stored.get(username) ?? { bytes: 0, files: 0 };
    user.used_quota_size = found.bytes;
    user.used_quota_files = found.files;
    user.last_quota_update = Date.now();
  }

  function getUsers(c: Context): Response {
    const query = parseListQuery(c);
    if (typeof query === 'string') return apiResponse(400, '', query);
    const { limit, offset, order, username } = query;
    const direction = order === 'ASC' ? 1 : -1;
    const page = [...users.values()]
      .filter((u) => !username || u.username === username)
      .sort((a, b) => direction * byteOrder(a.username, b.username))
      .slice(offset, offset + limit);
    return json(page.map((u) => toApiUser(u, { withPublicKeys: true })));
  }

  async function addUser(c: Context): Promise<Response> {
    const draft = blankDraft();
    const problem = (await decodeBody(c, draft)) ?? validateUser(draft);
    if (problem) return apiResponse(400, '', problem);
    // SQLite's UNIQUE constraint: the server answers it as an internal error, not a 409.
    if (findByUsername(draft.username)) return apiResponse(500, '', `username ${JSON.stringify(draft.username)} already exists`);
    return json(toApiUser(insert(draft), { withPublicKeys: false }));
  }

  function getUserById(c: Context): Response {
    const found = lookupUser(c);
    return found instanceof Response ? found : json(toApiUser(found, { withPublicKeys: true }));
  }

  /** Go decodes the body onto the stored user: absent fields keep their values. */
  async function updateUser(c: Context): Promise<Response> {
    const found = lookupUser(c);
    if (found instanceof Response) return found;
    const draft = draftOf(found);
    const decodeError = await decodeBody(c, draft);
    if (decodeError) return apiResponse(400, '', decodeError);
    if (draft.id !== found.id) return apiResponse(400, 'user ID in request body does not match user ID in path parameter');
    const problem = validateUser(draft);
    if (problem) return apiResponse(400, '', problem);
    delete found.password; // updated in place, so backdoor references stay live
    Object.assign(found, storedFromDraft(draft, found.id, found));
    return apiResponse(200, 'User updated');
  }

  function deleteUser(c: Context): Response {
    const found = lookupUser(c);
    if (found instanceof Response) return found;
    users.delete(found.id);
    return apiResponse(200, 'User deleted');
  }

  /** The user named by `{userID}`, or the 400/404 answer. */
  function lookupUser(c: Context): SftpgoStoredUser | Response {
    const id = parseGoInt(c.req.param('userID') ?? '');
    if (id === null) return apiResponse(400, '', 'Invalid userID');
    return users.get(id) ?? apiResponse(404, '', 'Not found: sql: no rows in result set');
  }

  // --- app ------------------------------------------------------------------------------------

  const api = new Hono()
    .get('/version', getVersion)
    .get('/providerstatus', getProviderStatus)
    .get('/connection', () => json(connections))
    .delete('/connection/:connectionID', closeConnection)
    .get('/quota_scan', getQuotaScans)
    .post('/quota_scan', startQuotaScan)
    .get('/user', getUsers)
    .post('/user', addUser)
    .get('/user/:userID', getUserById)
    .put('/user/:userID', updateUser)
    .delete('/user/:userID', deleteUser);

  const app = new Hono();
  app.use('*', kit.middleware); // before auth: faults stand for the network, and every request is logged
  if (basicAuth) app.use('*', basicAuthGuard(basicAuth));
  app.route('/__emulator', kit.controlRoutes);
  app.route(API_PREFIX, api);
  // The server's router: 405 for a known path with another method, 404 for anything else.
  app.notFound((c) => (KNOWN_PATHS.some((re) => re.test(c.req.path)) ? apiResponse(405, 'Method not allowed') : apiResponse(404, 'Not Found')));
  app.onError((err) => apiResponse(500, '', err.message));

  // --- backdoor -------------------------------------------------------------------------------

  function seedUsers(n: number, prefix = 'user'): void {
    const taken = new Set([...users.values()].map((u) => u.username));
    for (let i = 1; i <= n; i += 1) {
      const username = `${prefix}${String(i).padStart(5, '0')}`;
      if (taken.has(username)) continue;
      insert({ ...blankDraft(), username, password: 'secret', status: 1, home_dir: `/srv/sftpgo/data/${username}`, permissions: ['*'] });
    }
  }

  function reset(): void {
    users.clear();
    nextId = 1;
    for (const scan of scans.values()) clearTimeout(scan.timer);
    scans.clear();
    stored.clear();
    providerDown = false;
    connections.length = 0;
    if (seedConnections) connections.push(...fakeConnections(Date.now()));
    kit.clearRequests();
    kit.setFaults(null);
  }

  reset();
  return {
    app,
    fetch: kit.fetchFor(app),
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

/** The server's `ApiResponse`, in its Go field order. */
function apiBody(status: number, message: string, error = ''): Record<string, unknown> {
  return { error, message, status };
}

function apiResponse(status: number, message: string, error = ''): Response {
  return json(apiBody(status, message, error), status);
}

/** As Go's `render.JSON`: a trailing newline and a charset. */
function json(body: unknown, status = 200): Response {
  return new Response(`${JSON.stringify(body)}\n`, { status, headers: JSON_HEADERS });
}

/** `render.DecodeJSON(r.Body, &draft)`: Go's error text, or null. */
async function decodeBody(c: Context, draft: UserDraft): Promise<string | null> {
  const text = await c.req.text();
  if (text.trim() === '') return 'EOF';
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    return `invalid character in JSON body: ${(err as Error).message}`;
  }
  return decodeOnto(draft, body);
}

/** `strconv.Atoi` / `ParseInt(s, 10, 64)`: an optional sign and decimal digits, nothing else. */
function parseGoInt(text: string): number | null {
  if (!/^[+-]?\d+$/.test(text)) return null;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : null;
}

interface ListQuery {
  limit: number;
  offset: number;
  order: 'ASC' | 'DESC';
  username: string;
}

/** `GET /user`'s query, checked as the server does; a string is the 400's error text. */
function parseListQuery(c: Context): ListQuery | string {
  const { limit: rawLimit, offset: rawOffset, order = 'ASC', username = '' } = c.req.query();
  let limit = 100;
  if (rawLimit !== undefined) {
    const n = parseGoInt(rawLimit);
    if (n === null || n < 1) return 'Invalid limit';
    limit = Math.min(n, 500);
  }
  const offset = rawOffset === undefined ? 0 : parseGoInt(rawOffset);
  if (offset === null || offset < 0) return 'Invalid offset';
  if (order !== 'ASC' && order !== 'DESC') return 'Invalid order';
  return { limit, offset, order, username };
}

/** SQLite's default (binary) collation, not the locale's. */
function byteOrder(a: string, b: string): number {
  if (a === b) return 0;
  return a < b ? -1 : 1;
}

function basicAuthGuard(expected: { username: string; password: string }): MiddlewareHandler {
  const wanted = `${expected.username}:${expected.password}`;
  return async function sftpgoBasicAuth(c, next) {
    if (c.req.path.startsWith('/__emulator/') || decodeBasic(c.req.header('authorization')) === wanted) return next();
    const res = apiResponse(401, '', 'Unauthorized');
    res.headers.set('www-authenticate', 'Basic realm="SFTPGo"');
    return res;
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

/** A few connections as SFTPGo reports them, one of them mid-upload. */
function fakeConnections(now: number): Array<Record<string, unknown>> {
  return [
    {
      username: 'alice', connection_id: '6a1c3b4f5e2d7a8b9c0d1e2f3a4b5c6d', client_version: 'SSH-2.0-OpenSSH_8.2p1',
      remote_address: '192.0.2.10:52144', connection_time: now - 120_000, last_activity: now - 1_000, protocol: 'SFTP',
      active_transfers: [
        { operation_type: 'upload', path: '/uploads/report.csv', start_time: now - 5_000, size: 1_048_576, last_activity: now - 500 },
      ],
    },
    {
      username: 'bob', connection_id: 'f0e1d2c3b4a5968778695a4b3c2d1e0f', client_version: 'SSH-2.0-PuTTY_Release_0.73',
      remote_address: '198.51.100.7:40022', connection_time: now - 600_000, last_activity: now - 30_000, protocol: 'SCP',
      active_transfers: [],
    },
    {
      username: 'carol', connection_id: '0123456789abcdef0123456789abcdef', client_version: 'SSH-2.0-paramiko_2.7.1',
      remote_address: '203.0.113.42:61000', connection_time: now - 45_000, last_activity: now - 2_000, protocol: 'SFTP',
      active_transfers: [
        { operation_type: 'download', path: '/data/archive.zip', start_time: now - 10_000, size: 52_428_800, last_activity: now - 100 },
      ],
    },
  ];
}
