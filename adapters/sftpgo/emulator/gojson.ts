/**
 * Go's `encoding/json` as the SFTPGo emulator needs it: `Unmarshal` onto a typed struct (with Go's
 * type error texts and its merging of a body onto an existing value) and the encoder behind
 * `render.JSON`. Parsing and the rest of Go's standard library are in emulator-gostd.ts.
 */
import type { JsonNode } from './gostd.js';

/** A Go type, enough to decode into it and encode it: `name` is what `reflect.Type.String()` prints. */
export type GoType =
  | { kind: 'int' | 'string' | 'bool' | 'bytes'; name: string }
  | { kind: 'slice' | 'map'; name: string; elem: GoType }
  | { kind: 'struct'; name: string; fields: readonly GoField[] };

/** One struct field: its JSON key, type and `omitempty`. */
export interface GoField {
  /** The JSON key (the struct tag's name). */
  json: string;
  type: GoType;
  omitempty?: boolean;
}

/** A Go struct or map as the emulator holds it. */
export type GoObject = Record<string, unknown>;

// --- json.Unmarshal onto a typed value ----------------------------------------------------------

interface DecodeContext {
  /** The innermost struct's name and the JSON keys down to the value, for UnmarshalTypeError. */
  struct: string | null;
  stack: string[];
  firstError: string | null;
}

/**
 * Go's `Unmarshal` onto `target`, a value of struct type `type`: present keys replace (structs are
 * merged field by field, a slice's existing elements are decoded onto, a map gains keys), absent
 * keys keep their values, unknown keys are ignored, `null` clears slices and maps only, keys match
 * case-insensitively. A type error does not stop decoding; the first one is returned, in Go's words.
 */
export function decodeGo(target: GoObject, node: JsonNode, type: GoType): string | null {
  const ctx: DecodeContext = { struct: null, stack: [], firstError: null };
  decodeValue(node, type, target, ctx);
  return ctx.firstError;
}

function decodeValue(node: JsonNode, type: GoType, current: unknown, ctx: DecodeContext): unknown {
  if (node.kind === 'null') return type.kind === 'slice' || type.kind === 'map' || type.kind === 'bytes' ? null : current;
  switch (type.kind) {
    case 'struct':
      return node.kind === 'object' ? decodeStruct(node.members, type, asGoObject(current) ?? (zeroOf(type) as GoObject), ctx) : mismatch(node, type, current, ctx);
    case 'map':
      return node.kind === 'object' ? decodeMap(node.members, type.elem, asGoObject(current) ?? {}, ctx) : mismatch(node, type, current, ctx);
    case 'slice': {
      if (node.kind !== 'array') return mismatch(node, type, current, ctx);
      const old = Array.isArray(current) ? current : [];
      // Go decodes each element onto the one already there, if any (a struct element is merged).
      return node.items.map((item, i) => decodeValue(item, type.elem, i < old.length ? old[i] : zeroOf(type.elem), ctx));
    }
    case 'bytes':
      if (node.kind !== 'string') return mismatch(node, type, current, ctx);
      return checkBase64(node.value, ctx) ? node.value : current;
    case 'string':
      return node.kind === 'string' ? node.value : mismatch(node, type, current, ctx);
    case 'bool':
      return node.kind === 'bool' ? node.value : mismatch(node, type, current, ctx);
    case 'int':
      if (node.kind !== 'number') return mismatch(node, type, current, ctx);
      return isInt64(node.literal) ? Number(node.literal) : mismatch(node, type, current, ctx, `number ${node.literal}`);
  }
}

function decodeStruct(members: Array<[string, JsonNode]>, type: GoType & { kind: 'struct' }, target: GoObject, ctx: DecodeContext): GoObject {
  for (const [key, value] of members) {
    const field = type.fields.find((f) => f.json === key) ?? type.fields.find((f) => foldKey(key) === f.json);
    if (!field) continue;
    const saved = { struct: ctx.struct, depth: ctx.stack.length };
    ctx.struct = shortName(type.name);
    ctx.stack.push(field.json);
    setOwn(target, field.json, decodeValue(value, field.type, target[field.json], ctx));
    ctx.struct = saved.struct;
    ctx.stack.length = saved.depth;
  }
  return target;
}

/** Each map value is decoded onto a fresh zero value, then set: keys already there and not sent stay. */
function decodeMap(members: Array<[string, JsonNode]>, elem: GoType, target: GoObject, ctx: DecodeContext): GoObject {
  for (const [key, value] of members) setOwn(target, key, decodeValue(value, elem, zeroOf(elem), ctx));
  return target;
}

function mismatch(node: JsonNode, type: GoType, current: unknown, ctx: DecodeContext, what: string = node.kind): unknown {
  const into = ctx.struct === null ? 'Go value' : `Go struct field ${ctx.struct}.${ctx.stack.join('.')}`;
  ctx.firstError ??= `json: cannot unmarshal ${what} into ${into} of type ${type.name}`;
  return current;
}

/** `[]byte` fields take base64 (`base64.StdEncoding`, which skips CR and LF). */
function checkBase64(text: string, ctx: DecodeContext): boolean {
  const data = text.replace(/[\r\n]/g, '');
  const bad = data.search(/[^A-Za-z0-9+/=]/);
  const padding = data.indexOf('=');
  const ok = bad < 0 && data.length % 4 === 0 && (padding < 0 || /^={1,2}$/.test(data.slice(padding)));
  if (!ok) ctx.firstError ??= `illegal base64 data at input byte ${bad >= 0 ? bad : Math.max(0, padding >= 0 ? padding : data.length)}`;
  return ok;
}

/** What `strconv.ParseInt(s, 10, 64)` accepts of a JSON number: no fraction, no exponent, in range. */
function isInt64(literal: string): boolean {
  if (!/^-?\d+$/.test(literal)) return false;
  const n = BigInt(literal);
  return n >= -(2n ** 63n) && n < 2n ** 63n;
}

/** Go matches keys case-insensitively, with Unicode folding: 'ſ' is an 's' and the Kelvin sign a 'k'. */
function foldKey(key: string): string {
  return key.replace(/\u017f/g, 's').replace(/\u212a/g, 'k').replace(/[A-Z]/g, (c) => c.toLowerCase());
}

function shortName(name: string): string {
  return name.slice(name.lastIndexOf('.') + 1);
}

function asGoObject(value: unknown): GoObject | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as GoObject) : null;
}

/** Sets an own, enumerable property, even `__proto__` (a plain assignment would set the prototype). */
export function setOwn(target: GoObject, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

/** Go's zero value of `type`. */
export function zeroOf(type: GoType): unknown {
  switch (type.kind) {
    case 'int':
      return 0;
    case 'string':
      return '';
    case 'bool':
      return false;
    case 'struct':
      return Object.fromEntries(type.fields.map((f) => [f.json, zeroOf(f.type)]));
    default:
      return null;
  }
}

// --- encoding: render.JSON ----------------------------------------------------------------------

/**
 * `value` of Go type `type` as `encoding/json` lays it out: struct fields in declaration order,
 * `omitempty` fields left out when empty, map keys sorted. The result is a plain JS value for
 * {@link goJsonText}. Missing fields are Go's zero values.
 */
export function goMarshal(type: GoType, value: unknown): unknown {
  switch (type.kind) {
    case 'struct': {
      const source = asGoObject(value) ?? {};
      const out: GoObject = {};
      for (const field of type.fields) {
        const fieldValue = goMarshal(field.type, source[field.json]);
        if (field.omitempty && isEmptyValue(fieldValue)) continue;
        setOwn(out, field.json, fieldValue);
      }
      return out;
    }
    case 'map': {
      const source = asGoObject(value);
      if (!source) return null;
      const out: GoObject = {};
      for (const key of Object.keys(source).sort(byCodePoint)) setOwn(out, key, goMarshal(type.elem, source[key]));
      return out;
    }
    case 'slice':
      return Array.isArray(value) ? value.map((item) => goMarshal(type.elem, item)) : null;
    default:
      return value === undefined ? zeroOf(type) : value;
  }
}

/** `omitempty`: false, 0, "", and nil or empty slices and maps (a struct is never empty). */
function isEmptyValue(value: unknown): boolean {
  if (value === null || value === false || value === 0 || value === '') return true;
  if (Array.isArray(value)) return value.length === 0;
  return false;
}

/** Go compares strings byte by byte, which for UTF-8 is code point order. */
export function byCodePoint(a: string, b: string): number {
  if (a === b) return 0;
  const left = [...a];
  const right = [...b];
  for (let i = 0; i < Math.min(left.length, right.length); i += 1) {
    const diff = (left[i]?.codePointAt(0) ?? 0) - (right[i]?.codePointAt(0) ?? 0);
    if (diff !== 0) return diff;
  }
  return left.length - right.length;
}

/**
 * `render.JSON`'s bytes: a `json.Encoder` with HTML escaping (`<`, `>`, `&`, U+2028 and U+2029
 * written as `\u` escapes) and a trailing newline. JSON.stringify writes the rest as Go does but
 * for `\b` and `\f` (Go 1.15: `\u0008`, `\u000c`) and a lone surrogate (Go: `\ufffd`), which
 * are rewritten here; every escape is matched whole, so an escaped backslash is never misread.
 */
export function goJsonText(value: unknown): string {
  const text = JSON.stringify(value) ?? 'null';
  return `${GO_DIFFERS.test(text) ? text.replace(GO_DIFFERS_ALL, goEscape) : text}\n`;
}

const GO_DIFFERS = /\\[bfu]|[<>&\u2028\u2029]/;
const GO_DIFFERS_ALL = /\\(?:u[0-9a-f]{4}|.)|[<>&\u2028\u2029]/g;
const HTML_ESCAPES: Readonly<Record<string, string>> = {
  '<': '\\u003c', '>': '\\u003e', '&': '\\u0026', '\u2028': '\\u2028', '\u2029': '\\u2029', '\\b': '\\u0008', '\\f': '\\u000c',
};

function goEscape(match: string): string {
  const html = HTML_ESCAPES[match];
  if (html !== undefined) return html;
  // JSON.stringify escapes a surrogate only when it is alone: invalid UTF-8 to Go.
  return /^\\ud[89a-f]/.test(match) ? '\\ufffd' : match;
}
