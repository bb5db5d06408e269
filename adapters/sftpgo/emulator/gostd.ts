/**
 * The parts of Go's standard library the SFTPGo emulator answers with, besides `encoding/json`'s
 * typed decoding and encoding (emulator-gojson.ts): the scanner behind `json.Decoder` (one JSON
 * value, or Go's syntax error text), `strconv.Quote` (`%#v` of a string), `strconv.ParseInt`,
 * `path.Clean`, and what `net.ParseCIDR` and `path.Match` accept.
 */

/** A JSON value as Go's decoder sees it: number literals as written, object members in order (duplicates too). */
export type JsonNode =
  | { kind: 'null' }
  | { kind: 'bool'; value: boolean }
  | { kind: 'number'; literal: string }
  | { kind: 'string'; value: string }
  | { kind: 'array'; items: JsonNode[] }
  | { kind: 'object'; members: Array<[string, JsonNode]> };

// --- decoding: json.NewDecoder(body).Decode(&v) ----------------------------------------------------

class DecodeStop extends Error {}

interface Cursor {
  text: string;
  pos: number;
}

/**
 * `json.Decoder.Decode`'s first step: one JSON value from the start of `text`, or Go's error text
 * (`EOF` for an empty body, `unexpected EOF`, `invalid character 'x' looking for beginning of value`...).
 * What follows the first value is never read, as with a Decoder.
 */
export function parseGoJson(text: string): { node: JsonNode } | { error: string } {
  const cur: Cursor = { text, pos: 0 };
  skipSpace(cur);
  if (cur.pos >= text.length) return { error: 'EOF' };
  try {
    return { node: readValue(cur) };
  } catch (err) {
    if (err instanceof DecodeStop) return { error: err.message };
    throw err;
  }
}

function skipSpace(cur: Cursor): void {
  while (cur.pos < cur.text.length && ' \t\r\n'.includes(cur.text.charAt(cur.pos))) cur.pos += 1;
}

/** The next character, failing as Go does at the end of the body. */
function peek(cur: Cursor): string {
  if (cur.pos >= cur.text.length) throw new DecodeStop('unexpected EOF');
  return String.fromCodePoint(cur.text.codePointAt(cur.pos) ?? 0);
}

function syntaxError(ch: string, context: string): DecodeStop {
  return new DecodeStop(`invalid character ${quoteChar(ch)} ${context}`);
}

function readValue(cur: Cursor): JsonNode {
  const ch = peek(cur);
  if (ch === '{') return readObject(cur);
  if (ch === '[') return readArray(cur);
  if (ch === '"') return { kind: 'string', value: readString(cur) };
  if (ch === '-' || isDigit(ch)) return { kind: 'number', literal: readNumber(cur) };
  if (ch === 't') return readLiteral(cur, 'true', { kind: 'bool', value: true });
  if (ch === 'f') return readLiteral(cur, 'false', { kind: 'bool', value: false });
  if (ch === 'n') return readLiteral(cur, 'null', { kind: 'null' });
  throw syntaxError(ch, 'looking for beginning of value');
}

function readObject(cur: Cursor): JsonNode {
  const members: Array<[string, JsonNode]> = [];
  cur.pos += 1;
  skipSpace(cur);
  if (peek(cur) === '}') {
    cur.pos += 1;
    return { kind: 'object', members };
  }
  for (;;) {
    if (peek(cur) !== '"') throw syntaxError(peek(cur), 'looking for beginning of object key string');
    const key = readString(cur);
    skipSpace(cur);
    if (peek(cur) !== ':') throw syntaxError(peek(cur), 'after object key');
    cur.pos += 1;
    skipSpace(cur);
    members.push([key, readValue(cur)]);
    skipSpace(cur);
    const next = peek(cur);
    cur.pos += 1;
    if (next === '}') return { kind: 'object', members };
    if (next !== ',') throw syntaxError(next, 'after object key:value pair');
    skipSpace(cur);
  }
}

function readArray(cur: Cursor): JsonNode {
  const items: JsonNode[] = [];
  cur.pos += 1;
  skipSpace(cur);
  if (peek(cur) === ']') {
    cur.pos += 1;
    return { kind: 'array', items };
  }
  for (;;) {
    items.push(readValue(cur));
    skipSpace(cur);
    const next = peek(cur);
    cur.pos += 1;
    if (next === ']') return { kind: 'array', items };
    if (next !== ',') throw syntaxError(next, 'after array element');
    skipSpace(cur);
  }
}

const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

function readString(cur: Cursor): string {
  cur.pos += 1;
  let out = '';
  for (;;) {
    const ch = peek(cur);
    cur.pos += ch.length;
    if (ch === '"') return out;
    if (ch.charCodeAt(0) < 0x20) throw syntaxError(ch, 'in string literal');
    if (ch !== '\\') {
      out += ch;
      continue;
    }
    const esc = peek(cur);
    cur.pos += esc.length;
    if (esc === 'u') out += readUnicodeEscape(cur);
    else if (esc in ESCAPES) out += ESCAPES[esc];
    else throw syntaxError(esc, 'in string escape code');
  }
}

/** `\uXXXX` (the `\u` already read): a surrogate pair joins, a lone surrogate becomes U+FFFD, as Go unquotes. */
function readUnicodeEscape(cur: Cursor): string {
  const unit = readHex4(cur);
  if (unit < 0xd800 || unit > 0xdfff) return String.fromCharCode(unit);
  const follows = cur.text.slice(cur.pos, cur.pos + 2) === '\\u' && /^[0-9a-fA-F]{4}$/.test(cur.text.slice(cur.pos + 2, cur.pos + 6));
  const low = follows ? parseInt(cur.text.slice(cur.pos + 2, cur.pos + 6), 16) : 0;
  if (unit <= 0xdbff && low >= 0xdc00 && low <= 0xdfff) {
    cur.pos += 6;
    return String.fromCharCode(unit, low);
  }
  return '\ufffd';
}

function readHex4(cur: Cursor): number {
  let value = 0;
  for (let i = 0; i < 4; i += 1) {
    const ch = peek(cur);
    if (!/^[0-9a-fA-F]$/.test(ch)) throw syntaxError(ch, 'in \\u hexadecimal character escape');
    value = value * 16 + parseInt(ch, 16);
    cur.pos += 1;
  }
  return value;
}

/** A number literal. At the very end of the body a complete number is fine (Go's Decoder accepts it). */
function readNumber(cur: Cursor): string {
  const start = cur.pos;
  const atEnd = () => cur.pos >= cur.text.length;
  if (cur.text.charAt(cur.pos) === '-') {
    cur.pos += 1;
    if (!isDigit(peek(cur))) throw syntaxError(peek(cur), 'in numeric literal');
  }
  if (cur.text.charAt(cur.pos) === '0') cur.pos += 1;
  else while (!atEnd() && isDigit(cur.text.charAt(cur.pos))) cur.pos += 1;
  if (!atEnd() && cur.text.charAt(cur.pos) === '.') {
    cur.pos += 1;
    if (!isDigit(peek(cur))) throw syntaxError(peek(cur), 'after decimal point in numeric literal');
    while (!atEnd() && isDigit(cur.text.charAt(cur.pos))) cur.pos += 1;
  }
  if (!atEnd() && 'eE'.includes(cur.text.charAt(cur.pos))) {
    cur.pos += 1;
    if ('+-'.includes(peek(cur))) cur.pos += 1;
    if (!isDigit(peek(cur))) throw syntaxError(peek(cur), 'in exponent of numeric literal');
    while (!atEnd() && isDigit(cur.text.charAt(cur.pos))) cur.pos += 1;
  }
  return cur.text.slice(start, cur.pos);
}

function readLiteral(cur: Cursor, word: string, node: JsonNode): JsonNode {
  cur.pos += 1;
  for (const expected of word.slice(1)) {
    const ch = peek(cur);
    if (ch !== expected) throw syntaxError(ch, `in literal ${word} (expecting ${quoteChar(expected)})`);
    cur.pos += 1;
  }
  return node;
}

function isDigit(ch: string): boolean {
  return ch >= '0' && ch <= '9';
}

/** Go's scanner quotes the offending byte; past ASCII that is the first UTF-8 byte, read as a rune. */
function quoteChar(ch: string): string {
  if (ch === "'") return "'\\''";
  if (ch === '"') return `'"'`;
  const code = ch.codePointAt(0) ?? 0;
  const byte = code < 0x80 ? code : (new TextEncoder().encode(ch)[0] ?? 0);
  return `'${goQuote(String.fromCharCode(byte)).slice(1, -1)}'`;
}

/** A plain JS value (e.g. a stored user) as a JSON tree, so it can be decoded like a body. */
export function toNode(value: unknown): JsonNode {
  if (value === null || value === undefined) return { kind: 'null' };
  if (typeof value === 'boolean') return { kind: 'bool', value };
  if (typeof value === 'number') return { kind: 'number', literal: String(value) };
  if (typeof value === 'string') return { kind: 'string', value };
  if (Array.isArray(value)) return { kind: 'array', items: value.map(toNode) };
  if (typeof value === 'object') {
    const members = Object.entries(value).filter(([, v]) => v !== undefined);
    return { kind: 'object', members: members.map(([k, v]) => [k, toNode(v)] as [string, JsonNode]) };
  }
  return { kind: 'null' };
}

// --- strconv, path --------------------------------------------------------------------------------

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;
const SHORT_ESCAPES: Record<string, string> = { '\x07': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v' };

/** `strconv.Quote`, which is what `fmt.Sprintf("%#v", s)` prints for a string. */
export function goQuote(text: string): string {
  let out = '"';
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 0;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (PRINTABLE.test(ch)) out += ch;
    else if (SHORT_ESCAPES[ch] !== undefined) out += SHORT_ESCAPES[ch];
    else if (code < 0x80) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else if (code < 0x10000) out += `\\u${hex4(code)}`;
    else out += `\\U${code.toString(16).padStart(8, '0')}`;
  }
  return `${out}"`;
}

/** Go's `path.Clean`: the shortest lexically equivalent slash path. */
export function pathClean(path: string): string {
  if (path === '') return '.';
  const rooted = path.startsWith('/');
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part !== '..') parts.push(part);
    else if (parts.length > 0 && parts[parts.length - 1] !== '..') parts.pop();
    else if (!rooted) parts.push('..');
  }
  const joined = parts.join('/');
  if (rooted) return `/${joined}`;
  return joined === '' ? '.' : joined;
}

/** `filepath.Join` on Linux: the non-empty elements joined by `/`, then cleaned. */
export function pathJoin(...elems: string[]): string {
  const kept = elems.filter((e) => e !== '');
  return kept.length === 0 ? '' : pathClean(kept.join('/'));
}

/** `strconv.Atoi` / `strconv.ParseInt(s, 10, 64)`: an optional sign and decimal digits, in int64 range. */
export function parseGoInt(text: string): number | null {
  if (!/^[+-]?\d+$/.test(text)) return null;
  const n = BigInt(text);
  return n >= -(2n ** 63n) && n < 2n ** 63n ? Number(n) : null;
}

/** Four lower-case hex digits, as Go writes `\u` escapes. */
export function hex4(code: number): string {
  return code.toString(16).padStart(4, '0');
}

/** Go's `net.ParseCIDR` accepts it (Go 1.15: leading zeros in IPv4 octets are fine, no IPv6 zone). */
export function isCidr(text: string): boolean {
  const slash = text.indexOf('/');
  if (slash < 0) return false;
  const addr = text.slice(0, slash);
  const mask = text.slice(slash + 1);
  const bits = isIPv4(addr) ? 32 : isIPv6(addr) ? 128 : 0;
  const n = leadingNumber(mask, 10);
  return bits > 0 && n !== null && n.length === mask.length && n.value <= bits;
}

/** Go's dtoi/xtoi: the leading digits' value and how many there were, null for none (or past 0xFFFFFF). */
function leadingNumber(text: string, base: 10 | 16): { value: number; length: number } | null {
  const digits = (base === 10 ? /^[0-9]+/ : /^[0-9a-fA-F]+/).exec(text)?.[0] ?? '';
  if (digits === '') return null;
  let value = 0;
  for (const d of digits) {
    value = value * base + parseInt(d, base);
    if (value >= 0xffffff) return null;
  }
  return { value, length: digits.length };
}

function isIPv4(text: string): boolean {
  let rest = text;
  for (let i = 0; i < 4; i += 1) {
    if (i > 0) {
      if (!rest.startsWith('.')) return false;
      rest = rest.slice(1);
    }
    const n = leadingNumber(rest, 10);
    if (!n || n.value > 0xff) return false;
    rest = rest.slice(n.length);
  }
  return rest === '';
}

/** Go 1.15's parseIPv6: hex groups, one `::`, an IPv4 tail in the last 32 bits. */
function isIPv6(text: string): boolean {
  let rest = text;
  let ellipsis = false;
  let groups = 0; // 16-bit groups parsed
  if (rest.startsWith('::')) {
    ellipsis = true;
    rest = rest.slice(2);
    if (rest === '') return true;
  }
  while (groups < 8) {
    const n = leadingNumber(rest, 16);
    if (!n || n.value > 0xffff) return false;
    if (rest.charAt(n.length) === '.') {
      if ((!ellipsis && groups !== 6) || groups + 2 > 8 || !isIPv4(rest)) return false;
      groups += 2;
      rest = '';
      break;
    }
    groups += 1;
    rest = rest.slice(n.length);
    if (rest === '') break;
    if (!rest.startsWith(':') || rest.length === 1) return false;
    rest = rest.slice(1);
    if (rest.startsWith(':')) {
      if (ellipsis) return false;
      ellipsis = true;
      rest = rest.slice(1);
      if (rest === '') break;
    }
  }
  if (rest !== '') return false;
  return groups < 8 ? ellipsis : !ellipsis;
}

/** A well-formed `path.Match` pattern: escapes end in a character, classes close and hold valid ranges. */
export function isGlob(pattern: string): boolean {
  const chars = [...pattern];
  for (let i = 0; i < chars.length; i += 1) {
    if (chars[i] === '\\') {
      i += 1;
      if (i >= chars.length) return false;
    } else if (chars[i] === '[') {
      const end = classEnd(chars, i + 1);
      if (end < 0) return false;
      i = end;
    }
  }
  return true;
}

/** The index of the `]` closing a class whose body starts at `start`, or -1 when it is malformed. */
function classEnd(chars: string[], start: number): number {
  let i = start + (chars[start] === '^' ? 1 : 0);
  let ranges = 0;
  for (;;) {
    if (chars[i] === ']' && ranges > 0) return i;
    const lo = classChar(chars, i);
    if (!lo) return -1;
    i = lo.next;
    if (chars[i] === '-') {
      const hi = classChar(chars, i + 1);
      if (!hi) return -1;
      i = hi.next;
    }
    ranges += 1;
  }
}

/** getEsc: one class character (maybe escaped); `-` and `]` may not start it. */
function classChar(chars: string[], i: number): { next: number } | null {
  const ch = chars[i];
  if (ch === undefined || ch === '-' || ch === ']') return null;
  if (ch !== '\\') return { next: i + 1 };
  return chars[i + 1] === undefined ? null : { next: i + 2 };
}
