/**
 * Provider-neutral pieces shared by the provider emulators (SFTPGo, SFTP To Go): a request log,
 * switchable faults for reliability tests, a small control API under `/__emulator`, an in-process
 * `fetch` and a helper that serves an emulator over a real socket.
 *
 * The emulators are test doubles, but real HTTP apps: the gateway talks to them exactly as it
 * talks to the real providers, through `fetch`.
 *
 * @example
 * const kit = createEmulatorKit({ apiPrefix: '/api/v1', errorBody: (status, error) => ({ status, error }) });
 * app.use('*', kit.middleware);
 * app.route('/__emulator', kit.controlRoutes);
 * const fetch = kit.fetchFor(app);
 */
import { Hono } from 'hono';
import type { Context, MiddlewareHandler, Next } from 'hono';
import type { Server } from 'node:http';
import { z } from 'zod';

/** The signature of the global `fetch`, so an emulator can stand in for it. */
export type FetchLike = (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>;

export interface FaultMatch {
  /** HTTP method, case-insensitive. */
  method?: string;
  /** Matched against the full path (`/api/v1/user`) and against the path below the API prefix (`/user`). */
  pathPrefix?: string;
}

/** What goes wrong with the emulator's API requests. Several switches combine (delay, then the rest). */
export interface EmulatorFaults {
  /** Wait this long before answering (abortable by the request's signal). */
  delayMs?: number;
  /** Answer this HTTP status with the provider's error shape. */
  status?: number;
  /** Extra headers on a `status` answer, e.g. `{ 'Retry-After': '2' }`. */
  headers?: Record<string, string>;
  /** Answer 200 with a body that claims to be JSON and is not. */
  garbage?: boolean;
  /**
   * Drop the connection. Over a socket (`serveEmulatorApp`) the socket is destroyed; through
   * `fetchFor(app)` the call rejects with `TypeError('fetch failed')` as undici does; through
   * `app.request()` the answer's body stream errors when read.
   */
  reset?: boolean;
  /** Never answer: wait until the request's signal aborts (or 10 minutes pass). */
  hang?: boolean;
  /** Apply only to matching requests. */
  match?: FaultMatch;
  /** Apply to the next N matching requests only, then clear the faults. */
  times?: number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  /** The parsed JSON body, the raw text when it is not JSON, undefined when empty. */
  body: unknown;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  at: number;
  /** The status answered, once the answer is made. */
  status?: number;
}

export interface EmulatorKitOptions {
  /**
   * Requests under this path prefix are logged and faulted, e.g. `/api/v1`. A prefix with a
   * variable part is a pattern anchored with `^` and without the `g` flag, e.g.
   * `/^\/organizations\/[^/]+/` (SFTP To Go's per-organization base path).
   */
  apiPrefix: string | RegExp;
  /** The provider's error body for an emulated error status. */
  errorBody: (status: number, error: string) => unknown;
}

export interface EmulatorKit {
  /** The request log, oldest first. The array is cleared in place, so a reference stays valid. */
  readonly requests: RecordedRequest[];
  clearRequests(): void;
  setFaults(faults: EmulatorFaults | null): void;
  getFaults(): EmulatorFaults | null;
  /** Logs and faults requests under `apiPrefix`; mount it before the provider's routes. */
  middleware: MiddlewareHandler;
  /** `GET|POST|DELETE /faults`, `GET|DELETE /requests`: mount under `/__emulator`. */
  controlRoutes: Hono;
  /** An in-process `fetch` into `app` that behaves like the global one (relative URLs allowed). */
  fetchFor(app: Hono): FetchLike;
}

export interface ServedEmulator {
  /** The server root, e.g. `http://127.0.0.1:41234`. */
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Marks an answer that stands for a dropped connection (see `EmulatorFaults.reset`). */
export const RESET_HEADER = 'x-emulator-fault';
const HANG_LIMIT_MS = 10 * 60 * 1000;
const IN_PROCESS_ORIGIN = 'http://emulator.invalid';

const faultsSchema = z.strictObject({
  delayMs: z.number().int().min(0).optional(),
  status: z.number().int().min(200).max(599).optional(),
  headers: z.record(z.string(), z.string()).optional(),
  garbage: z.boolean().optional(),
  reset: z.boolean().optional(),
  hang: z.boolean().optional(),
  match: z.strictObject({ method: z.string().optional(), pathPrefix: z.string().optional() }).optional(),
  times: z.number().int().min(1).optional(),
});

export function createEmulatorKit(options: EmulatorKitOptions): EmulatorKit {
  const { apiPrefix, errorBody } = options;
  const requests: RecordedRequest[] = [];
  let faults: EmulatorFaults | null = null;
  let remaining = Infinity;

  function setFaults(next: EmulatorFaults | null): void {
    faults = next;
    remaining = next?.times ?? Infinity;
  }

  /** The path below the API prefix (`''` for the prefix itself), or null when it is not under it. */
  function belowPrefix(path: string): string | null {
    const prefix = typeof apiPrefix === 'string' ? apiPrefix : leadingMatch(apiPrefix, path);
    if (prefix === null || !path.startsWith(prefix)) return null;
    const rest = path.slice(prefix.length);
    return rest === '' || rest.startsWith('/') ? rest : null;
  }

  function isApiPath(path: string): boolean {
    return belowPrefix(path) !== null;
  }

  function matches(match: FaultMatch | undefined, method: string, path: string): boolean {
    if (!match) return true;
    if (match.method && match.method.toUpperCase() !== method.toUpperCase()) return false;
    const prefix = match.pathPrefix;
    return !prefix || path.startsWith(prefix) || (belowPrefix(path) ?? '').startsWith(prefix);
  }

  /** The faults for this request, counting it against `times`. */
  function takeFaults(method: string, path: string): EmulatorFaults | null {
    const current = faults;
    if (!current || !matches(current.match, method, path)) return null;
    remaining -= 1;
    if (remaining <= 0) setFaults(null);
    return current;
  }

  async function record(c: Context): Promise<RecordedRequest> {
    const text = await c.req.text(); // Hono caches the body, so handlers can still read it
    const entry: RecordedRequest = {
      method: c.req.method,
      path: c.req.path,
      query: c.req.query(),
      body: parseBody(text),
      headers: Object.fromEntries(c.req.raw.headers),
      at: Date.now(),
    };
    requests.push(entry);
    return entry;
  }

  async function applyFaults(c: Context, f: EmulatorFaults, next: Next): Promise<Response | void> {
    const signal = c.req.raw.signal;
    if (f.delayMs) await sleep(f.delayMs, signal);
    if (f.hang) {
      await sleep(HANG_LIMIT_MS, signal);
      return new Response(null, { status: 504 }); // nobody is listening any more
    }
    if (f.reset) return resetConnection(c);
    if (f.status) {
      const body = JSON.stringify(errorBody(f.status, `emulated fault: HTTP ${f.status}`));
      return new Response(body, { status: f.status, headers: { 'content-type': 'application/json', ...f.headers } });
    }
    if (f.garbage) {
      // Claims JSON so that the client's parse step, not a content-type check, has to catch it.
      return new Response('<html><body><h1>502 Bad Gateway</h1>', { headers: { 'content-type': 'application/json' } });
    }
    await next();
  }

  const middleware: MiddlewareHandler = async function emulatorFaultsAndLog(c, next) {
    if (!isApiPath(c.req.path)) return next();
    const entry = await record(c);
    const active = takeFaults(c.req.method, c.req.path);
    const answer = active ? await applyFaults(c, active, next) : await next();
    entry.status = answer instanceof Response ? answer.status : c.res.status;
    return answer;
  };

  const controlRoutes = new Hono()
    .get('/faults', (c) => c.json(faults))
    .post('/faults', async (c) => {
      const parsed = faultsSchema.safeParse(await c.req.json().catch(() => undefined));
      if (!parsed.success) return c.json({ error: z.prettifyError(parsed.error) }, 400);
      setFaults(parsed.data);
      return c.json(parsed.data);
    })
    .delete('/faults', (c) => {
      setFaults(null);
      return c.body(null, 204);
    })
    .get('/requests', (c) => c.json(requests))
    .delete('/requests', (c) => {
      requests.length = 0;
      return c.body(null, 204);
    });

  return {
    requests,
    clearRequests: () => {
      requests.length = 0;
    },
    setFaults,
    getFaults: () => faults,
    middleware,
    controlRoutes,
    fetchFor,
  };
}

/**
 * An in-process `fetch` into `app`: same arguments as the global `fetch`, rejects on abort with
 * the signal's reason, and turns a `reset` fault into `TypeError('fetch failed')`.
 */
export function fetchFor(app: Hono): FetchLike {
  return async function emulatorFetch(input, init) {
    const request = new Request(absolute(input), init);
    const { signal } = request;
    signal.throwIfAborted();
    const response = await untilAborted(Promise.resolve(app.fetch(request)), signal);
    if (response.headers.get(RESET_HEADER) === 'reset') throw connectionReset();
    return response;
  };
}

/**
 * Serves an emulator app on 127.0.0.1 (port 0: any free one). A `reset` fault destroys the socket.
 * `@hono/node-server` is loaded here only, so bundles without Node never pull it in.
 */
export async function serveEmulatorApp(app: Hono, port = 0): Promise<ServedEmulator> {
  const { serve } = await import('@hono/node-server');
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port }, (info) => {
      resolve({ url: `http://127.0.0.1:${info.port}`, port: info.port, close: () => closeServer(server as Server) });
    });
    server.once('error', reject);
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((err) => (err ? reject(err) : resolve()));
    server.closeAllConnections(); // hanging requests would otherwise keep close() waiting
  });
}

/** Over a socket: destroy it. In process: an answer marked as a reset, whose body errors. */
function resetConnection(c: Context): Response {
  const socket = (c.env as { incoming?: { socket?: { destroy(): void } } } | undefined)?.incoming?.socket;
  if (socket) {
    socket.destroy();
    return new Response(null); // written nowhere: Node drops writes to a destroyed socket
  }
  const body = new ReadableStream({
    start(controller) {
      controller.error(new TypeError('terminated', { cause: connectionReset().cause }));
    },
  });
  return new Response(body, { headers: { [RESET_HEADER]: 'reset' } });
}

function connectionReset(): TypeError {
  const cause = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
  return new TypeError('fetch failed', { cause });
}

/** What `pattern` matches at the very start of `path`, or null. */
function leadingMatch(pattern: RegExp, path: string): string | null {
  const found = pattern.exec(path);
  return found && found.index === 0 ? found[0] : null;
}

function absolute(input: RequestInfo | URL): RequestInfo | URL {
  return typeof input === 'string' ? new URL(input, IN_PROCESS_ORIGIN) : input;
}

function parseBody(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** Resolves after `ms`, or early when `signal` aborts. The timer never keeps the process alive. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    (timer as { unref?: () => void }).unref?.();
    signal.addEventListener('abort', done, { once: true });
  });
}

/** `work`, or a rejection with the signal's reason as soon as it aborts (as `fetch` does). */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
