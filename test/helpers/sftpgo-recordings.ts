/**
 * The exchanges recorded with a real SFTPGo 1.2.2 (shared/reference/sftpgo-1.2.2-recorded), read
 * as they are: one file an exchange, the curl call on its first line (`###`), then the status
 * line, headers and body as the server sent them.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const RECORDINGS = resolve(dirname(fileURLToPath(import.meta.url)), '../../../shared/reference/sftpgo-1.2.2-recorded');
export const ADMIN = { username: 'admin', password: 'AdminPass-2024' };
export const E2E_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICF+zF4jQqWewIBSxT63F1/jdSfxj/TYzimipbRabtuE e2e@example';

export interface RecordedRequest {
  method: string;
  /** Path and query, e.g. `/api/v1/user?limit=0`. */
  target: string;
  auth?: string;
  headers: Record<string, string>;
  body?: string;
}

export interface RecordedResponse {
  status: number;
  /** Lower-cased names. */
  headers: Record<string, string>;
  /** As the server wrote it, trailing newline included. */
  body: string;
}

export interface Exchange {
  request: RecordedRequest;
  response: RecordedResponse;
  /** What follows the response in the file (put-rename.txt: the user as read afterwards). */
  rest: string;
}

/** `### -u user:pass [-X METHOD] URL [-H name: value] [-d body]`, as curl was called. */
function parseCurlLine(line: string): RecordedRequest {
  const m = /^### (?:-u (\S+) )?(?:-X (\S+) )?(https?:\/\/\S+)(?: -H ([^:]+): (\S+))?(?: -d (.*))?$/.exec(line);
  if (!m) throw new Error(`not a curl line: ${line}`);
  const [, auth, method = 'GET', url = '', header, value, body] = m;
  const { pathname, search } = new URL(url);
  return { method, target: `${pathname}${search}`, auth, headers: header && value ? { [header]: value } : {}, body };
}

/**
 * An HTTP/1.1 response: status line and headers (CRLF), a blank line, then the body: one JSON line
 * and its newline, or nothing. (Content-Length is the server's, from before home directories were
 * rewritten in the files, so it is checked only on bodies without one.)
 */
export function parseResponse(text: string): { response: RecordedResponse; rest: string } {
  const split = text.indexOf('\r\n\r\n');
  const [statusLine = '', ...headerLines] = text.slice(0, split).split('\r\n');
  const headers = Object.fromEntries(headerLines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
  const bodyStart = split + 4;
  const bodyEnd = headers['content-length'] === '0' ? bodyStart : text.indexOf('\n', bodyStart) + 1;
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine)?.[1]);
  return { response: { status, headers, body: text.slice(bodyStart, bodyEnd) }, rest: text.slice(bodyEnd) };
}

export function readExchange(file: string): Exchange {
  const text = readFileSync(resolve(RECORDINGS, file), 'utf8');
  const newline = text.indexOf('\n');
  const first = text.slice(0, newline);
  // put-rename.txt names the call itself: `### PUT /api/v1/user/1 {...}`.
  const short = /^### (GET|PUT|POST|DELETE) (\/\S+)(?: (.*))?$/.exec(first);
  const request = short
    ? { method: short[1] ?? 'GET', target: short[2] ?? '/', auth: `${ADMIN.username}:${ADMIN.password}`, headers: { 'content-type': 'application/json' }, body: short[3] }
    : parseCurlLine(first);
  return { request, ...parseResponse(text.slice(newline + 1)) };
}

