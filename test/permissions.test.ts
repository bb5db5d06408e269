/** CONTRACT §3's one table, in both directions, and the narrower/broader advice. */
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../src/errors.js';
import type { AccessLevel, Permission } from '../src/model.js';
import { accessLevelOf, canonicalPermissions, nearestLevels, permissionsOf, requestedPermissions } from '../src/permissions.js';

const ALL: Permission[] = ['list', 'download', 'upload', 'overwrite', 'delete', 'rename', 'create_dirs', 'create_symlinks'];
const TABLE: Array<[Exclude<AccessLevel, 'custom'>, Permission[]]> = [
  ['none', []],
  ['read-only', ['list', 'download']],
  ['write-only', ['upload', 'create_dirs']],
  ['read-write', ['list', 'download', 'upload', 'overwrite', 'delete', 'rename', 'create_dirs']],
  ['full', ALL],
];

describe('access levels ⇄ permissions', () => {
  it.each(TABLE)('%s → its set, and the set (in any order, with repeats) → %s', (level, perms) => {
    expect(permissionsOf(level)).toEqual(perms);
    expect(accessLevelOf(perms)).toBe(level);
    expect(accessLevelOf([...perms].reverse().concat(perms))).toBe(level);
  });

  it.each([
    [['list']], [['download']], [['list', 'upload']], [['list', 'download', 'upload']], [ALL.slice(0, 7).filter((p) => p !== 'rename')],
  ] as Permission[][][])('any other set is custom: %j', (perms) => {
    expect(accessLevelOf(perms)).toBe('custom');
  });

  it('puts permissions in the canonical order without repeats', () => {
    expect(canonicalPermissions(['create_symlinks', 'list', 'upload', 'list'])).toEqual(['list', 'upload', 'create_symlinks']);
  });
});

describe('nearest representable levels', () => {
  const sftpgo = ['read-only', 'write-only', 'read-write', 'full'] as const;
  const all = ['none', 'read-only', 'write-only', 'read-write', 'full'] as const;
  it.each([
    ['none on SFTPGo', [], sftpgo, [], ['read-only', 'write-only']],
    ['list + upload', ['list', 'upload'], all, ['none'], ['read-write']],
    ['read + write-only', ['list', 'download', 'upload', 'create_dirs'], all, ['read-only', 'write-only'], ['read-write']],
    ['read-only + symlinks', ['list', 'download', 'create_symlinks'], all, ['read-only'], ['full']],
    ['list alone', ['list'], all, ['none'], ['read-only']],
    ['list alone, without none', ['list'], sftpgo, [], ['read-only']],
  ] as const)('%s', (_name, perms, levels, narrower, broader) => {
    expect(nearestLevels(perms as readonly Permission[], levels)).toEqual({ narrower, broader });
  });
});

describe('requested permissions of a create or patch', () => {
  it('takes the level, the list, or both when they agree', () => {
    expect(requestedPermissions({ accessLevel: 'read-only' })).toEqual(['list', 'download']);
    expect(requestedPermissions({ permissions: ['download', 'list'] })).toEqual(['list', 'download']);
    expect(requestedPermissions({ accessLevel: 'read-only', permissions: ['download', 'list'] })).toEqual(['list', 'download']);
    expect(requestedPermissions({ accessLevel: 'custom', permissions: ['list'] })).toEqual(['list']);
    expect(requestedPermissions({})).toBeUndefined();
  });

  it.each([
    [{ accessLevel: 'full', permissions: ['list'] }],
    [{ accessLevel: 'custom', permissions: ['list', 'download'] }],
    [{ accessLevel: 'custom' }],
  ] as const)('refuses %j with 400', (input) => {
    const run = () => requestedPermissions(input as never);
    expect(run).toThrow(GatewayError);
    try {
      run();
    } catch (err) {
      expect((err as GatewayError).status).toBe(400);
    }
  });
});
