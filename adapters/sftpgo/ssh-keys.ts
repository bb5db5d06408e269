/**
 * A user's SSH keys as SFTPGo stores them (`public_keys`, one OpenSSH line each), on every API
 * version: the lines read, one added, one removed. A stored line the gateway cannot parse is
 * logged and kept as it is, never dropped by a write.
 */
import {
  conflict, notFound, parseSshPublicKey, sshKeyIdOf, type CallContext, type ParsedSshKey, type SshKey,
} from '../../src/provider-kit/index.js';
import { toSshKey } from './mapping.js';

export interface StoredKey {
  line: string;
  /** The parsed key, or null when the line does not parse. */
  key: ParsedSshKey | null;
}

/** The stored lines, each with its parsed key; `where` says whose they are in the log line. */
export function readStoredKeys(lines: readonly string[] | null | undefined, ctx: CallContext, where: Record<string, unknown>): Promise<StoredKey[]> {
  return Promise.all((lines ?? []).map(async (line, index) => {
    try {
      return { line, key: await parseSshPublicKey(line) };
    } catch (err) {
      ctx.logger.warn(
        { ...where, index, reason: err instanceof Error ? err.message : String(err) },
        'skipping an SFTPGo public key the gateway cannot parse',
      );
      return { line, key: null };
    }
  }));
}

export const sshKeysOf = (present: StoredKey[]): SshKey[] => present.flatMap(({ key }) => (key ? [toSshKey(key)] : []));

/** The lines with `key` added; 409 when the user has it already. */
export function linesWithKey(present: StoredKey[], key: ParsedSshKey, username: string): string[] {
  if (present.some((k) => k.key?.fingerprint === key.fingerprint)) {
    throw conflict(`user "${username}" already has the key ${key.fingerprint}`);
  }
  return [...present.map((k) => k.line), key.publicKey];
}

/** The lines without the key `keyId`; 404 when the user has no such key. */
export function linesWithoutKey(present: StoredKey[], keyId: string, userId: string): string[] {
  const kept = present.filter((k) => !k.key || sshKeyIdOf(k.key.fingerprint) !== keyId);
  if (kept.length === present.length) throw notFound(`ssh key ${keyId} not found for user ${userId}`);
  return kept.map((k) => k.line);
}
