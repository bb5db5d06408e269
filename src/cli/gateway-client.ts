/**
 * The HTTP side of `sftp-gateway users …`: one call to a running gateway, its problem+json answers
 * turned into messages. Only fetch: no server, Redis or metrics code is loaded for these commands.
 */
import { CliError, usageError } from './cli-error.js';

/** `npm start`'s port when neither `--url` nor `SFTP_GATEWAY_URL` says otherwise. */
export const DEFAULT_GATEWAY_URL = 'http://127.0.0.1:8080';
const CALL_TIMEOUT_MS = 60_000;

export interface GatewayTarget {
  /** The gateway's root, without a trailing slash. */
  url: string;
  /** A named backend (`/v1/backends/<name>/…`), or the default backend (`/v1/…`). */
  backend?: string;
  /** Sent as `Authorization: Bearer`; only ever read from the environment. */
  apiKey?: string;
}

/** Where and how to call: `--url`, else `SFTP_GATEWAY_URL`, else {@link DEFAULT_GATEWAY_URL}; the key from `SFTP_GATEWAY_API_KEY`. */
export function gatewayTarget(opts: { url?: string; backend?: string }, env: NodeJS.ProcessEnv): GatewayTarget {
  const text = opts.url ?? (env.SFTP_GATEWAY_URL?.trim() || DEFAULT_GATEWAY_URL);
  // The text is never echoed: a URL with credentials in it would put them on the terminal.
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw usageError(`--url: not a URL (e.g. ${DEFAULT_GATEWAY_URL})`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw usageError('--url: not an http:// or https:// URL');
  if (url.username || url.password) throw usageError('--url: put no credentials in the URL: the API key comes from SFTP_GATEWAY_API_KEY');
  const apiKey = env.SFTP_GATEWAY_API_KEY?.trim();
  return {
    url: url.href.replace(/\/+$/, ''),
    ...(opts.backend ? { backend: opts.backend } : {}),
    ...(apiKey ? { apiKey } : {}),
  };
}

/** A problem+json answer (CONTRACT §4), as far as the CLI reads it. */
interface ProblemBody {
  title?: unknown;
  status?: unknown;
  detail?: unknown;
  requestId?: unknown;
  errors?: Array<{ path?: unknown; message?: unknown }>;
}

/**
 * Calls `path` below `/v1` (or `/v1/backends/<backend>`) and returns the parsed JSON answer.
 * A problem answer throws a CliError with its title, detail and field errors; an unreachable
 * gateway throws one that says so.
 *
 * @example await callGateway(target, 'GET', '/users?limit=2') // { data: [...], nextCursor: '…' }
 */
export async function callGateway(target: GatewayTarget, method: string, path: string, body?: unknown): Promise<unknown> {
  const prefix = target.backend ? `/v1/backends/${encodeURIComponent(target.backend)}` : '/v1';
  const headers: Record<string, string> = { accept: 'application/json, application/problem+json' };
  if (target.apiKey) headers.authorization = `Bearer ${target.apiKey}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(`${target.url}${prefix}${path}`, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
    });
  } catch (err) {
    throw unreachable(target.url, err);
  }
  const text = await res.text();
  if (res.ok) return text ? parseJson(text, res.status) : undefined;
  throw problemError(res, text, target);
}

function parseJson(text: string, status: number): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new CliError(`error: the gateway answered ${status} with a body that is not JSON`);
  }
}

/** The message of a failed call: the problem's title and detail, its field errors, its request id. */
function problemError(res: Response, text: string, target: GatewayTarget): CliError {
  let problem: ProblemBody | undefined;
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed && typeof parsed === 'object') problem = parsed as ProblemBody;
  } catch {
    // not JSON: a proxy's page, say; the status line is all there is to tell
  }
  const title = typeof problem?.title === 'string' ? problem.title : res.statusText || 'HTTP error';
  const lines = [`error: ${title} (${res.status})${typeof problem?.detail === 'string' && problem.detail ? `: ${problem.detail}` : ''}`];
  for (const e of Array.isArray(problem?.errors) ? problem.errors : []) lines.push(`  ${String(e.path ?? '')}: ${String(e.message ?? '')}`);
  if (res.status === 401 && !target.apiKey) lines.push('  (no API key was sent: set SFTP_GATEWAY_API_KEY)');
  if (typeof problem?.requestId === 'string' && problem.requestId) lines.push(`  request id: ${problem.requestId}`);
  return new CliError(lines.join('\n'));
}

/** fetch's failure in words: refused, unknown host, timed out, reset. */
function unreachable(url: string, err: unknown): CliError {
  const cause = (err as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
  const code = typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : undefined;
  if ((err as Error | undefined)?.name === 'TimeoutError') return new CliError(`error: the gateway at ${url} did not answer within ${CALL_TIMEOUT_MS / 1000} s`);
  if (code === 'ECONNREFUSED') {
    return new CliError(`error: cannot reach the gateway at ${url}: connection refused (is it running? set --url or SFTP_GATEWAY_URL)`);
  }
  return new CliError(`error: cannot reach the gateway at ${url}: ${code ?? (err as Error | undefined)?.message ?? 'fetch failed'}`);
}
