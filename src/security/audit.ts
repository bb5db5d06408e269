/**
 * The audit trail (CONTRACT §7 `audit`): who did what to which user, when.
 *
 * Every write-route request that passed authentication emits exactly one event, whatever its
 * answer (a 403, a 404, a 501, a 400, a 409, a 5xx, a 2xx); an `Idempotency-Key` replay emits
 * none (the first request emitted its own). An event holds names only: the API key's name, the
 * backend's, the body's top-level field names — never a password, a key or any body value.
 *
 * Emitting is a synchronous enqueue: the audit never delays or fails the request it records.
 * The events are made from requests by src/http/audit-trail.ts. Sinks: a line per event (stdout on Node, `console.log` on Workers), a file (src/node/audit.ts)
 * or an HTTP receiver (src/security/audit-http.ts: signed, retried with backoff, bounded). Runs on Node and on Workers.
 */
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
/** A write route's action, or a user created by a migration run (one event per user, src/migration/run.ts). */
export type AuditAction = (typeof AUDIT_ACTIONS)[keyof typeof AUDIT_ACTIONS] | 'user.migrate';

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

/** An error's message, with its (or its cause's) code: what a failed write or delivery logs. */
export function errorText(err: unknown): string {
  if (err instanceof Error) {
    const code = (err.cause as { code?: unknown } | undefined)?.code ?? (err as { code?: unknown }).code;
    return typeof code === 'string' ? `${err.message} (${code})` : err.message;
  }
  return String(err);
}
