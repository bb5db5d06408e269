/**
 * The audit trail (CONTRACT §7 `audit`): who did what to which user, when.
 *
 * Every write-route request that passed authentication emits exactly one event, whatever its
 * answer (a 403, a 404, a 501, a 400, a 409, a 5xx, a 2xx); an `Idempotency-Key` replay emits
 * none (the first request emitted its own). An event holds names only: the API key's name, the
 * backend's, the body's top-level field names — never a password, a key or any body value.
 *
 * Emitting is a synchronous enqueue: the audit never delays or fails the request it records.
 * Sinks: a line per event (stdout on Node, `console.log` on Workers), a file (src/node/audit.ts)
 * or an HTTP receiver (src/security/audit-http.ts: signed, retried with backoff, bounded). Runs on Node and on Workers.
 */
import type { Context, MiddlewareHandler } from 'hono';
import type { GatewayEnv, Principal } from '../http/request-vars.js';
import { REPLAYED_HEADER } from '../reliability/idempotency.js';
import type { Logger } from '../observability/logger.js';

/** What a write route does, by the route's operationId. */
export const AUDIT_ACTIONS = {
  createUser: 'user.create',
  updateUser: 'user.update',
  deleteUser: 'user.delete',
  rotatePassword: 'password.rotate',
  setPassword: 'password.set',
  addSshKey: 'sshKey.add',
  deleteSshKey: 'sshKey.delete',
  replaceNetworkRules: 'networkRules.replace',
  closeConnection: 'connection.close',
  startQuotaScan: 'quotaScan.start',
} as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[keyof typeof AUDIT_ACTIONS];

/**
 * The action of a write route's operationId; a write route without one is a programming error
 * (it would go unaudited), so this throws when the routes are mounted.
 *
 * @example auditActionOf('rotatePassword') // 'password.rotate'
 */
export function auditActionOf(operationId: string): AuditAction {
  const action = (AUDIT_ACTIONS as Record<string, AuditAction | undefined>)[operationId];
  if (!action) throw new Error(`the write route "${operationId}" has no audit action (src/security/audit.ts AUDIT_ACTIONS)`);
  return action;
}

/** One audit event; serialized as one JSON object, in this key order. */
export interface AuditEvent {
  kind: 'audit';
  /** When the answer was made: ISO 8601 UTC with milliseconds. */
  time: string;
  /** The answer's `X-Request-Id`. */
  requestId: string;
  /** The API key's name from the config ("demo" in demo mode); never the key. */
  apiKey: string;
  /** The backend the path names (the default one for the `/v1/...` form); null if none has that name. */
  backend: string | null;
  action: AuditAction;
  /** The `{id}` path parameter; on a create the new user's id once created. */
  userId: string | null;
  /** The requested one on a create, the answer's on a successful update; elsewhere null. */
  username: string | null;
  /** The body's top-level field names, sorted; `[]` without a JSON object body. */
  fields: string[];
  /** The answer's HTTP status. */
  status: number;
}

/** Keeps a Worker alive for work that outlives the answer (`ExecutionContext.waitUntil`). */
export type WaitUntil = (work: Promise<unknown>) => void;

/** Where events go. */
export interface AuditSink {
  /** Records one event: a synchronous enqueue that never throws and never waits. */
  emit(event: AuditEvent, waitUntil?: WaitUntil): void;
  /**
   * Gives what is still pending a chance to finish, for at most `timeoutMs` (the Node entry's
   * shutdown). Resolves true when nothing was left undelivered.
   */
  close(timeoutMs: number): Promise<boolean>;
}

/**
 * A sink that writes each event as one whole line (`JSON + "\n"`) with one `write` call, so it
 * can never be split by, or land inside, another line written through the same `write`. A
 * failing `write` is reported once (until it works again) and never thrown.
 *
 * @example createLineAuditSink((line) => destination.write(line), logger)
 */
export function createLineAuditSink(write: (line: string) => void, logger?: Logger): AuditSink {
  let failing = false;
  return {
    emit(event) {
      try {
        write(`${JSON.stringify(event)}\n`);
        failing = false;
      } catch (err) {
        if (!failing) logger?.error({ err: errorText(err) }, 'audit: an event could not be written; events are lost until writing works again');
        failing = true;
      }
    },
    close: async () => true,
  };
}

/**
 * Each event as a line of its own through `console.log`: the Workers log stream, and the default
 * of `createApp` when no sink is given.
 *
 * @example createApp({ ..., audit: consoleAuditSink() })
 */
export function consoleAuditSink(): AuditSink {
  return createLineAuditSink((line) => console.log(line.slice(0, -1)));
}

// ---------------------------------------------------------------------------------------------
// The event, from a request and its answer

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

/** An error's message, with its (or its cause's) code: what a failed write or delivery logs. */
export function errorText(err: unknown): string {
  if (err instanceof Error) {
    const code = (err.cause as { code?: unknown } | undefined)?.code ?? (err as { code?: unknown }).code;
    return typeof code === 'string' ? `${err.message} (${code})` : err.message;
  }
  return String(err);
}
