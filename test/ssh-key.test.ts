import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../src/domain/errors.js';
import { parseSshPublicKey, sshKeyIdOf, sshKeyTypeOf } from '../src/domain/ssh-key.js';
import { keyOf, sshKeys } from './fixtures/ssh-keys.js';

const SSH_KEYGEN = '/usr/bin/ssh-keygen';

// --- helpers to build SSH wire-format blobs by hand ------------------------------------------
const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
const sshString = (v: string | Uint8Array) => {
  const b = typeof v === 'string' ? Buffer.from(v, 'latin1') : Buffer.from(v);
  return Buffer.concat([u32(b.length), b]);
};
/** Positive mpint from magnitude bytes (adds the 0x00 prefix when the high bit is set). */
const mpint = (magnitude: Uint8Array) => {
  const m = Buffer.from(magnitude);
  return sshString(m.length > 0 && (m[0]! & 0x80) !== 0 ? Buffer.concat([Buffer.from([0]), m]) : m);
};
const blobOf = (line: string) => Buffer.from(line.split(' ')[1]!, 'base64');
/** The fields of a blob (each SSH string's payload). */
const fieldsOf = (blob: Buffer) => {
  const out: Buffer[] = [];
  for (let o = 0; o < blob.length; ) {
    const n = blob.readUInt32BE(o);
    out.push(blob.subarray(o + 4, o + 4 + n));
    o += 4 + n;
  }
  return out;
};
const line = (algorithm: string, ...parts: Buffer[]) => `${algorithm} ${Buffer.concat(parts).toString('base64')}`;

const ed = keyOf('ed25519');
const edBlob = blobOf(ed.publicKey);
const [, edKey] = fieldsOf(edBlob);
const ec256 = keyOf('ecdsa-256');
const [, , ec256Point] = fieldsOf(blobOf(ec256.publicKey));
const [, ec384Curve, ec384Point] = fieldsOf(blobOf(keyOf('ecdsa-384').publicKey));
const rsa = keyOf('rsa');
const [, rsaE, rsaN] = fieldsOf(blobOf(rsa.publicKey));
const dsaFields = fieldsOf(blobOf(keyOf('dsa').publicKey));

const rsa512 = (() => {
  const n = Buffer.alloc(64, 0xa7);
  n[0] = 0xc3; // top bit set: exactly 512 bits
  n[63] = 0x01;
  return line('ssh-rsa', sshString('ssh-rsa'), mpint(Buffer.from([1, 0, 1])), mpint(n));
})();

async function rejection(input: string, path?: string): Promise<GatewayError> {
  try {
    await parseSshPublicKey(input, path);
  } catch (err) {
    expect(err).toBeInstanceOf(GatewayError);
    return err as GatewayError;
  }
  throw new Error(`expected ${JSON.stringify(input.slice(0, 80))} to be rejected`);
}

describe('parseSshPublicKey: real keys', () => {
  it('has a fixture for every key type', () => {
    expect(new Set(sshKeys.map((k) => k.type))).toEqual(
      new Set(['rsa', 'ed25519', 'ecdsa', 'dsa', 'sk-ed25519', 'sk-ecdsa']),
    );
  });

  it.each(sshKeys.map((k) => [k.name, k] as const))('%s matches ssh-keygen -lf', async (_name, k) => {
    const parsed = await parseSshPublicKey(k.publicKey);
    expect(parsed).toEqual({
      type: k.type,
      algorithm: k.algorithm,
      blob: k.publicKey.split(' ')[1],
      comment: k.comment,
      fingerprint: k.fingerprint,
      publicKey: k.publicKey,
      bits: k.bits,
    });
    expect(sshKeyTypeOf(parsed.algorithm)).toBe(k.type);
  });

  it('handles surrounding whitespace, tabs and a comment with spaces', async () => {
    const [algorithm, blob] = ed.publicKey.split(' ');
    const parsed = await parseSshPublicKey(`\n  \t${algorithm} \t  ${blob}   deploy key  for  build-01 \t\r\n`);
    expect(parsed.comment).toBe('deploy key  for  build-01');
    expect(parsed.publicKey).toBe(`${algorithm} ${blob} deploy key  for  build-01`);
    expect(parsed.fingerprint).toBe(ed.fingerprint);
  });

  it('gives null for a missing or blank comment', async () => {
    const [algorithm, blob] = ed.publicKey.split(' ');
    for (const input of [`${algorithm} ${blob}`, `${algorithm} ${blob}   \t `]) {
      const parsed = await parseSshPublicKey(input);
      expect(parsed.comment).toBeNull();
      expect(parsed.publicKey).toBe(`${algorithm} ${blob}`);
    }
  });

  it('accepts an mpint with redundant leading zero bytes and counts bits without them (as OpenSSH does)', async () => {
    const padded = Buffer.concat([Buffer.from([0, 0]), rsaN!]);
    const parsed = await parseSshPublicKey(line('ssh-rsa', sshString('ssh-rsa'), sshString(rsaE!), sshString(padded)));
    expect(parsed.bits).toBe(2048);
  });

  it.skipIf(!existsSync(SSH_KEYGEN))('agrees with a live ssh-keygen -lf, also on the normalized line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ssh-key-test-'));
    try {
      const inputs = [...sshKeys.map((k) => k.publicKey), `  ${ed.publicKey.replace(/ \S+$/, '')}   a  spaced comment  `];
      for (const [i, input] of inputs.entries()) {
        const parsed = await parseSshPublicKey(input);
        for (const text of [input.trim(), parsed.publicKey]) {
          const file = join(dir, `key${i}.pub`);
          writeFileSync(file, `${text}\n`);
          const out = execFileSync(SSH_KEYGEN, ['-lf', file], { encoding: 'utf8' }).trim();
          const [bits, fingerprint] = out.split(' ');
          expect({ bits: Number(bits), fingerprint }).toEqual({ bits: parsed.bits, fingerprint: parsed.fingerprint });
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('sshKeyIdOf', () => {
  it('turns the fingerprint into unpadded base64url', () => {
    expect(sshKeyIdOf('SHA256:ab+/cd')).toBe('ab-_cd');
    expect(sshKeyIdOf('SHA256:ab+/cd==')).toBe('ab-_cd');
    expect(sshKeyIdOf(keyOf('ecdsa-521').fingerprint)).toBe('_LuTfIafX_smnKSXg3EZcrgwPXkgPWrp700xeZ76-8I');
  });

  it('gives every fixture a distinct URL-safe id', () => {
    const ids = sshKeys.map((k) => sshKeyIdOf(k.fingerprint));
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('sshKeyTypeOf', () => {
  it('maps algorithm names and rejects unknown ones', () => {
    expect(sshKeyTypeOf('ssh-rsa')).toBe('rsa');
    expect(sshKeyTypeOf('ssh-dss')).toBe('dsa');
    expect(sshKeyTypeOf('ecdsa-sha2-nistp521')).toBe('ecdsa');
    expect(sshKeyTypeOf('sk-ssh-ed25519@openssh.com')).toBe('sk-ed25519');
    expect(sshKeyTypeOf('sk-ecdsa-sha2-nistp256@openssh.com')).toBe('sk-ecdsa');
    expect(sshKeyTypeOf('ssh-rsa-cert-v01@openssh.com')).toBeUndefined();
    expect(sshKeyTypeOf('toString')).toBeUndefined();
    expect(sshKeyTypeOf('')).toBeUndefined();
  });
});

describe('parseSshPublicKey: invalid input', () => {
  const ecPem = ['-----BEGIN OPENSSH PRIVATE KEY-----', 'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW', '-----END OPENSSH PRIVATE KEY-----'].join('\n');
  const cases: [string, string, RegExp][] = [
    ['empty', '', /is empty/],
    ['only whitespace', '  \n\t ', /is empty/],
    ['garbage', 'hello world', /unknown key type 'hello'/],
    ['unknown algorithm', `ssh-foo ${edBlob.toString('base64')}`, /unknown key type 'ssh-foo'/],
    ['certificate', `ssh-ed25519-cert-v01@openssh.com ${edBlob.toString('base64')}`, /certificates .* not accepted/],
    ['missing key data', 'ssh-ed25519', /base64 key data after 'ssh-ed25519' is missing/],
    ['truncated blob', line('ssh-ed25519', edBlob.subarray(0, edBlob.length - 6)), /truncated/],
    ['blob cut after the type', line('ssh-rsa', sshString('ssh-rsa')), /ends before the RSA public exponent/],
    ['algorithm mismatch', `ssh-rsa ${edBlob.toString('base64')} x`, /key data is a 'ssh-ed25519' key but the line declares 'ssh-rsa'/],
    ['blob not starting with a type', 'ssh-ed25519 AAAA', /does not start with a key type/],
    ['trailing bytes', line('ssh-ed25519', edBlob, Buffer.from([1, 2, 3])), /3 unexpected trailing bytes/],
    ['bad base64 character', 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI$$$', /not valid base64: invalid character "\$"/],
    ['base64 missing padding', ec256.publicKey.replace('=', ''), /not valid base64: .*not a multiple of 4/],
    ['non-canonical base64', `ssh-ed25519 ${edBlob.toString('base64')}AB==`, /not valid base64: non-canonical/],
    ['private key PEM', ecPem, /that is a private key; send the \.pub/],
    ['single PEM header line', '-----BEGIN RSA PRIVATE KEY-----', /that is a private key; send the \.pub/],
    ['PuTTY private key', 'PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none', /PuTTY private key/],
    ['PEM public key', '-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----', /PEM-encoded key/],
    ['RFC 4716 public key', '---- BEGIN SSH2 PUBLIC KEY ----\nAAAA\n---- END SSH2 PUBLIC KEY ----', /RFC 4716/],
    ['options prefix', `command="echo hi",no-pty ${ed.publicKey}`, /authorized_keys options .* not accepted/],
    ['bare option', `restrict ${ed.publicKey}`, /authorized_keys options .* not accepted/],
    ['option only', 'from="10.0.0.1"', /authorized_keys options .* not accepted/],
    ['two lines', `${ed.publicKey}\n${rsa.publicKey}`, /exactly one line .* 2 lines/],
    ['control character', `${ed.publicKey}\u0000x`, /control characters/],
    ['too long', `${ed.publicKey} ${'x'.repeat(16 * 1024)}`, /at most 16384 are accepted/],
    ['small RSA', rsa512, /RSA modulus is 512 bits; at least 1024 are required/],
    ['RSA without modulus', line('ssh-rsa', sshString('ssh-rsa'), sshString(rsaE!)), /ends before the RSA modulus/],
    ['RSA zero modulus', line('ssh-rsa', sshString('ssh-rsa'), sshString(rsaE!), sshString(new Uint8Array())), /RSA modulus \(n\) is missing or zero/],
    ['RSA zero exponent', line('ssh-rsa', sshString('ssh-rsa'), sshString(new Uint8Array()), sshString(rsaN!)), /exponent \(e\) is missing or zero/],
    ['negative mpint', line('ssh-rsa', sshString('ssh-rsa'), sshString(rsaE!), sshString(rsaN!.subarray(1))), /RSA modulus \(n\) is negative/],
    ['ed25519 of 31 bytes', line('ssh-ed25519', sshString('ssh-ed25519'), sshString(edKey!.subarray(1))), /Ed25519 public key is 31 bytes; it must be 32/],
    ['ed25519 of 33 bytes', line('ssh-ed25519', sshString('ssh-ed25519'), sshString(Buffer.concat([edKey!, Buffer.from([0])]))), /33 bytes; it must be 32/],
    ['wrong ecdsa curve', line('ecdsa-sha2-nistp256', sshString('ecdsa-sha2-nistp256'), sshString(ec384Curve!), sshString(ec384Point!)), /curve in the key data is 'nistp384' but 'ecdsa-sha2-nistp256' requires 'nistp256'/],
    ['ecdsa point of the wrong size', line('ecdsa-sha2-nistp384', sshString('ecdsa-sha2-nistp384'), sshString('nistp384'), sshString(ec256Point!)), /point is 65 bytes; nistp384 needs 97/],
    ['compressed ecdsa point', line('ecdsa-sha2-nistp256', sshString('ecdsa-sha2-nistp256'), sshString('nistp256'), sshString(Buffer.concat([Buffer.from([2]), ec256Point!.subarray(1, 33)]))), /compressed/],
    ['ecdsa point off the curve', line('ecdsa-sha2-nistp256', sshString('ecdsa-sha2-nistp256'), sshString('nistp256'), sshString(Buffer.from(ec256Point!).fill(7, 64))), /not on the nistp256 curve/],
    ['DSA without y', line('ssh-dss', sshString('ssh-dss'), ...dsaFields.slice(1, 4).map((f) => sshString(f))), /ends before the DSA public value \(y\)/],
    ['sk-ed25519 without application', line('sk-ssh-ed25519@openssh.com', sshString('sk-ssh-ed25519@openssh.com'), sshString(edKey!)), /missing its application string/],
    ['sk-ecdsa without application', line('sk-ecdsa-sha2-nistp256@openssh.com', sshString('sk-ecdsa-sha2-nistp256@openssh.com'), sshString('nistp256'), sshString(ec256Point!)), /missing its application string/],
    ['sk-ecdsa on nistp384', line('sk-ecdsa-sha2-nistp256@openssh.com', sshString('sk-ecdsa-sha2-nistp256@openssh.com'), sshString('nistp384'), sshString(ec384Point!), sshString('ssh:')), /requires 'nistp256'/],
  ];

  it.each(cases)('rejects %s', async (_name, input, detail) => {
    const err = await rejection(input);
    expect(err.status).toBe(400);
    expect(err.code).toBe('invalid_request');
    expect(err.detail).toMatch(/^publicKey is not a valid SSH public key: /);
    expect(err.detail).toMatch(detail);
    expect(err.extra.errors).toEqual([{ path: 'publicKey', message: expect.stringMatching(detail) }]);
  });

  it('puts the given path in the error', async () => {
    const err = await rejection('ssh-ed25519 AAAA', 'sshKeys[2]');
    expect(err.detail).toMatch(/^sshKeys\[2\] is not a valid SSH public key: /);
    expect(err.extra.errors).toEqual([{ path: 'sshKeys[2]', message: expect.any(String) }]);
  });

  it('rejects a non-string at runtime', async () => {
    const err = await rejection(42 as unknown as string);
    expect(err.detail).toMatch(/must be a string/);
  });
});

describe('ssh-key module portability', () => {
  it('uses no node: imports and no Buffer (it must run on Cloudflare Workers)', () => {
    const source = readFileSync(new URL('../src/domain/ssh-key.ts', import.meta.url), 'utf8')
      .replace(/\/\*[\s\S]*?\*\//g, '') // block comments
      .replace(/^\s*\/\/.*$/gm, ''); // line comments
    expect(source).not.toMatch(/from\s+['"]node:/);
    expect(source).not.toMatch(/\bBuffer\b/);
    expect(source).not.toMatch(/\brequire\(/);
  });
});
