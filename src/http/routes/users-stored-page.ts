/**
 * The list route's own first step (src/http/routes/users.ts): a stored page answered at once.
 *
 * Most list reads are cache hits, and on a hit validating the query with zod and running the
 * handler cost more CPU than sending the answer. This step runs after the route's access check
 * (the pipeline's `authorize`, as for every route) and before its validation. It reads the query
 * with a parser that accepts only its plainest spellings and answers when the page is stored.
 * Anything else goes on to validation and the handler, which answer it as before, errors
 * included: another spelling of the query, `include=raw`, `Cache-Control: no-cache`, a bad
 * cursor, a page not stored or being loaded, a store failing. What it found goes on with it: a
 * store that held nothing is not read again by the handler.
 */
import type { MiddlewareHandler } from 'hono';
import type { CachedRead, ListCache } from '../../cache/list-cache.js';
import { UserStatus } from '../../domain/model.js';
import { decodeCursor } from '../cursor.js';
import { PRIVATE_ANSWER, completeAnswer } from '../pipeline.js';
import type { BackendEntry, GatewayEnv } from '../request-vars.js';

/** The list query as the route's schema reads it (src/http/routes/users.ts ListQuery). */
export interface PlainListQuery {
  limit: number;
  order: 'asc' | 'desc';
  status: UserStatus | undefined;
  username: string | undefined;
  cursor: string | undefined;
}

/** A value that needs no decoding (no `%`, no `+`): Hono and zod read it as written. */
const PLAIN_VALUE = /^[A-Za-z0-9._~-]+$/;
const LIMIT = /^[1-9][0-9]{0,2}$/;
const STATUSES: ReadonlySet<string> = new Set(UserStatus.options);

/**
 * The list query when written plainly, else undefined (the route's zod schema then reads it, and
 * answers any mistake): each of limit, cursor, username, status and order at most once, as
 * `name=value` with a PLAIN_VALUE; `limit` 1..500 in plain digits; nothing else, `include` neither.
 * What it accepts, it reads as the route's ListQuery does (test/users-stored-page.test.ts).
 *
 * @example parsePlainListQuery('limit=10&status=active') // { limit: 10, order: 'asc', status: 'active', … }
 */
export function parsePlainListQuery(search: string): PlainListQuery | undefined {
  const q: PlainListQuery = { limit: 100, order: 'asc', status: undefined, username: undefined, cursor: undefined };
  if (search === '') return q;
  const seen = new Set<string>();
  for (const pair of search.split('&')) {
    const eq = pair.indexOf('=');
    const name = pair.slice(0, eq);
    const value = pair.slice(eq + 1);
    if (eq < 1 || seen.has(name) || !PLAIN_VALUE.test(value)) return undefined;
    seen.add(name);
    if (name === 'limit' && LIMIT.test(value) && Number(value) <= 500) q.limit = Number(value);
    else if (name === 'order' && (value === 'asc' || value === 'desc')) q.order = value;
    else if (name === 'status' && STATUSES.has(value)) q.status = value as UserStatus;
    else if (name === 'username' && value.length <= 255) q.username = value;
    else if (name === 'cursor' && value.length <= 512) q.cursor = value;
    else return undefined;
  }
  return q;
}

/** The key a list is cached under and its cursors are bound to. */
export function listKey(backend: BackendEntry, q: { order: string; status?: string | undefined; username?: string | undefined }): string {
  return [backend.name, q.order, q.status ?? '', q.username ?? ''].join('\u0000');
}

/** The cache key of one page of the list `key` (see listKey). */
export function pageKey(key: string, offset: number, limit: number): string {
  return `users:page:${key}\u0000${offset}\u0000${limit}`;
}

/** A caller's `Cache-Control: no-cache`: read the upstream, then store its answer. */
export function wantsFreshRead(cacheControl: string | undefined): boolean {
  return cacheControl !== undefined && /no-cache/i.test(cacheControl);
}

/** The headers of a list answer: its type, what a cache may do with it, `X-Cache`, and `Age` on a hit. */
export function listAnswerHeaders(read: CachedRead): Record<string, string> {
  return {
    'content-type': 'application/json',
    'cache-control': PRIVATE_ANSWER,
    'x-cache': read.cache,
    ...(read.ageSeconds !== undefined ? { age: String(read.ageSeconds) } : {}),
  };
}

/**
 * A stored page's answer. A bare Response with plain headers (its own X-Request-Id among them):
 * @hono/node-server then writes it without building a Headers object — most of a hit's cost otherwise.
 */
export function storedPageResponse(requestId: string, page: CachedRead): Response {
  return new Response(page.body, { status: 200, headers: { 'x-request-id': requestId, ...listAnswerHeaders(page) } });
}

/** The stored-page step of the list route: answers a stored page, or hands on to validation. */
export function storedPageStep(cache: ListCache): MiddlewareHandler<GatewayEnv> {
  return async function storedPage(c, next) {
    if (wantsFreshRead(c.req.header('cache-control'))) return next();
    const url = c.req.url;
    const mark = url.indexOf('?');
    const query = parsePlainListQuery(mark < 0 ? '' : url.slice(mark + 1));
    if (!query) return next();
    const backend = c.get('backend');
    const key = listKey(backend, query);
    let offset = 0;
    if (query.cursor !== undefined) {
      try {
        offset = decodeCursor(query.cursor, key);
      } catch {
        return next(); // the handler answers the bad cursor
      }
    }
    const found = await cache.lookup(backend.name, pageKey(key, offset, query.limit));
    if (found.hit) return completeAnswer(c, storedPageResponse(c.get('requestId'), found.hit));
    if (found.miss) c.set('storeMiss', found.miss); // the handler's read starts from it
    return next();
  };
}
