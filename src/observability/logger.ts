/**
 * Structured JSON logs with secrets redacted, on any runtime.
 *
 * `Logger` is the small shape the app needs (pino's call shape), so pino on Node
 * (src/node/logger.ts) and the JSON-lines logger below (Cloudflare Workers, tests) both fit it.
 * This file imports nothing: the Workers bundle must not pull in pino's Node build.
 *
 * Both loggers censor REDACT_PATHS wherever a caller passes an object; the request logger never
 * logs bodies, so these are the second line of defence, not the first.
 */

/** One logging method: `log.info({ field }, 'message')` or `log.info('message')`. */
export interface LogFn {
  (obj: object, msg?: string): void;
  (msg: string): void;
}

export interface Logger {
  error: LogFn;
  warn: LogFn;
  info: LogFn;
  debug: LogFn;
  /** A logger whose every line also carries `bindings` (e.g. the request id). */
  child(bindings: Record<string, unknown>): Logger;
  /** Whether a line at `level` would be written (pino's method of the same name). */
  isLevelEnabled(level: string): boolean;
}

export const REDACT_PATHS = [
  'password', '*.password', '*.*.password', 'Password', '*.Password',
  'apiKey', '*.apiKey', '*.*.apiKey', 'key', '*.key', 'authorization', '*.authorization',
  '*.*.authorization', 'Authorization', '*.Authorization', '*.*.Authorization',
  'headers.authorization', 'req.headers.authorization',
];

export const REDACTED = '[redacted]';

/** pino's numeric levels; `silent` logs nothing. */
export const LEVELS = { fatal: 60, error: 50, warn: 40, info: 30, debug: 20, trace: 10, silent: Infinity } as const;
export type LevelName = keyof typeof LEVELS;

export function isLevelName(name: string): name is LevelName {
  return Object.hasOwn(LEVELS, name);
}

/**
 * A copy of `value` with every path of `paths` (pino's syntax: `a.b`, `*` for any one key or
 * array index) replaced by `[redacted]` where it exists. The input is never modified.
 *
 * @example redact({ a: { password: 'x' } }, ['*.password']) // { a: { password: '[redacted]' } }
 */
export function redact<T>(value: T, paths: readonly string[] = REDACT_PATHS): T {
  let out: unknown = value;
  for (const path of paths) out = censorPath(out, path.split('.'));
  return out as T;
}

/** Copy-on-write: only the objects along a matched path are cloned. */
function censorPath(node: unknown, segments: string[]): unknown {
  if (node === null || typeof node !== 'object') return node;
  const [head, ...rest] = segments;
  if (head === undefined) return node;
  const keys = head === '*' ? Object.keys(node) : Object.hasOwn(node, head) ? [head] : [];
  let copy: Record<string, unknown> | unknown[] | undefined;
  for (const k of keys) {
    const current = (node as Record<string, unknown>)[k];
    const next = rest.length === 0 ? REDACTED : censorPath(current, rest);
    if (next === current) continue;
    copy ??= Array.isArray(node) ? [...node] : { ...(node as Record<string, unknown>) };
    (copy as Record<string, unknown>)[k] = next;
  }
  return copy ?? node;
}

/** pino's `err` serializer, in small: type, message and stack (with causes), own fields. */
function serializeError(err: Error): Record<string, unknown> {
  const out: Record<string, unknown> = { type: err.constructor?.name ?? err.name, message: err.message, stack: err.stack };
  let cause = err.cause;
  for (let depth = 0; cause instanceof Error && depth < 5; depth++, cause = cause.cause) {
    out.message = `${String(out.message)}: ${cause.message}`;
    out.stack = `${String(out.stack)}\ncaused by: ${cause.stack ?? cause.message}`;
  }
  for (const [k, v] of Object.entries(err)) if (!(k in out) && k !== 'cause') out[k] = v;
  return out;
}

export interface LoggerOptions {
  /** @default 'info' */
  level?: string;
  /** Where lines go, one JSON line per call; a test passes a sink to capture them. @default console.log */
  destination?: { write(line: string): void };
}

/**
 * A JSON-lines logger with pino's output shape (`level` label, ISO `time`, `service`, the
 * bindings, the fields, `msg`) and the same redaction. Runs anywhere: the Worker's logger, and
 * a light one for tests. Node's entry uses pino (src/node/logger.ts).
 *
 * @example createLogger({ level: 'debug' }).child({ requestId: 'r1' }).info({ status: 200 }, 'request')
 */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const levelName = opts.level ?? 'info';
  if (!isLevelName(levelName)) throw new Error(`unknown log level "${levelName}"`);
  const threshold = LEVELS[levelName];
  // Without a destination, each line goes through console.log: on Workers that is the log stream.
  const write = opts.destination ? (line: string) => opts.destination!.write(line) : (line: string) => console.log(line.slice(0, -1));

  function make(bindings: Record<string, unknown>): Logger {
    const method = (level: Exclude<LevelName, 'silent'>): LogFn =>
      function log(objOrMsg: object | string, msg?: string): void {
        if (LEVELS[level] < threshold) return;
        // As pino: a bare Error is logged as `err`, with its message as the line's message.
        const fields = typeof objOrMsg === 'string' ? {} : objOrMsg instanceof Error ? { err: objOrMsg } : objOrMsg;
        const text = typeof objOrMsg === 'string' ? objOrMsg : objOrMsg instanceof Error ? (msg ?? objOrMsg.message) : msg;
        const err = (fields as { err?: unknown }).err;
        const line = redact({
          level,
          time: new Date().toISOString(),
          service: 'sftp-gateway',
          ...bindings,
          ...fields,
          ...(err instanceof Error ? { err: serializeError(err) } : {}),
          ...(text === undefined ? {} : { msg: text }),
        });
        write(`${safeStringify(line)}\n`);
      } as LogFn;
    return {
      error: method('error'),
      warn: method('warn'),
      info: method('info'),
      debug: method('debug'),
      child: (more) => make({ ...bindings, ...more }),
      isLevelEnabled: (level) => isLevelName(level) && LEVELS[level] >= threshold,
    };
  }
  return make({});
}

/** JSON.stringify that survives cycles and BigInts: a log call must never throw. */
function safeStringify(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch {
    // Rare: a cycle or a BigInt. Repeated references become '[Circular]' here, which is fine.
  }
  const seen = new WeakSet<object>();
  return JSON.stringify(value, (_k, v: unknown) => {
    if (typeof v === 'bigint') return v.toString();
    if (v !== null && typeof v === 'object') {
      if (seen.has(v)) return '[Circular]';
      seen.add(v);
    }
    return v;
  });
}

/**
 * `logger.child(bindings)`, made on the first line it logs: most requests log only their request
 * line (written by the parent with the same fields), and a pino child per request was a
 * measurable part of a cache hit.
 */
export function lazyChild(logger: Logger, bindings: Record<string, unknown>): Logger {
  let made: Logger | undefined;
  const child = () => (made ??= logger.child(bindings));
  const method = (level: 'error' | 'warn' | 'info' | 'debug'): LogFn =>
    ((objOrMsg: object | string, msg?: string) => {
      if (!logger.isLevelEnabled(level)) return; // a dropped line (an upstream call's debug) makes no child
      const target = child();
      if (typeof objOrMsg === 'string') target[level](objOrMsg);
      else target[level](objOrMsg, msg);
    }) as LogFn;
  return {
    error: method('error'), warn: method('warn'), info: method('info'), debug: method('debug'),
    child: (more) => child().child(more),
    isLevelEnabled: (level) => logger.isLevelEnabled(level),
  };
}
