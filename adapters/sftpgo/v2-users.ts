/** The user calls of an SFTPGo REST API v2 backend: list (paged, or scanned for a status), get, create, update, delete. */
import {
  conflict, GatewayError, generatePassword, parseSshKeyList,
  type AdapterUser, type CallContext, type CreatedUserResult, type ListUsersQuery, type UserCreate, type UserPage,
  type UserPatch,
} from '../../src/provider-kit/index.js';
import { sendV2, userPath, type SftpgoV2Backend } from './v2-backend.js';
import { listByStatus, listPage, pageLimit } from './paging.js';
import { mergeUserPatchV2, toUpstreamCreateV2, toUserV2 } from './v2-mapping.js';
import { parseUpstreamUserListV2, parseUpstreamUserV2, type UpstreamUserV2 } from './v2-schema.js';


const notFoundOf = (username: string) => ({ notFound: `user ${username} not found` });

/** One page of `GET /users`; 2.7.5 refuses a lower-case order. */
async function fetchPage(b: SftpgoV2Backend, q: ListUsersQuery, offset: number, limit: number, ctx: CallContext): Promise<UpstreamUserV2[]> {
  const query = { offset, limit, order: q.order === 'desc' ? 'DESC' : 'ASC' };
  const res = await sendV2(b, { method: 'GET', path: '/users', query }, ctx);
  return parseUpstreamUserListV2(res.body, res.status);
}

async function readUserV2(b: SftpgoV2Backend, username: string, ctx: CallContext): Promise<UpstreamUserV2> {
  const res = await sendV2(b, { method: 'GET', path: userPath(username) }, ctx, notFoundOf(username));
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
    secrets: [password],
    // 2.7.5 answers a taken username with 409 (its UNIQUE constraint).
    special: (r) => (r.status === 409 ? conflict(`username "${input.username}" is already taken`) : undefined),
  });
  const user = toUserV2(parseUpstreamUserV2(res.body, res.status), b.context);
  return input.password === undefined ? { user, generatedPassword: password } : { user };
}

/**
 * Read-merge-write of the WHOLE user under its mutex: 2.7.5's PUT resets every field it omits,
 * and two patches in flight through this gateway must not lose each other's changes.
 */
export async function updateUserV2(b: SftpgoV2Backend, id: string, patch: UserPatch, ctx: CallContext): Promise<AdapterUser> {
  const publicKeys = patch.sshKeys === undefined ? undefined : (await parseSshKeyList(patch.sshKeys)).map((k) => k.publicKey);
  const changes = Object.values(patch).some((v) => v !== undefined);
  return b.mutex.run(id, async () => {
    const stored = await readUserV2(b, id, ctx);
    if (!changes) return toUserV2(stored, b.context);
    const merged = mergeUserPatchV2(stored, patch, { publicKeys });
    // The answer is a message, not the user: nothing in it is needed.
    await sendV2(b, { method: 'PUT', path: userPath(id), body: merged }, ctx, {
      ...notFoundOf(id),
      secrets: patch.password !== undefined ? [patch.password] : [],
    });
    return toUserV2(merged, b.context);
  });
}

export async function deleteUserV2(b: SftpgoV2Backend, id: string, ctx: CallContext): Promise<void> {
  await sendV2(b, { method: 'DELETE', path: userPath(id) }, ctx, notFoundOf(id));
}
