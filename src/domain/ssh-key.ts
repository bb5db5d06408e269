/**
 * OpenSSH public key parsing and fingerprinting (authorized_keys / `.pub` one-line format).
 *
 * The blob is decoded per RFC 4253 §6.6 (ssh-rsa, ssh-dss), RFC 5656 §3.1 (ecdsa-sha2-*),
 * RFC 8709 (ssh-ed25519) and OpenSSH PROTOCOL.u2f (sk-*), so a key that `ssh-keygen -l` would
 * refuse is refused here too, and the fingerprint/bits match what `ssh-keygen -lf` prints.
 *
 * Runs unchanged on Node 20 and Cloudflare Workers: no `node:` imports, no Buffer; hashing uses
 * Web Crypto (`globalThis.crypto.subtle`), base64 is implemented here (strict, unlike `atob`).
 */
import type { SshKeyType } from './model.js';
import { invalidRequest } from './errors.js';

export interface ParsedSshKey {
  type: SshKeyType;
  /** e.g. 'ssh-rsa', 'ssh-ed25519', 'ecdsa-sha2-nistp256', 'ssh-dss', 'sk-ssh-ed25519@openssh.com'. */
  algorithm: string;
  /** Canonical base64 of the key blob (with padding, as ssh-keygen writes it). */
  blob: string;
  comment: string | null;
  /** Exactly as `ssh-keygen -lf` prints: 'SHA256:' + unpadded base64 of sha256(blob). */
  fingerprint: string;
  /** Normalized one line: `${algorithm} ${blob}` + (comment ? ` ${comment}` : ''). */
  publicKey: string;
  /** As `ssh-keygen -l` prints it. */
  bits: number;
}

/** Longest input accepted, in characters. */
export const MAX_SSH_KEY_LENGTH = 16 * 1024;

const MIN_RSA_BITS = 1024; // OpenSSH's SSH_RSA_MINIMUM_MODULUS_SIZE
const MAX_MPINT_BYTES = 16384 / 8; // OpenSSH's SSHBUF_MAX_BIGNUM

const ALGORITHM_TYPES: Readonly<Record<string, SshKeyType>> = {
  'ssh-rsa': 'rsa',
  'ssh-ed25519': 'ed25519',
  'ecdsa-sha2-nistp256': 'ecdsa',
  'ecdsa-sha2-nistp384': 'ecdsa',
  'ecdsa-sha2-nistp521': 'ecdsa',
  'ssh-dss': 'dsa',
  'sk-ssh-ed25519@openssh.com': 'sk-ed25519',
  'sk-ecdsa-sha2-nistp256@openssh.com': 'sk-ecdsa',
};

/** Maps an algorithm name to the contract's type; undefined for an unknown one. */
export function sshKeyTypeOf(algorithm: string): SshKeyType | undefined {
  return Object.hasOwn(ALGORITHM_TYPES, algorithm) ? ALGORITHM_TYPES[algorithm] : undefined;
}

/**
 * The id the gateway gives a key where the provider has none (SFTPGo): the fingerprint's base64
 * part in base64url form, without padding. E.g. 'SHA256:ab+/cd' -> 'ab-_cd'.
 */
export function sshKeyIdOf(fingerprint: string): string {
  const b64 = fingerprint.startsWith('SHA256:') ? fingerprint.slice('SHA256:'.length) : fingerprint;
  return b64.replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
}

// ---------------------------------------------------------------------------------------------
// Base64 (strict: standard alphabet, padding required, zero trailing bits; as OpenSSH's b64_pton)

const B64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_INDEX: Int8Array = (() => {
  const t = new Int8Array(128).fill(-1);
  for (let i = 0; i < B64_ALPHABET.length; i++) t[B64_ALPHABET.charCodeAt(i)] = i;
  return t;
})();

function base64Encode(bytes: Uint8Array, pad = true): string {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += B64_ALPHABET[n >> 18]! + B64_ALPHABET[(n >> 12) & 63]! + B64_ALPHABET[(n >> 6) & 63]! + B64_ALPHABET[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out += B64_ALPHABET[n >> 18]! + B64_ALPHABET[(n >> 12) & 63]! + (pad ? '==' : '');
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += B64_ALPHABET[n >> 18]! + B64_ALPHABET[(n >> 12) & 63]! + B64_ALPHABET[(n >> 6) & 63]! + (pad ? '=' : '');
  }
  return out;
}

/** Decodes strict base64; returns a reason string when the text is not valid base64. */
function base64Decode(text: string): Uint8Array<ArrayBuffer> | string {
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const body = text.length - padding;
  for (let i = 0; i < body; i++) {
    const c = text.charCodeAt(i);
    if (c >= 128 || B64_INDEX[c]! < 0) {
      return c === 0x3d /* = */
        ? `misplaced '=' padding at position ${i + 1}`
        : `invalid character ${JSON.stringify(text[i])} at position ${i + 1}`;
    }
  }
  if (text.length % 4 !== 0) {
    return padding > 0 ? 'wrong amount of padding' : `length ${text.length} is not a multiple of 4 (truncated or missing '=' padding)`;
  }
  const out = new Uint8Array((text.length / 4) * 3 - padding);
  let o = 0;
  for (let i = 0; i < text.length; i += 4) {
    const a = B64_INDEX[text.charCodeAt(i)]!;
    const b = B64_INDEX[text.charCodeAt(i + 1)]!;
    const c = i + 2 < body ? B64_INDEX[text.charCodeAt(i + 2)]! : 0;
    const d = i + 3 < body ? B64_INDEX[text.charCodeAt(i + 3)]! : 0;
    const n = (a << 18) | (b << 12) | (c << 6) | d;
    out[o++] = n >> 16;
    if (o < out.length) out[o++] = (n >> 8) & 255;
    if (o < out.length) out[o++] = n & 255;
    if (i + 4 >= text.length && ((padding === 2 && (n & 0xffff) !== 0) || (padding === 1 && (n & 0xff) !== 0))) {
      return 'non-canonical final character (non-zero bits before the padding)';
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// SSH wire format (RFC 4251 §5)

class KeyFormatError extends Error {}

class WireReader {
  private offset = 0;
  private readonly view: DataView;

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get remaining(): number {
    return this.bytes.length - this.offset;
  }

  /** An SSH `string`: uint32 length then that many bytes. `what` names the field for errors. */
  bytesField(what: string): Uint8Array {
    if (this.remaining < 4) {
      throw new KeyFormatError(
        this.remaining === 0 ? `the key data ends before the ${what}` : `the key data is truncated in the length of the ${what}`,
      );
    }
    const len = this.view.getUint32(this.offset);
    if (len > this.remaining - 4) {
      throw new KeyFormatError(
        `the key data is truncated: the ${what} claims ${len} bytes but only ${this.remaining - 4} remain`,
      );
    }
    const out = this.bytes.subarray(this.offset + 4, this.offset + 4 + len);
    this.offset += 4 + len;
    return out;
  }

  /** A text `string` (OpenSSH cstring: no NUL, printable ASCII here). */
  text(what: string): string {
    const raw = this.bytesField(what);
    let s = '';
    for (const b of raw) {
      if (b < 0x20 || b > 0x7e) throw new KeyFormatError(`the ${what} in the key data is not printable text`);
      s += String.fromCharCode(b);
    }
    return s;
  }

  /** A non-negative `mpint` as its magnitude bytes with leading zeros stripped (as OpenSSH reads it). */
  mpint(what: string): Uint8Array {
    const raw = this.bytesField(what);
    if (raw.length > 0 && (raw[0]! & 0x80) !== 0) throw new KeyFormatError(`the ${what} is negative`);
    let i = 0;
    while (i < raw.length && raw[i] === 0) i++;
    const magnitude = raw.subarray(i);
    if (magnitude.length > MAX_MPINT_BYTES) {
      throw new KeyFormatError(`the ${what} is larger than ${MAX_MPINT_BYTES * 8} bits`);
    }
    return magnitude;
  }

  /** Refuses bytes after the last field. */
  end(): void {
    if (this.remaining > 0) {
      throw new KeyFormatError(
        `the key data has ${this.remaining} unexpected trailing byte${this.remaining === 1 ? '' : 's'} after the key`,
      );
    }
  }
}

function bitLength(magnitude: Uint8Array): number {
  if (magnitude.length === 0) return 0;
  return (magnitude.length - 1) * 8 + (32 - Math.clz32(magnitude[0]!));
}

function toBigInt(bytes: Uint8Array): bigint {
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  return n;
}

// ---------------------------------------------------------------------------------------------
// Elliptic curves (short Weierstrass, a = -3): used to check the point is on the curve.

interface Curve {
  bits: number;
  fieldBytes: number;
  p: bigint;
  b: bigint;
}

const CURVES: Readonly<Record<string, Curve>> = {
  nistp256: {
    bits: 256,
    fieldBytes: 32,
    p: 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn,
    b: 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn,
  },
  nistp384: {
    bits: 384,
    fieldBytes: 48,
    p: 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffffn,
    b: 0xb3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aefn,
  },
  nistp521: {
    bits: 521,
    fieldBytes: 66,
    p: (1n << 521n) - 1n,
    b: 0x0051953eb9618e1c9a1f929a21a0b68540eea2da725b99b315f3b8b489918ef109e156193951ec7e937b1652c0bd3bb1bf073573df883d2c34f1ef451fd46b503f00n,
  },
};

function checkEcPoint(curveName: string, point: Uint8Array): number {
  const curve = CURVES[curveName]!;
  const expected = 1 + 2 * curve.fieldBytes;
  if (point.length === 0) throw new KeyFormatError('the ECDSA public point is empty');
  if (point[0] === 0x02 || point[0] === 0x03) {
    throw new KeyFormatError('the ECDSA public point is compressed; OpenSSH keys use an uncompressed point');
  }
  if (point[0] !== 0x04) {
    throw new KeyFormatError(`the ECDSA public point is not an uncompressed point (first byte 0x${point[0]!.toString(16).padStart(2, '0')}, expected 0x04)`);
  }
  if (point.length !== expected) {
    throw new KeyFormatError(`the ECDSA public point is ${point.length} bytes; ${curveName} needs ${expected}`);
  }
  const { p, b } = curve;
  const x = toBigInt(point.subarray(1, 1 + curve.fieldBytes));
  const y = toBigInt(point.subarray(1 + curve.fieldBytes));
  if (x >= p || y >= p) throw new KeyFormatError(`the ECDSA public point has a coordinate outside the ${curveName} field`);
  const lhs = (y * y) % p;
  const rhs = (((((x * x) % p) * x) % p) - 3n * x + b) % p;
  if (lhs !== (rhs + p) % p) throw new KeyFormatError(`the ECDSA public point is not on the ${curveName} curve`);
  return curve.bits;
}

// ---------------------------------------------------------------------------------------------
// Blob decoding per algorithm

function decodeBlob(declared: string, blob: Uint8Array): number {
  const r = new WireReader(blob);
  let inBlob: string;
  try {
    inBlob = r.text('key type');
  } catch {
    throw new KeyFormatError(`the key data does not start with a key type; it is not an OpenSSH '${declared}' key`);
  }
  if (inBlob !== declared) {
    throw new KeyFormatError(`the key data is a '${inBlob.slice(0, 64)}' key but the line declares '${declared}'`);
  }
  let bits: number;
  switch (declared) {
    case 'ssh-rsa': {
      const e = r.mpint('RSA public exponent (e)');
      const n = r.mpint('RSA modulus (n)');
      if (e.length === 0) throw new KeyFormatError('the RSA public exponent (e) is missing or zero');
      if (n.length === 0) throw new KeyFormatError('the RSA modulus (n) is missing or zero');
      bits = bitLength(n);
      if (bits < MIN_RSA_BITS) {
        throw new KeyFormatError(`the RSA modulus is ${bits} bits; at least ${MIN_RSA_BITS} are required`);
      }
      break;
    }
    case 'ssh-dss': {
      const names = ['DSA prime (p)', 'DSA subprime (q)', 'DSA generator (g)', 'DSA public value (y)'];
      const [p] = names.map((what) => {
        const v = r.mpint(what);
        if (v.length === 0) throw new KeyFormatError(`the ${what} is missing or zero`);
        return v;
      });
      bits = bitLength(p!);
      break;
    }
    case 'ssh-ed25519':
    case 'sk-ssh-ed25519@openssh.com': {
      const key = r.bytesField('Ed25519 public key');
      if (key.length !== 32) throw new KeyFormatError(`the Ed25519 public key is ${key.length} bytes; it must be 32`);
      bits = 256;
      break;
    }
    case 'ecdsa-sha2-nistp256':
    case 'ecdsa-sha2-nistp384':
    case 'ecdsa-sha2-nistp521':
    case 'sk-ecdsa-sha2-nistp256@openssh.com': {
      const expectedCurve = declared.startsWith('sk-') ? 'nistp256' : declared.slice('ecdsa-sha2-'.length);
      const curve = r.text('ECDSA curve name');
      if (curve !== expectedCurve) {
        throw new KeyFormatError(`the ECDSA curve in the key data is '${curve.slice(0, 64)}' but '${declared}' requires '${expectedCurve}'`);
      }
      bits = checkEcPoint(curve, r.bytesField('ECDSA public point'));
      break;
    }
    default:
      throw new KeyFormatError(`unknown key type '${declared}'`);
  }
  if (declared.startsWith('sk-')) {
    let application: Uint8Array;
    try {
      application = r.bytesField('application');
    } catch {
      throw new KeyFormatError('the security-key (sk-*) key data is missing its application string (e.g. "ssh:")');
    }
    if (application.length === 0) throw new KeyFormatError('the security-key (sk-*) application string is empty');
    if (application.includes(0)) throw new KeyFormatError('the security-key (sk-*) application string contains a NUL byte');
  }
  r.end();
  return bits;
}

// ---------------------------------------------------------------------------------------------
// Line parsing

const OPTION_KEYWORDS = new Set([
  'agent-forwarding', 'cert-authority', 'no-agent-forwarding', 'no-port-forwarding', 'no-pty', 'no-user-rc',
  'no-x11-forwarding', 'no-touch-required', 'port-forwarding', 'pty', 'restrict', 'touch-required', 'user-rc',
  'verify-required', 'x11-forwarding',
]);

function isKnownOrCertAlgorithm(token: string): boolean {
  return sshKeyTypeOf(token) !== undefined || /-cert-v0[01]@openssh\.com$/.test(token);
}

function quote(token: string): string {
  return `'${token.length > 64 ? `${token.slice(0, 64)}…` : token}'`;
}

/** Returns the problem with the text of the line, or the parts of a key line. */
function splitLine(
  input: unknown,
): { algorithm: string; data: string; comment: string | null } | string {
  if (typeof input !== 'string') return 'it must be a string';
  if (input.length > MAX_SSH_KEY_LENGTH) {
    return `it is ${input.length} characters long; at most ${MAX_SSH_KEY_LENGTH} are accepted`;
  }
  const line = input.trim();
  if (line === '') return 'it is empty';
  if (/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(line)) {
    return 'that is a private key; send the .pub (the one-line public key), and keep the private key secret';
  }
  if (line.includes('-----BEGIN')) {
    return "that is a PEM-encoded key, not an OpenSSH public key; send the one-line .pub form ('ssh-keygen -i -m PKCS8 -f key.pem' converts it)";
  }
  if (/^PuTTY-User-Key-File-\d+:/.test(line)) {
    return "that is a PuTTY private key; send the OpenSSH one-line public key (PuTTYgen: 'Public key for pasting into OpenSSH authorized_keys file')";
  }
  if (line.startsWith('---- BEGIN SSH2 PUBLIC KEY')) {
    return "that is an RFC 4716 (SSH2) public key; send the one-line OpenSSH form ('ssh-keygen -i -f key.pub' converts it)";
  }
  if (/[\r\n]/.test(line)) {
    const lines = line.split(/\r\n|\r|\n/).filter((l) => l.trim() !== '').length;
    return `it must be exactly one line (one key), but it has ${lines} lines`;
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000b-\u001f\u007f]/.test(line)) return 'it contains control characters';

  const tokens = line.split(/[ \t]+/);
  const algorithm = tokens[0]!;
  if (sshKeyTypeOf(algorithm) === undefined) {
    const later = tokens.findIndex((t, i) => i > 0 && isKnownOrCertAlgorithm(t));
    const optionLike =
      algorithm.startsWith('@') || algorithm.includes('="') || /^[A-Za-z0-9-]+=/.test(algorithm) ||
      algorithm.split(',').some((o) => OPTION_KEYWORDS.has(o.toLowerCase()));
    if (later > 0 || optionLike) {
      return (
        'authorized_keys options (such as command="..." or from="...") or other text before the key type are not accepted; ' +
        "send only '<type> <base64> [comment]'"
      );
    }
    if (/-cert-v0[01]@openssh\.com$/.test(algorithm)) {
      return `OpenSSH certificates (${quote(algorithm)}) are not accepted; send the plain public key`;
    }
    return `unknown key type ${quote(algorithm)}; expected one of ${Object.keys(ALGORITHM_TYPES).join(', ')}`;
  }
  const data = tokens[1];
  if (data === undefined) return `the base64 key data after '${algorithm}' is missing`;
  const afterData = line.slice(line.indexOf(data, algorithm.length) + data.length).trim();
  return { algorithm, data, comment: afterData === '' ? null : afterData };
}

/**
 * Parses one OpenSSH public key line (authorized_keys / .pub format).
 * Throws invalidRequest (400) with a clear detail for anything that is not a well-formed key.
 * `path` names the field in the error's `errors` (default 'publicKey').
 */
export async function parseSshPublicKey(line: string, path = 'publicKey'): Promise<ParsedSshKey> {
  const fail = (message: string) =>
    invalidRequest(`${path} is not a valid SSH public key: ${message}`, [{ path, message }]);

  const parts = splitLine(line);
  if (typeof parts === 'string') throw fail(parts);
  const { algorithm, data, comment } = parts;

  const decoded = base64Decode(data);
  if (typeof decoded === 'string') throw fail(`the key data is not valid base64: ${decoded}`);
  if (decoded.length === 0) throw fail('the key data is empty');

  let bits: number;
  try {
    bits = decodeBlob(algorithm, decoded);
  } catch (err) {
    if (err instanceof KeyFormatError) throw fail(err.message);
    throw err;
  }

  const digest = new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', decoded));
  const blob = base64Encode(decoded);
  return {
    type: sshKeyTypeOf(algorithm)!,
    algorithm,
    blob,
    comment,
    fingerprint: `SHA256:${base64Encode(digest, false)}`,
    publicKey: comment === null ? `${algorithm} ${blob}` : `${algorithm} ${blob} ${comment}`,
    bits,
  };
}

/**
 * The `sshKeys` of a create: every key parsed (400 naming `sshKeys[i]`) and a key given twice
 * refused, before any upstream call.
 */
export async function parseSshKeyList(lines: readonly string[]): Promise<ParsedSshKey[]> {
  const seen = new Map<string, number>();
  const out: ParsedSshKey[] = [];
  for (const [i, line] of lines.entries()) {
    const key = await parseSshPublicKey(line, `sshKeys[${i}]`);
    const first = seen.get(key.fingerprint);
    if (first !== undefined) {
      throw invalidRequest(`sshKeys[${i}] is the same key as sshKeys[${first}] (${key.fingerprint})`, [
        { path: `sshKeys[${i}]`, message: 'duplicate key' },
      ]);
    }
    seen.set(key.fingerprint, i);
    out.push(key);
  }
  return out;
}
