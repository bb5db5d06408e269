/**
 * The emulator's `/user` routes (httpd/api_user.go): list, add, get, update, delete, as SFTPGo
 * 1.2.2 answers them on its sqlite or memory data provider, or as the 0.9.x shape did.
 */
import type { Context } from 'hono';
import { byCodePoint } from './gojson.js';
import { goQuote, parseGoInt, parseGoJson, toNode } from './gostd.js';
import {
  blankDraftV0, blankDraftV1, decodeOntoV0, decodeOntoV1, draftOfV0, draftOfV1, removeDecryptionKey,
  storedFromDraftV0, storedFromDraftV1, toApiUserV0, toApiUserV1,
} from './user.js';
import type { SftpgoStoredUser, UserDraftV0, UserDraftV1 } from './user.js';
import { validateUserV0, validateUserV1 } from './validate.js';
import type { ValidationEnv } from './validate.js';

/** What the user routes need from the emulator around them. */
export interface UserRoutesContext {
  /** The 0.9.x shape instead of 1.x. */
  legacy: boolean;
  dataProvider: 'sqlite' | 'memory';
  users: Map<number, SftpgoStoredUser>;
  env: ValidationEnv;
  /** An `ApiResponse` in the version's shape. */
  answer(status: number, message: string, error?: string): Response;
  /** A JSON body as the version's server writes it. */
  json(body: unknown, status?: number): Response;
  findByUsername(username: string): SftpgoStoredUser | undefined;
  /** Stores a new user under the id the data provider would give it. */
  insert(build: (id: number) => SftpgoStoredUser): SftpgoStoredUser;
  /** Gives each virtual folder its folder record's id and used quota (generateVirtualFoldersMapping). */
  attachFolders(draft: UserDraftV1): void;
  /** Closes the user's connections (disconnectUser). */
  disconnect(username: string): void;
}

/** The `/user` handlers, mounted by the emulator's app. */
export interface UserRoutes {
  getUsers(c: Context): Response;
  addUser(c: Context): Promise<Response>;
  getUserById(c: Context): Response;
  updateUser(c: Context): Promise<Response>;
  deleteUser(c: Context): Response;
}

/** The `/user` handlers over the emulator's state, in the version's and data provider's behaviour. */
export function createUserRoutes(ctx: UserRoutesContext): UserRoutes {
  const { users, answer, json } = ctx;
  const memory = ctx.dataProvider === 'memory' && !ctx.legacy;

  /** What the provider's "no such id" error says. */
  function notFoundById(id: number): Response {
    return answer(404, '', memory ? `Not found: user with ID ${id} does not exist` : 'Not found: sql: no rows in result set');
  }

  /** The user named by `{userID}` (strconv.ParseInt), or the 400/404 answer. */
  function lookupUser(c: Context): SftpgoStoredUser | Response {
    const id = parseGoInt(c.req.param('userID') ?? '');
    if (id === null) return answer(400, '', 'Invalid userID');
    return users.get(id) ?? notFoundById(id);
  }

  function render(user: SftpgoStoredUser): Record<string, unknown> {
    return ctx.legacy ? toApiUserV0(user, { withPublicKeys: true }) : toApiUserV1(user);
  }

  // --- GET /user ----------------------------------------------------------------------------------

  function getUsers(c: Context): Response {
    const query = ctx.legacy ? parseListQueryV0(c) : parseListQueryV1(c);
    if (typeof query === 'string') return answer(400, '', query);
    const { limit, offset, order, username } = query;
    // make([]User, 0, limit) panics on a negative limit: chi's Recoverer answers a bare 500.
    if (limit < 0) return new Response(null, { status: 500 });
    if (limit === 0) return json([]);
    return json(listPage(limit, offset, order, username).map(render));
  }

  /** SQL `ORDER BY username LIMIT ? OFFSET ?` (a negative offset is 0); memory walks its sorted names. */
  function listPage(limit: number, offset: number, order: 'ASC' | 'DESC', username: string): SftpgoStoredUser[] {
    if (username !== '') {
      if (memory && offset !== 0) return [];
      const found = ctx.findByUsername(username);
      return found && offset <= 0 ? [found] : [];
    }
    const direction = order === 'ASC' ? 1 : -1;
    const sorted = [...users.values()].sort((a, b) => direction * byCodePoint(a.username, b.username));
    const start = Math.max(0, offset);
    return sorted.slice(start, start + limit);
  }

  // --- POST /user ---------------------------------------------------------------------------------

  async function addUser(c: Context): Promise<Response> {
    const text = await c.req.text();
    return ctx.legacy ? addUserV0(text) : addUserV1(text);
  }

  function addUserV1(text: string): Response {
    const draft = blankDraftV1();
    const problem = decodeBodyV1(text, draft) ?? validateUserV1(draft, ctx.env);
    if (problem) return answer(400, '', problem);
    if (ctx.findByUsername(draft.username)) return answer(500, '', duplicateError(draft.username));
    ctx.attachFolders(draft);
    // addUser answers the user read back (UserExists + HideUserSensitiveData): keys included.
    return json(toApiUserV1(ctx.insert((id) => storedFromDraftV1(draft, id))));
  }

  function addUserV0(text: string): Response {
    const draft = blankDraftV0();
    const problem = decodeBodyV0(text, draft) ?? validateUserV0(draft);
    if (problem) return answer(400, '', problem);
    // SQLite's UNIQUE constraint: the server answers it as an internal error, not a 409.
    if (ctx.findByUsername(draft.username)) return answer(500, '', `username ${JSON.stringify(draft.username)} already exists`);
    return json(toApiUserV0(ctx.insert((id) => storedFromDraftV0(draft, id)), { withPublicKeys: false }));
  }

  /** A duplicate username is a 500 on every 1.x provider, in the provider's words. */
  function duplicateError(username: string): string {
    return memory ? `username ${goQuote(username)} already exists` : 'UNIQUE constraint failed: users.username';
  }

  // --- GET /user/{id} -----------------------------------------------------------------------------

  function getUserById(c: Context): Response {
    const found = lookupUser(c);
    return found instanceof Response ? found : json(render(found));
  }

  // --- PUT /user/{id} -----------------------------------------------------------------------------

  async function updateUser(c: Context): Promise<Response> {
    return ctx.legacy ? updateUserV0(c) : updateUserV1(c);
  }

  /**
   * 1.2.2's updateUser: the body is decoded onto the stored user (absent fields stay, `filters` and
   * `filesystem` merge field by field), permissions are replaced as a whole or kept when the body
   * has none, a redacted or empty secret keeps the stored one, the body's id must be the path's.
   */
  async function updateUserV1(c: Context): Promise<Response> {
    const id = parseGoInt(c.req.param('userID') ?? '');
    if (id === null) return answer(400, '', 'Invalid userID');
    const disconnect = parseDisconnect(c);
    if (typeof disconnect === 'string') return answer(400, '', disconnect);
    const stored = users.get(id);
    if (!stored) return notFoundById(id);
    const draft = draftOfV1(stored);
    const currentPermissions = draft.permissions;
    draft.permissions = {};
    const decodeError = decodeBodyV1(await c.req.text(), draft);
    if (decodeError) return answer(400, '', decodeError);
    if (Object.keys(draft.permissions ?? {}).length === 0) draft.permissions = currentPermissions;
    keepEncryptedSecrets(draft, stored);
    if (draft.id !== id) return answer(400, 'user ID in request body does not match user ID in path parameter');
    const problem = validateUserV1(draft, ctx.env);
    if (problem) return answer(400, '', problem);
    // SQL: UPDATE ... WHERE id (the username column is not updated); memory: found by the body's username.
    const target = memory ? ctx.findByUsername(draft.username) : stored;
    if (!target) return answer(404, '', `Not found: username ${goQuote(draft.username)} does not exist`);
    ctx.attachFolders(draft);
    replaceStored(target, storedFromDraftV1(draft, target.id, target));
    if (disconnect === 1) ctx.disconnect(target.username);
    return answer(200, 'User updated');
  }

  /** The seed's shape: as 1.x, with a flat permission list replaced only when sent. */
  async function updateUserV0(c: Context): Promise<Response> {
    const found = lookupUser(c);
    if (found instanceof Response) return found;
    const draft = draftOfV0(found);
    const decodeError = decodeBodyV0(await c.req.text(), draft);
    if (decodeError) return answer(400, '', decodeError);
    if (draft.id !== found.id) return answer(400, 'user ID in request body does not match user ID in path parameter');
    const problem = validateUserV0(draft);
    if (problem) return answer(400, '', problem);
    replaceStored(found, storedFromDraftV0(draft, found.id, found));
    return answer(200, 'User updated');
  }

  // --- DELETE /user/{id} --------------------------------------------------------------------------

  function deleteUser(c: Context): Response {
    const found = lookupUser(c);
    if (found instanceof Response) return found;
    users.delete(found.id);
    if (!ctx.legacy) ctx.disconnect(found.username);
    return answer(200, 'User deleted');
  }

  return { getUsers, addUser, getUserById, updateUser, deleteUser };
}

/** Updated in place, so backdoor references stay live. */
function replaceStored(target: SftpgoStoredUser, next: SftpgoStoredUser): void {
  delete target.password;
  Object.assign(target, next);
}

/** updateEncryptedSecrets: the redacted form sent back, or an empty secret with a key name, keeps the stored secret. */
function keepEncryptedSecrets(draft: UserDraftV1, stored: SftpgoStoredUser): void {
  const fs = draft.filesystem;
  const storedFs = stored.filesystem ?? {};
  const current = (provider: number, config: string, key: string): string => {
    const section = storedFs[config] as Record<string, unknown> | undefined;
    return storedFs.provider === provider && typeof section?.[key] === 'string' ? section[key] : '';
  };
  if (fs.provider === 1) {
    const secret = current(1, 's3config', 'access_secret');
    const s3 = fs.s3config;
    if (removeDecryptionKey(secret) === s3.access_secret || (s3.access_secret === '' && s3.access_key !== '')) s3.access_secret = secret;
  }
  if (fs.provider === 3) {
    const key = current(3, 'azblobconfig', 'account_key');
    const az = fs.azblobconfig;
    if (removeDecryptionKey(key) === az.account_key || (az.account_key === '' && az.account_name !== '')) az.account_key = key;
  }
}

/** `render.DecodeJSON(r.Body, &user)` as 1.2.2 runs it: Go's syntax and type errors. */
export function decodeBodyV1(text: string, draft: UserDraftV1): string | null {
  const parsed = parseGoJson(text);
  return 'error' in parsed ? parsed.error : decodeOntoV1(draft, parsed.node);
}

/** The emulator's 0.x decoding, kept as it always answered. */
export function decodeBodyV0(text: string, draft: UserDraftV0): string | null {
  if (text.trim() === '') return 'EOF';
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    return `invalid character in JSON body: ${(err as Error).message}`;
  }
  if (body === null) return 'json: cannot unmarshal null into Go value of type dataprovider.User';
  return decodeOntoV0(draft, toNode(body));
}

/** `?disconnect=` (strconv.Atoi), or the 400's error text. */
function parseDisconnect(c: Context): number | string | undefined {
  const raw = c.req.queries('disconnect')?.[0];
  if (raw === undefined) return undefined;
  const n = parseGoInt(raw);
  if (n !== null) return n;
  const reason = /^[+-]?\d+$/.test(raw) ? 'value out of range' : 'invalid syntax';
  return `invalid disconnect parameter: strconv.Atoi: parsing ${goQuote(raw)}: ${reason}`;
}

interface ListQuery {
  limit: number;
  offset: number;
  order: 'ASC' | 'DESC';
  username: string;
}

/** 1.2.2's getUsers: strconv.Atoi, limit clamped to 500 and never checked below; a string is the 400's error. */
function parseListQueryV1(c: Context): ListQuery | string {
  const queries = c.req.queries();
  const first = (key: string) => queries[key]?.[0];
  let limit = 100;
  if (first('limit') !== undefined) {
    const n = parseGoInt(first('limit') ?? '');
    if (n === null) return 'Invalid limit';
    limit = Math.min(n, 500);
  }
  const offset = first('offset') === undefined ? 0 : parseGoInt(first('offset') ?? '');
  if (offset === null) return 'Invalid offset';
  const order = first('order') ?? 'ASC';
  if (order !== 'ASC' && order !== 'DESC') return 'Invalid order';
  return { limit, offset, order, username: first('username') ?? '' };
}

/** The emulator's 0.x checks, kept as it always answered: limit 1..500, offset from 0. */
function parseListQueryV0(c: Context): ListQuery | string {
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
