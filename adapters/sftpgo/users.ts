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
import { UpstreamUser, parseUpstream } from './schema.js';

/** SFTPGo clamps `limit` above this. */
const PAGE_MAX = 500;
/** Upstream pages one status-filtered list request may read before it answers with what it has. */
const MAX_SCAN_PAGES = 20;

/** Asks one more than wanted to know whether a next page exists (a probe of 1 when that exceeds 500). */
async function listPage(b: SftpgoBackend, q: ListUsersQuery, limit: number, ctx: CallContext): Promise<UserPage> {
  const ask = Math.min(limit + 1, PAGE_MAX);
  const users = await fetchUserPage(b, q, q.offset, ask, ctx);
  let more = users.length > limit;
  if (!more && ask === limit && users.length === limit) {
    more = (await fetchUserPage(b, q, q.offset + limit, 1, ctx)).length > 0;
  }
  return { data: users.slice(0, limit).map((u) => toUser(u, b.context)), nextOffset: more ? q.offset + limit : null };
}

/**
 * SFTPGo API v1 cannot filter by status: scan pages of 500 from the caller's position and keep
 * the matches. nextOffset is the upstream position just after the last user consumed, so the
 * next page resumes exactly there. After MAX_SCAN_PAGES the page is answered as it stands: it
 * may be short (fewer than `limit`, even empty) but never wrong, and its nextOffset goes on.
 */
async function listByStatus(b: SftpgoBackend, q: ListUsersQuery, limit: number, ctx: CallContext): Promise<UserPage> {
  const wanted = q.status === 'active' ? 1 : 0;
  const kept: UpstreamUser[] = [];
  const page = (nextOffset: number | null): UserPage => ({ data: kept.map((u) => toUser(u, b.context)), nextOffset });
  let position = q.offset;
  for (let scanned = 0; scanned < MAX_SCAN_PAGES; scanned++) {
    const batch = await fetchUserPage(b, q, position, PAGE_MAX, ctx);
    const lastBatch = batch.length < PAGE_MAX;
    for (const [i, user] of batch.entries()) {
      if (user.status !== wanted) continue;
      kept.push(user);
      if (kept.length === limit) {
        // Known to be the end only when this batch was the last and holds no further match.
        const moreHere = batch.slice(i + 1).some((u) => u.status === wanted);
        return page(lastBatch && !moreHere ? null : position + i + 1);
      }
    }
    if (lastBatch) return page(null);
    position += batch.length;
  }
  return page(position);
}

export async function listUsers(b: SftpgoBackend, q: ListUsersQuery, ctx: CallContext): Promise<UserPage> {
  const limit = Math.min(Math.max(1, Math.trunc(q.limit)), PAGE_MAX);
  return q.status === undefined ? listPage(b, q, limit, ctx) : listByStatus(b, q, limit, ctx);
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
  await send(b, { method: 'DELETE', path: `/user/${userId}` }, ctx, { notFound: `user ${userId} not found`, onUser: true });
}
