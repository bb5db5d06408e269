/**
 * Opaque list cursors: base64url JSON holding the adapter's resume position and a hash of the
 * query it belongs to, so a cursor replayed with other filters is refused rather than misread.
 */
import { invalidRequest } from '../domain/errors.js';

interface CursorBody {
  v: 1;
  o: number;
  q: string;
}

/** FNV-1a, 32-bit: a cheap fingerprint of the query a cursor belongs to (not a security check). */
function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(36);
}

const toBase64Url = (s: string) => btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const fromBase64Url = (s: string) => atob(s.replace(/-/g, '+').replace(/_/g, '/'));

export function encodeCursor(offset: number, queryKey: string): string {
  const body: CursorBody = { v: 1, o: offset, q: fnv1a(queryKey) };
  return toBase64Url(JSON.stringify(body));
}

/** The offset a cursor resumes at; 400 when it is not one of ours or belongs to another query. */
export function decodeCursor(cursor: string, queryKey: string): number {
  let body: Partial<CursorBody>;
  try {
    if (!/^[A-Za-z0-9_-]{1,512}$/.test(cursor)) throw new Error('charset');
    body = JSON.parse(fromBase64Url(cursor)) as Partial<CursorBody>;
  } catch {
    throw invalidRequest('cursor is not valid: pass the nextCursor of a previous answer unchanged', [
      { path: 'cursor', message: 'cannot be decoded' },
    ]);
  }
  if (body?.v !== 1 || !Number.isSafeInteger(body.o) || (body.o as number) < 0 || typeof body.q !== 'string') {
    throw invalidRequest('cursor is not valid: pass the nextCursor of a previous answer unchanged', [
      { path: 'cursor', message: 'cannot be decoded' },
    ]);
  }
  if (body.q !== fnv1a(queryKey)) {
    throw invalidRequest('cursor belongs to a different query: keep the same backend and filters while paging', [
      { path: 'cursor', message: 'does not match this query' },
    ]);
  }
  return body.o as number;
}
