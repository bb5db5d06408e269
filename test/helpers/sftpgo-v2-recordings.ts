/**
 * The exchanges recorded with a real SFTPGo 2.7.5 (shared/reference/sftpgo-2.7.5-recorded), read as
 * they are. Most files: a `# curl ...` line (shell-escaped, as the recorder printed it), then the
 * status line, headers (LF line ends), a blank line and the body, which the recorder pretty-printed
 * (the header's Content-Length is the server's compact body). Some name the call in words instead
 * (`# second POST ... while the first runs`); the put-semantics-* files are notes, not exchanges.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const RECORDINGS_V2 = resolve(dirname(fileURLToPath(import.meta.url)), '../../../shared/reference/sftpgo-2.7.5-recorded');
export const ADMIN_V2 = { username: 'admin', password: 'AdminPass-2024' };

export interface V2RecordedRequest {
  method: string;
  /** Path and query, e.g. `/api/v2/users?limit=2`. */
  target: string;
  /** `user:pass` of `-u`. */
  basicAuth?: string;
  /** Lower-cased names, values as recorded (`Bearer <redacted-jwt>`). */
  headers: Record<string, string>;
  body?: string;
  /** `-d @file`: the body came from a file that was not recorded. */
  bodyFile?: string;
}

export interface V2Exchange {
  file: string;
  /** The first line without `# `. */
  comment: string;
  /** Null when the first line is not a curl call. */
  request: V2RecordedRequest | null;
  status: number;
  /** Lower-cased names. */
  headers: Record<string, string>;
  /** The body as the file holds it (see `wireBody` for connections-live.txt's two copies). */
  body: string;
}

export function listRecordings(): string[] {
  return readdirSync(RECORDINGS_V2).sort();
}

export function readRecording(file: string): string {
  return readFileSync(resolve(RECORDINGS_V2, file), 'utf8');
}

/** Splits a shell command line into words: backslash escapes, single and double quotes. */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let word: string | null = null;
  for (let i = 0; i < line.length; i += 1) {
    const ch = line.charAt(i);
    if (ch === '\\') {
      word = (word ?? '') + line.charAt(i + 1);
      i += 1;
    } else if (ch === "'") {
      const end = line.indexOf("'", i + 1);
      word = (word ?? '') + line.slice(i + 1, end);
      i = end;
    } else if (ch === '"') {
      let text = '';
      for (i += 1; line.charAt(i) !== '"'; i += 1) {
        if (line.charAt(i) === '\\' && '"\\$`'.includes(line.charAt(i + 1))) i += 1;
        text += line.charAt(i);
      }
      word = (word ?? '') + text;
    } else if (/\s/.test(ch)) {
      if (word !== null) words.push(word);
      word = null;
    } else {
      word = (word ?? '') + ch;
    }
  }
  if (word !== null) words.push(word);
  return words;
}

/** `curl [-u u:p] [-H h]... [-X M] URL [-d body]`; a trailing `(remark)` is dropped. */
export function parseCurl(line: string): V2RecordedRequest {
  const words = shellWords(line.replace(/\s+\([^)]*\)\s*$/, ''));
  if (words[0] !== 'curl') throw new Error(`not a curl call: ${line}`);
  const request: V2RecordedRequest = { method: '', target: '', headers: {} };
  for (let i = 1; i < words.length; i += 1) {
    const word = words[i] ?? '';
    const next = words[i + 1] ?? '';
    if (word === '-u') request.basicAuth = next;
    else if (word === '-X') request.method = next;
    else if (word === '-H') request.headers[next.slice(0, next.indexOf(':')).toLowerCase()] = next.slice(next.indexOf(':') + 1).trim();
    else if (word === '-d') {
      if (next.startsWith('@')) request.bodyFile = next.slice(1);
      else request.body = next;
    } else if (/^https?:\/\//.test(word)) {
      const url = new URL(word);
      request.target = `${url.pathname}${url.search}`;
      continue;
    } else throw new Error(`unknown curl argument ${word} in ${line}`);
    i += 1;
  }
  request.method ||= request.body !== undefined || request.bodyFile !== undefined ? 'POST' : 'GET';
  return request;
}

export function readExchangeV2(file: string): V2Exchange {
  const text = readRecording(file);
  const firstEnd = text.indexOf('\n');
  const comment = text.slice(0, firstEnd).replace(/^# /, '');
  const rest = text.slice(firstEnd + 1);
  const split = rest.indexOf('\n\n');
  if (!rest.startsWith('HTTP/1.1 ') || split < 0) throw new Error(`${file}: not an exchange`);
  const [statusLine = '', ...headerLines] = rest.slice(0, split).split('\n');
  const headers = Object.fromEntries(headerLines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
  return {
    file, comment, request: comment.startsWith('curl ') ? parseCurl(comment) : null,
    status: Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine)?.[1]), headers, body: rest.slice(split + 2),
  };
}

/**
 * The body's JSON value. connections-live.txt holds the wire line and then a pretty copy; the
 * others hold one value (quota-scan-start-409.txt and quota-scans-running.txt the wire line and a
 * blank line).
 */
export function recordedJson(exchange: V2Exchange): unknown {
  const firstLine = exchange.body.slice(0, exchange.body.indexOf('\n'));
  try {
    return JSON.parse(exchange.body) as unknown;
  } catch {
    return JSON.parse(firstLine) as unknown;
  }
}
