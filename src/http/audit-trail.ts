/**
 * The audit trail's HTTP side: the middleware that makes one audit event (src/security/audit.ts)
 * from a write route's request and its answer.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { REPLAYED_HEADER } from '../reliability/idempotency.js';
import { errorText, type AuditAction, type AuditEvent, type AuditSink, type WaitUntil } from '../security/audit.js';
import type { Principal } from '../security/auth.js';
import type { GatewayEnv } from './request-vars.js';

export interface AuditTrailOptions {
  sink: AuditSink;
  action: AuditAction;
  /** The configured backends (only their names are read). */
  backends: ReadonlyMap<string, unknown>;
  /** The target of the `/v1/...` alias form. */
  defaultBackend: string;
  /** Whether a content type is JSON as the routes take it (their media-type gate). */
  isJson(contentType: string): boolean;
  /** A body no route has read yet (a request refused first) is read for its field names only up to this size. */
  maxBodyBytes: number;
}

/**
 * The middleware that audits one write route. Mounted first, before the access check, so it sees
 * every answer: Hono turns an error thrown further in into the `onError` answer before `next()`
 * resolves here. A request that failed authentication has no principal and is not audited.
 *
 * @example const middleware = [auditTrail({ sink, action: 'user.create', backends, defaultBackend, isJson, maxBodyBytes }), accessCheck]
 */
export function auditTrail(opts: AuditTrailOptions): MiddlewareHandler<GatewayEnv> {
  return async function audit(c, next) {
    await next();
    const principal = c.get('principal') as Principal | undefined;
    if (!principal || c.res.headers.get(REPLAYED_HEADER) === 'true') return;
    try {
      opts.sink.emit(await auditEventOf(c, principal.name, opts), waitUntilOf(c));
    } catch (err) {
      // The request's answer stands whatever happens here.
      c.get('logger').error({ err: errorText(err), action: opts.action }, 'audit: the event could not be recorded');
    }
  };
}

async function auditEventOf(c: Context<GatewayEnv>, apiKey: string, opts: AuditTrailOptions): Promise<AuditEvent> {
  const body = await requestBody(c, opts);
  const status = c.res.status;
  return {
    kind: 'audit',
    time: new Date().toISOString(),
    requestId: c.get('requestId'),
    apiKey,
    backend: backendOf(c, opts),
    action: opts.action,
    userId: opts.action === 'user.create' ? createdUserId(c.res, status) : (c.req.param('id') ?? null),
    username: await usernameOf(c, opts.action, body, status),
    fields: fieldNames(body),
    status,
  };
}

function backendOf(c: Context<GatewayEnv>, opts: AuditTrailOptions): string | null {
  const name = c.req.param('backend') ?? opts.defaultBackend;
  return opts.backends.has(name) ? name : null;
}

/** The new user's id, from the created answer's `Location` (`…/users/{id}`): no body to read. */
function createdUserId(res: Response, status: number): string | null {
  if (status !== 201) return null;
  const location = res.headers.get('location');
  const last = location?.slice(location.lastIndexOf('/') + 1);
  if (!last) return null;
  try {
    return decodeURIComponent(last);
  } catch {
    return null;
  }
}

/** Caller text is bounded: a refused request may hold a name of any length. */
const MAX_NAME_LENGTH = 256;

async function usernameOf(c: Context<GatewayEnv>, action: AuditAction, body: unknown, status: number): Promise<string | null> {
  if (action === 'user.create') return boundedName(isObject(body) ? body.username : undefined);
  if (action !== 'user.update' || status !== 200) return null;
  try {
    // The answer's copy: the request's body stays untouched for the caller.
    const answer: unknown = await c.res.clone().json();
    return boundedName(isObject(answer) ? answer.username : undefined);
  } catch {
    return null;
  }
}

function boundedName(value: unknown): string | null {
  return typeof value === 'string' && value.length <= MAX_NAME_LENGTH ? value : null;
}

/** At most this many field names: a refused body may have any number of them. */
const MAX_FIELDS = 64;

/**
 * The body's top-level field names, sorted, at most MAX_FIELDS of at most MAX_NAME_LENGTH
 * characters each. Never a value.
 *
 * @example fieldNames({ username: 'a', password: 'b' }) // ['password', 'username']
 */
export function fieldNames(body: unknown): string[] {
  if (!isObject(body)) return [];
  return Object.keys(body)
    .sort()
    .slice(0, MAX_FIELDS)
    .map((name) => (name.length > MAX_NAME_LENGTH ? `${name.slice(0, MAX_NAME_LENGTH)}…` : name));
}

/**
 * The parsed JSON body, or undefined. What the route already read is parsed again from Hono's
 * cache; a body no route read (a request refused before validation) is read here, up to the
 * routes' own size limit (a larger one, declared or found, is not read on).
 */
async function requestBody(c: Context<GatewayEnv>, opts: AuditTrailOptions): Promise<unknown> {
  if (!opts.isJson(c.req.header('content-type') ?? '')) return undefined;
  try {
    if (Object.keys(c.req.bodyCache).length > 0) return (await c.req.json()) as unknown;
    const text = await readUnreadBody(c.req.raw, opts.maxBodyBytes);
    return text === undefined ? undefined : (JSON.parse(text) as unknown);
  } catch {
    return undefined; // malformed JSON, or a body that failed to arrive: no fields
  }
}

async function readUnreadBody(raw: Request, maxBytes: number): Promise<string | undefined> {
  if (!raw.body || raw.bodyUsed) return undefined;
  if (Number(raw.headers.get('content-length') ?? 0) > maxBytes) return undefined;
  const reader = raw.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder().decode(bytes);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The Worker's `waitUntil`; Hono's getter throws where there is no execution context (Node). */
function waitUntilOf(c: Context<GatewayEnv>): WaitUntil | undefined {
  try {
    const ctx = c.executionCtx;
    return (work) => ctx.waitUntil(work);
  } catch {
    return undefined;
  }
}
