/** The user calls of an SFTPGo backend: list (paged, or scanned for a status), get, create, update, delete. */
import {
  conflict, generatePassword, parseSshKeyList,
  type AdapterUser, type CallContext, type CreatedUserResult, type ListUsersQuery, type UserCreate, type UserPage,
  type UserPatch,
} from '../../src/provider-kit/index.js';
import {
  fetchUserPage, keepsAWayIn, modifyUser, readUser, send, userIdOf, withShape, type SftpgoBackend,
} from './backend.js';
import { checkUserPatch, mergeUserPatch, toUpstreamCreate, toUser } from './mapping.js';
import { listByStatus, listPage, pageLimit } from './paging.js';
import { UpstreamUser, parseUpstream } from './schema.js';

export async function listUsers(b: SftpgoBackend, q: ListUsersQuery, ctx: CallContext): Promise<UserPage> {
  const fetchPage = (offset: number, limit: number) => fetchUserPage(b, q, offset, limit, ctx);
  const mapped = (u: UpstreamUser) => toUser(u, b.context);
  const limit = pageLimit(q);
  return q.status === undefined ? listPage(fetchPage, q, limit, mapped) : listByStatus(fetchPage, q, limit, mapped);
}

export async function getUser(b: SftpgoBackend, id: string, ctx: CallContext): Promise<AdapterUser> {
  return toUser(await readUser(b, userIdOf(id), ctx), b.context);
}

async function assertUsernameFree(b: SftpgoBackend, username: string, ctx: CallContext): Promise<void> {
  const found = await fetchUserPage(b, { limit: 1, offset: 0, order: 'asc', username }, 0, 1, ctx);
  // Compared here too: a server that ignored the filter must not make every name look taken.
  if (found.some((u) => u.username === username)) throw conflict(`username "${username}" is already taken`);
}

export async function createUser(b: SftpgoBackend, input: UserCreate, ctx: CallContext): Promise<CreatedUserResult> {
  const publicKeys = (await parseSshKeyList(input.sshKeys ?? [])).map((k) => k.publicKey);
  const password = input.password ?? generatePassword();
  const body = await withShape(b, ctx, (serverShape) =>
    toUpstreamCreate(input, { publicKeys, password, homeDirectoryBase: b.config.homeDirectoryBase, shape: serverShape }));
  await assertUsernameFree(b, input.username, ctx);
  const res = await send(b, { method: 'POST', path: '/user', body }, ctx, {
    apiCheck: true,
    secrets: [password],
    // A create racing ours: every data provider answers it as an internal error (the memory
    // provider of 0.9.x as a 400).
    special: (r, message) =>
      (r.status === 400 || r.status >= 500) && /already exists|unique constraint|duplicate (entry|key)/i.test(message)
        ? conflict(`username "${input.username}" is already taken`)
        : undefined,
  });
  // 200 with the user; 0.9.x leaves out the keys: add the ones we sent (no extra GET).
  const created = parseUpstream(UpstreamUser, res.body, 'a user', res.status);
  b.probe.observe(created);
  const user = toUser(publicKeys.length && !created.public_keys ? { ...created, public_keys: publicKeys } : created, b.context);
  return input.password === undefined ? { user, generatedPassword: password } : { user };
}

export async function updateUser(b: SftpgoBackend, id: string, patch: UserPatch, ctx: CallContext): Promise<AdapterUser> {
  userIdOf(id);
  const keys = patch.sshKeys === undefined ? undefined : (await parseSshKeyList(patch.sshKeys)).map((k) => k.publicKey);
  await withShape(b, ctx, (serverShape) => checkUserPatch(patch, serverShape)); // refusals that need no stored user: before any read
  const changes = Object.values(patch).some((v) => v !== undefined);
  let username = '';
  return modifyUser(b, id, ctx, async (stored) => {
    username = stored.username;
    const merged = changes ? mergeUserPatch(stored, patch, { publicKeys: keys }) : null;
    return { body: merged, result: toUser(merged ?? stored, b.context) };
  }, keepsAWayIn(() => username, 'removing its SSH keys'));
}

export async function deleteUser(b: SftpgoBackend, id: string, ctx: CallContext): Promise<void> {
  const userId = userIdOf(id);
  await send(b, { method: 'DELETE', path: `/user/${userId}` }, ctx, { notFound: `user ${userId} not found`, apiCheck: true });
}
