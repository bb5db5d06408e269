/** The user calls of an SFTPGo REST API v2 backend: list (paged, or scanned for a status), get, create, update, delete. */
import {
  conflict, GatewayError, generatePassword, parseSshKeyList, unsupportedField,
  type AdapterUser, type CallContext, type CreatedUserResult, type FailureOptions, type ListUsersQuery, type UserCreate, type UserPage,
  type UserPatch,
} from '../../src/provider-kit/index.js';
import { sendV2, userPath, type SftpgoV2Backend } from './v2-backend.js';
import { listByStatus, listPage, pageLimit } from './paging.js';
import { mergeUserPatchV2, toUpstreamCreateV2, toUserV2 } from './v2-mapping.js';
import { parseUpstreamUserListV2, parseUpstreamUserV2, type UpstreamUserV2 } from './v2-schema.js';


/** A call on one user: its own 404 is "user … not found"; a router's means no API v2 (see V2CallOptions). */
export const onUser = (username: string) => ({ notFound: `user ${username} not found`, apiCheck: true });

/** What a server's `naming_rules` refuse (2.x: `username "a b" is not valid, …`): a 422 with its reason. */
const NAME_REFUSED = /username .* is not valid/i;

/** One page of `GET /users`; 2.7.5 refuses a lower-case order. */
async function fetchPage(b: SftpgoV2Backend, q: ListUsersQuery, offset: number, limit: number, ctx: CallContext): Promise<UpstreamUserV2[]> {
  const query = { offset, limit, order: q.order === 'desc' ? 'DESC' : 'ASC' };
  const res = await sendV2(b, { method: 'GET', path: '/users', query }, ctx, { apiCheck: true });
  return parseUpstreamUserListV2(res.body, res.status);
}

export async function readUserV2(b: SftpgoV2Backend, username: string, ctx: CallContext): Promise<UpstreamUserV2> {
  const res = await sendV2(b, { method: 'GET', path: userPath(username) }, ctx, onUser(username));
  return parseUpstreamUserV2(res.body, res.status);
}

/** The server has no username filter: an exact username is one read of that user (at most one match). */
async function listByUsername(b: SftpgoV2Backend, q: ListUsersQuery & { username: string }, ctx: CallContext): Promise<UserPage> {
  if (q.offset > 0) return { data: [], nextOffset: null };
  const found = await findUserV2(b, q.username, ctx);
  if (!found) return { data: [], nextOffset: null };
  const user = toUserV2(found, b.context);
  return { data: q.status === undefined || user.status === q.status ? [user] : [], nextOffset: null };
}

/** The user, or undefined on a 404 (an unknown name is an empty list, not an error). */
async function findUserV2(b: SftpgoV2Backend, username: string, ctx: CallContext): Promise<UpstreamUserV2 | undefined> {
  try {
    return await readUserV2(b, username, ctx);
  } catch (err) {
    if (err instanceof GatewayError && err.status === 404) return undefined;
    throw err;
  }
}

export async function listUsersV2(b: SftpgoV2Backend, q: ListUsersQuery, ctx: CallContext): Promise<UserPage> {
  if (q.username !== undefined) return listByUsername(b, { ...q, username: q.username }, ctx);
  const fetch = (offset: number, limit: number) => fetchPage(b, q, offset, limit, ctx);
  const mapped = (u: UpstreamUserV2) => toUserV2(u, b.context);
  const limit = pageLimit(q);
  return q.status === undefined ? listPage(fetch, q, limit, mapped) : listByStatus(fetch, q, limit, mapped);
}

export async function getUserV2(b: SftpgoV2Backend, id: string, ctx: CallContext): Promise<AdapterUser> {
  return toUserV2(await readUserV2(b, id, ctx), b.context);
}

export async function createUserV2(b: SftpgoV2Backend, input: UserCreate, ctx: CallContext): Promise<CreatedUserResult> {
  const publicKeys = (await parseSshKeyList(input.sshKeys ?? [])).map((k) => k.publicKey);
  const password = input.password ?? generatePassword();
  const body = toUpstreamCreateV2(input, { publicKeys, password, homeDirectoryBase: b.config.homeDirectoryBase });
  const res = await sendV2(b, { method: 'POST', path: '/users', body }, ctx, {
    apiCheck: true,
    secrets: [password],
    special: (r, message) => {
      // 2.7.5 answers a taken username with 409 (its UNIQUE constraint).
      if (r.status === 409) return conflict(`username "${input.username}" is already taken`);
      if (r.status === 400 && NAME_REFUSED.test(message)) {
        const reason = message.replace(/^Validation error:\s*/i, '');
        return unsupportedField(`SFTPGo refuses the username: ${reason}`, undefined, [{ path: 'username', message: reason }]);
      }
      return undefined;
    },
  });
  const user = toUserV2(parseUpstreamUserV2(res.body, res.status), b.context);
  return input.password === undefined ? { user, generatedPassword: password } : { user };
}

/**
 * Read-merge-write of the WHOLE user under its mutex: 2.7.5's PUT resets every field it omits,
 * and two changes in flight through this gateway must not lose each other's fields. `change`
 * returns the user to PUT (every field the server sent, the change applied), or null when
 * nothing changes; `secret` is a password it sets, scrubbed from any error.
 */
export async function modifyUserV2<T>(
  b: SftpgoV2Backend,
  id: string,
  ctx: CallContext,
  change: (stored: UpstreamUserV2) => Promise<{ body: UpstreamUserV2 | null; result: T }> | { body: UpstreamUserV2 | null; result: T },
  opts: FailureOptions = {},
): Promise<T> {
  return b.mutex.run(id, async () => {
    const stored = await readUserV2(b, id, ctx);
    const { body, result } = await change(stored);
    if (body) {
      // The answer is a message, not the user: nothing in it is needed.
      const secrets = [...(opts.secrets ?? []), ...(typeof body.password === 'string' ? [body.password] : [])];
      await sendV2(b, { method: 'PUT', path: userPath(id), body }, ctx, { ...onUser(id), ...opts, secrets });
    }
    return result;
  });
}

/**
 * A patch merged onto the whole stored user and PUT; the answer is the user read back, as the
 * server now holds it (its `updated_at`, a new `last_password_change`).
 */
export async function updateUserV2(b: SftpgoV2Backend, id: string, patch: UserPatch, ctx: CallContext): Promise<AdapterUser> {
  const publicKeys = patch.sshKeys === undefined ? undefined : (await parseSshKeyList(patch.sshKeys)).map((k) => k.publicKey);
  const changes = Object.values(patch).some((v) => v !== undefined);
  return modifyUserV2(b, id, ctx, (stored) => {
    if (!changes) return { body: null, result: stored };
    const merged = mergeUserPatchV2(stored, patch, { publicKeys });
    if (publicKeys?.length === 0 && (stored.public_keys?.length ?? 0) > 0 && stored.has_password !== true && patch.password === undefined) {
      throw noWayIn(stored.username, 'removing every SSH key');
    }
    return { body: merged, result: null };
  }).then(async (unchanged) => toUserV2(unchanged ?? (await readUserV2(b, id, ctx)), b.context));
}

/** As on 1.x, a user is never left with neither a password nor a key: 2.x would accept it, but no one could log in. */
export const noWayIn = (username: string, change: string) =>
  conflict(`user "${username}" has no password: ${change} would leave no way to log in; set a password first`);

export async function deleteUserV2(b: SftpgoV2Backend, id: string, ctx: CallContext): Promise<void> {
  await sendV2(b, { method: 'DELETE', path: userPath(id) }, ctx, onUser(id));
}
