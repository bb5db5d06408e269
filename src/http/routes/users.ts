/** Users: list, create, get, patch, delete, password rotation and set (CONTRACT §1–2). */
import { z, type OpenAPIHono } from '@hono/zod-openapi';
import { decodeCursor, encodeCursor } from '../cursor.js';
import type { CachedRead, ValueCodec } from '../../cache/list-cache.js';
import { pageOfAll, sortByUsername } from '../../domain/paging.js';
import { mapYielding } from '../../domain/yielding.js';
import type { BackendEntry, GatewayEnv } from '../request-vars.js';
import { invalidRequest } from '../../domain/errors.js';
import {
  CreatedUser, PasswordInput, PasswordRotation, User, UserCreate, UserPatch, UserStatus, pageOf,
  type AdapterUser,
} from '../../domain/model.js';
import { UserIdParams, jsonResponse, mountBackendRoute, type RouteDeps } from '../route-kit.js';
import {
  createdUserExample, passwordInputExample, passwordRotationExample, updatedUserExample, userCreateExample, userExample,
  userPageExample, userPatchExample,
} from '../openapi-examples.js';
import { listAnswerHeaders, listKey, pageKey, storedPageStep, wantsFreshRead } from './users-stored-page.js';

const IncludeQuery = z
  .object({
    include: z.enum(['raw']).optional().openapi({ description: "`raw` adds the provider's own object (admin scope)" }),
  })
  .strict();
export const ListQuery = IncludeQuery.extend({
  limit: z.coerce.number().int().min(1).max(500).default(100).openapi({ description: 'Users per page', example: 50 }),
  cursor: z.string().min(1).max(512).optional().openapi({
    description: "The previous answer's `nextCursor`, unchanged, with the same filters and order",
    example: 'eyJ2IjoxLCJvIjo1MCwicSI6Ijc0ZjJjOWExIn0',
  }),
  username: z.string().min(1).max(255).optional().openapi({ description: 'Exact, case-sensitive match' }),
  status: UserStatus.optional(),
  order: z.enum(['asc', 'desc']).default('asc').openapi({ description: 'By username' }),
}).strict();

const UserPage = pageOf(User, 'UserPage');
const utf8 = new TextDecoder();

/** A user as answered: the model's fields, and `raw` when asked. */
type Presented = Omit<z.infer<typeof User>, 'raw'> & { raw?: unknown };

/**
 * `raw` only when asked (the access check already required admin for it). Without it, the
 * adapter's object goes out as it is: its `raw` is a function, which JSON never writes, and a
 * copy without it cost ~0.5 µs per listed user.
 */
export function present(user: AdapterUser, includeRaw: boolean): Presented {
  return includeRaw ? { ...user, raw: user.raw() } : user;
}

/**
 * A user as a kept list holds it: plain data, nothing of the upstream object behind it. Written
 * out field by field (the type makes the literal name every field): seven times faster than a
 * rest spread, ~60 ms of a 50,000-user load.
 */
function withoutRaw(u: AdapterUser): Omit<AdapterUser, 'raw'> {
  return {
    id: u.id, backend: u.backend, provider: u.provider, username: u.username, displayName: u.displayName, status: u.status,
    accessLevel: u.accessLevel, permissions: u.permissions, directoryPermissions: u.directoryPermissions,
    homeDirectory: u.homeDirectory, chrootDirectory: u.chrootDirectory, expiresAt: u.expiresAt, sshKeyCount: u.sshKeyCount,
    host: u.host, uri: u.uri, isRoot: u.isRoot, limits: u.limits, usage: u.usage, createdAt: u.createdAt, updatedAt: u.updatedAt,
    lastLoginAt: u.lastLoginAt, passwordChangedAt: u.passwordChangedAt,
  };
}

export type ListQuery = z.infer<typeof ListQuery>;

/**
 * SFTP To Go's whole list as the cache holds it: the users' JSON. Its pages are cut from the
 * users; requests that share a load share the users themselves (ListCache.readValue), and only
 * a hit parses the text again.
 */
const USER_LIST: ValueCodec<Presented[]> = {
  toText: (users) => JSON.stringify(users),
  fromBytes: (bytes) => JSON.parse(utf8.decode(bytes)) as Presented[],
};

/**
 * A caller-chosen password shorter than `min` code points is a 400, where the backend takes a
 * caller's password at all (elsewhere the adapter's 422 says it cannot).
 */
function checkPasswordLength(password: string | undefined, backend: BackendEntry, min: number): void {
  if (password === undefined || !backend.adapter.operations.passwordSet) return;
  const length = [...password].length;
  if (length < min) {
    throw invalidRequest(`password must be at least ${min} characters long (it has ${length})`, [
      { path: 'password', message: `shorter than ${min} characters` },
    ]);
  }
}

export function mountUserRoutes(app: OpenAPIHono<GatewayEnv>, deps: RouteDeps): void {
  const tag = 'Users';

  mountBackendRoute(app, deps, {
    method: 'get', path: '/users', operationId: 'listUsers', tag, scope: 'read',
    summary: 'List users',
    description: 'Cursor-paginated, filtered by exact `username` and `status`, ordered by username. ' +
      'Answers say `X-Cache: HIT | MISS | BYPASS`; send `Cache-Control: no-cache` to read the upstream. ' +
      'A query parameter not listed here is a 400.',
    query: ListQuery,
    // A stored page in its plainest query is answered there, before validation.
    before: storedPageStep(deps.cache),
    success: { status: 200, description: 'A page of users', schema: UserPage, example: userPageExample },
  }, async (c, { query, backend, ctx }) => {
    const refresh = wantsFreshRead(c.req.header('cache-control'));
    const key = listKey(backend, query);
    const offset = query.cursor ? decodeCursor(query.cursor, key) : 0;
    const q = { limit: query.limit, offset, order: query.order, username: query.username, status: query.status };
    const serialize = (page: { data: unknown[]; nextOffset: number | null }) =>
      JSON.stringify({ data: page.data, nextCursor: page.nextOffset === null ? null : encodeCursor(page.nextOffset, key) });
    const { adapter } = backend;
    const { listAllUsers } = adapter;
    const miss = c.get('storeMiss'); // where the stored-page step found nothing: not read again
    let read: CachedRead;
    if (query.include === 'raw') {
      // Admin-only and rare: always read live rather than cache a second, larger copy.
      const page = await adapter.listUsers(q, ctx);
      read = { body: serialize({ ...page, data: page.data.map((u) => present(u, true)) }), cache: 'BYPASS' };
    } else if (listAllUsers) {
      // Every user comes in one upstream answer: cache that once, page and filter it here.
      // Sorted once per load: every page is then cut from it (pageOfAll's `sorted`). Kept for
      // the cache's lifetime, so without `raw`: its closure would hold every upstream object.
      const loadUsers = async () => sortByUsername(await mapYielding(await listAllUsers.call(adapter, ctx), withoutRaw));
      read = await deps.cache.read(backend.name, pageKey(key, offset, query.limit), async () => {
        // Overlapping loads share one upstream call and its users, with a store or without one
        // (then no JSON of the whole list is made: only the page is serialized).
        const all = await deps.cache.readValue(backend.name, 'users:all', loadUsers, USER_LIST, refresh);
        return serialize(pageOfAll(all, q, true));
      }, refresh, miss);
    } else {
      read = await deps.cache.read(backend.name, pageKey(key, offset, query.limit), async () => {
        const page = await adapter.listUsers(q, ctx);
        return serialize({ ...page, data: page.data.map((u) => present(u, false)) });
      }, refresh, miss);
    }
    return c.body(read.body, 200, listAnswerHeaders(read));
  });

  mountBackendRoute(app, deps, {
    method: 'post', path: '/users', operationId: 'createUser', tag, scope: 'write', idempotent: true,
    summary: 'Create a user',
    description: 'Omit `password` to have one generated: it is returned once, in this answer.',
    conflicts: 'the username is taken',
    body: UserCreate, bodyExample: userCreateExample,
    success: {
      status: 201, description: 'The created user', schema: CreatedUser, example: createdUserExample,
      headers: { Location: { description: 'The new user', schema: { type: 'string' } } },
    },
  }, async (c, { body, backend, ctx }) => {
    checkPasswordLength(body.password, backend, deps.passwordMinLength);
    const { user, generatedPassword } = await backend.adapter.createUser(body, ctx);
    const location = `/v1/backends/${encodeURIComponent(backend.name)}/users/${encodeURIComponent(user.id)}`;
    // A create answer may carry the one-time password: no cache may keep any create answer.
    return jsonResponse(c, 201, { ...present(user, false), ...(generatedPassword ? { password: generatedPassword } : {}) }, {
      location, 'cache-control': 'no-store',
    });
  });

  mountBackendRoute(app, deps, {
    method: 'get', path: '/users/{id}', operationId: 'getUser', tag, scope: 'read',
    summary: 'Get a user', params: UserIdParams, query: IncludeQuery,
    success: { status: 200, description: 'The user', schema: User, example: userExample },
  }, async (c, { params, query, backend, ctx }) =>
    jsonResponse(c, 200, present(await backend.adapter.getUser(params.id, ctx), query.include === 'raw')));

  mountBackendRoute(app, deps, {
    method: 'patch', path: '/users/{id}', operationId: 'updateUser', tag, scope: 'write',
    summary: 'Update a user',
    description: 'Only fields present change; `null` clears a nullable field. A `password` sets it. `limits` merges ' +
      'field by field; `sshKeys`, `networkRules` and `directoryPermissions` replace the whole set. `accessLevel` or ' +
      '`permissions` replace the root directory\'s permissions only; a patch that sets neither leaves every permission ' +
      'the provider holds as it was.',
    conflicts: "a new username is taken, the patch renames SFTP To Go's root credential, or it removes every SSH key " +
      'of an SFTPGo user without a password',
    params: UserIdParams, body: UserPatch, bodyExample: userPatchExample,
    success: { status: 200, description: 'The updated user', schema: User, example: updatedUserExample },
  }, async (c, { params, body, backend, ctx }) => {
    checkPasswordLength(body.password, backend, deps.passwordMinLength);
    return jsonResponse(c, 200, present(await backend.adapter.updateUser(params.id, body, ctx), false));
  });

  mountBackendRoute(app, deps, {
    method: 'delete', path: '/users/{id}', operationId: 'deleteUser', tag, scope: 'write',
    summary: 'Delete a user', params: UserIdParams, conflicts: "the user is SFTP To Go's root credential",
    success: { status: 204, description: 'Deleted' },
  }, async (c, { params, backend, ctx }) => {
    await backend.adapter.deleteUser(params.id, ctx);
    return c.body(null, 204);
  });

  mountBackendRoute(app, deps, {
    method: 'post', path: '/users/{id}/password-rotations', operationId: 'rotatePassword', tag, scope: 'write', idempotent: true,
    capability: 'passwordRotation', summary: 'Rotate the password',
    description: 'The new password is in this answer, once; it is never stored or shown again.',
    params: UserIdParams,
    success: { status: 200, description: 'The new password', schema: PasswordRotation, example: passwordRotationExample },
  }, async (c, { params, operations, ctx }) =>
    jsonResponse(c, 200, await operations.rotatePassword(params.id, ctx), { 'cache-control': 'no-store' }));

  mountBackendRoute(app, deps, {
    method: 'put', path: '/users/{id}/password', operationId: 'setPassword', tag, scope: 'write',
    capability: 'passwordSet', summary: 'Set a caller-chosen password', params: UserIdParams,
    description: "Shorter than the gateway's `passwordMinLength` (default 12 code points) is a 400.",
    body: PasswordInput, bodyExample: passwordInputExample,
    success: { status: 204, description: 'Set' },
  }, async (c, { params, body, backend, operations, ctx }) => {
    checkPasswordLength(body.password, backend, deps.passwordMinLength);
    await operations.setPassword(params.id, body.password, ctx);
    return c.body(null, 204);
  });
}
