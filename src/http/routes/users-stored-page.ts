/**
 * A stored page of users, answered ahead of the route's middleware stack.
 *
 * Most list reads are cache hits, and on a hit the general route stack (request context, metrics,
 * access check, two zod validators, the handler) cost more CPU than sending the answer. This
 * middleware runs first on the two list paths. It makes the same access checks with the same
 * functions (the API key, the read scope, the backend and the key's grant of it), reads the query
 * with a parser that accepts only its plainest spellings, and answers when the page is stored,
 * writing the same log line and metrics as the stack would. Anything else goes on to the full
 * route, which answers it as before, errors included: no key or a refused one, another spelling
 * of the query, `include=raw`, `Cache-Control: no-cache`, a page not stored or being loaded, a
 * store failing.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { mayReach, type RequestAuthenticator } from '../../security/auth.js';
import { decodeCursor } from '../cursor.js';
import type { BackendEntry, GatewayEnv, Principal } from '../request-vars.js';
import type { CachedRead, ListCache } from '../../cache/list-cache.js';
import type { Logger } from '../../observability/logger.js';
import type { Metrics } from '../../observability/metrics.js';
import { UserStatus } from '../../domain/model.js';
import { requestIdOf } from '../request-id.js';
import { listAnswerHeaders, listKey, pageKey, wantsFreshRead, type ListQuery } from './users.js';

export interface CachedListDeps {
  authenticate: RequestAuthenticator;
  backends: ReadonlyMap<string, BackendEntry>;
  defaultBackend: string;
  cache: ListCache;
  requestLogger: Logger;
  metrics: Metrics;
}

export type PlainListQuery = Pick<ListQuery, 'limit' | 'order' | 'status' | 'username' | 'cursor'>;

/** A value that needs no decoding (no `%`, no `+`): Hono and zod read it as written. */
const PLAIN_VALUE = /^[A-Za-z0-9._~-]+$/;
const LIMIT = /^[1-9][0-9]{0,2}$/;
const STATUSES: ReadonlySet<string> = new Set(UserStatus.options);

/**
 * The list query when written plainly, else undefined (the route's zod schema then reads it, and
 * answers any mistake): each of limit, cursor, username, status and order at most once, as
 * `name=value` with a PLAIN_VALUE; `limit` 1..500 in plain digits; nothing else, `include` neither.
 * What it accepts, it reads as the route's ListQuery does (test/users-cached.test.ts).
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

/** The key's principal; undefined when it is missing or wrong (the route answers that). */
async function principalOf(authenticate: RequestAuthenticator, c: Context<GatewayEnv>): Promise<Principal | undefined> {
  try {
    return await authenticate(c);
  } catch {
    return undefined;
  }
}

/** The stored page this request asks for, or undefined when the full route must answer it. */
async function storedPage(
  deps: CachedListDeps,
  c: Context<GatewayEnv>,
): Promise<{ page: CachedRead; principal: Principal; backend: BackendEntry } | undefined> {
  if (c.req.method !== 'GET' || wantsFreshRead(c.req.header('cache-control'))) return undefined;
  const url = c.req.url;
  const mark = url.indexOf('?');
  const query = parsePlainListQuery(mark < 0 ? '' : url.slice(mark + 1));
  if (!query) return undefined;
  const principal = await principalOf(deps.authenticate, c);
  if (!principal?.scopes.has('read')) return undefined;
  const name = c.req.param('backend') ?? deps.defaultBackend;
  const backend = deps.backends.get(name);
  if (!backend || !mayReach(principal, name)) return undefined;
  const key = listKey(backend, query);
  let offset = 0;
  if (query.cursor !== undefined) {
    try {
      offset = decodeCursor(query.cursor, key);
    } catch {
      return undefined;
    }
  }
  const page = await deps.cache.peek(backend.name, pageKey(key, offset, query.limit));
  return page && { page, principal, backend };
}

/** A stored page's answer, and what its request's metrics and log line say. */
export interface StoredPageAnswer {
  /** `performance.now()` when the request began. */
  started: number;
  requestId: string;
  route: string;
  backend: string;
  principal: string;
  page: CachedRead;
}

/**
 * The answer of a stored page, with the request metrics and log line that requestContext and
 * requestMetrics (src/http/app.ts) write for the full route. bench/servers.ts's envelope answers
 * through it too, so the bench measures this code.
 */
export function answerStoredPage(out: Pick<CachedListDeps, 'metrics' | 'requestLogger'>, a: StoredPageAnswer): Response {
  // Plain headers: @hono/node-server then writes them without building a Headers object.
  const res = new Response(a.page.body, { status: 200, headers: { 'x-request-id': a.requestId, ...listAnswerHeaders(a.page) } });
  const ms = performance.now() - a.started;
  out.metrics.observeRequest({ route: a.route, method: 'GET', status: 200, backend: a.backend, seconds: ms / 1000 });
  out.requestLogger.info(
    { requestId: a.requestId, method: 'GET', route: a.route, status: 200, durationMs: Math.round(ms * 10) / 10, backend: a.backend, principal: a.principal },
    'request',
  );
  return res;
}

export function cachedUserList(deps: CachedListDeps): MiddlewareHandler<GatewayEnv> {
  return async function cachedUserPage(c, next) {
    const started = performance.now();
    const found = await storedPage(deps, c);
    if (!found) return next();
    return answerStoredPage(deps, {
      started,
      requestId: requestIdOf(c.req.header('x-request-id')),
      route: c.req.param('backend') === undefined ? '/v1/users' : '/v1/backends/:backend/users',
      backend: found.backend.name,
      principal: found.principal.name,
      page: found.page,
    });
  };
}
