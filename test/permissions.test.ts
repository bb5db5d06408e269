/** CONTRACT §3's one table, in both directions, for each backend vocabulary, and the narrower/broader advice. */
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../src/domain/errors.js';
import { PERMISSIONS, type AccessLevel, type Permission } from '../src/domain/model.js';
import {
  BASIC_VOCABULARY, accessLevelOf, canonicalPermissions, namesOutside, nearestLevels, permissionsOf, requestedDirectories,
  requestedPermissions, vocabularyOf, type Vocabulary,
} from '../src/domain/permissions.js';
import { errorOf } from './helpers/errors.js';

/** CONTRACT §2's canonical order, written out. */
const SIXTEEN: Permission[] = [
  'list', 'download', 'upload', 'overwrite', 'delete', 'rename', 'create_dirs', 'create_symlinks',
  'chmod', 'chown', 'chtimes', 'delete_files', 'delete_dirs', 'rename_files', 'rename_dirs', 'copy',
];
const EIGHT = SIXTEEN.slice(0, 8);
const ELEVEN = SIXTEEN.slice(0, 11);

/** Each backend's vocabulary (CONTRACT §2): SFTP To Go and SFTPGo 0.9.x, SFTPGo 1.x, SFTPGo 2.x. */
const VOCABULARIES: Array<[string, Vocabulary, Permission[]]> = [
  ['eight names (SFTP To Go, SFTPGo 0.9.x)', BASIC_VOCABULARY, EIGHT],
  ['eleven names (SFTPGo 1.x)', vocabularyOf(ELEVEN), ELEVEN],
  ['sixteen names (SFTPGo 2.x)', vocabularyOf(SIXTEEN), SIXTEEN],
];

const fixedTable: Array<[Exclude<AccessLevel, 'custom' | 'full'>, Permission[]]> = [
  ['none', []],
  ['read-only', ['list', 'download']],
  ['write-only', ['upload', 'create_dirs']],
  ['read-write', ['list', 'download', 'upload', 'overwrite', 'delete', 'rename', 'create_dirs']],
];

it('the model lists the sixteen names in the canonical order', () => {
  expect([...PERMISSIONS]).toEqual(SIXTEEN);
});

describe.each(VOCABULARIES)('access levels ⇄ permissions with %s', (_name, vocab, names) => {
  const table: Array<[Exclude<AccessLevel, 'custom'>, Permission[]]> = [...fixedTable, ['full', names]];

  it('the vocabulary keeps its names in canonical order', () => {
    expect(vocab.names).toEqual(names);
    expect(vocabularyOf([...names].reverse()).names).toEqual(names);
  });

  it.each(table)('%s → its set, and the set (in any order, with repeats) → %s', (level, perms) => {
    expect(permissionsOf(level, vocab)).toEqual(perms);
    expect(accessLevelOf(perms, vocab)).toBe(level);
    expect(accessLevelOf([...perms].reverse().concat(perms), vocab)).toBe(level);
  });

  it('any other set is custom, e.g. read-only plus one more name, or all but one', () => {
    for (const extra of names.filter((p) => p !== 'list' && p !== 'download')) {
      expect(accessLevelOf(['list', 'download', extra], vocab), extra).toBe('custom');
    }
    for (const missing of names) {
      const rest = names.filter((p) => p !== missing);
      if (fixedTable.some(([, set]) => set.length === rest.length && set.every((p) => rest.includes(p)))) continue;
      expect(accessLevelOf(rest, vocab), `all but ${missing}`).toBe('custom');
    }
  });

  it('names outside the vocabulary are told, in canonical order', () => {
    const outside = SIXTEEN.filter((p) => !names.includes(p));
    expect(namesOutside([...SIXTEEN].reverse(), vocab)).toEqual(outside);
    expect(namesOutside(names, vocab)).toEqual([]);
  });
});

it('a set of every name of a smaller vocabulary is custom on a larger one (no folding)', () => {
  expect(accessLevelOf(EIGHT, vocabularyOf(ELEVEN))).toBe('custom');
  expect(accessLevelOf(ELEVEN, vocabularyOf(SIXTEEN))).toBe('custom');
  expect(accessLevelOf(['list', 'download', 'chmod'], vocabularyOf(ELEVEN))).toBe('custom');
  // SFTPGo 2.x: delete_files + delete_dirs is not delete.
  const split = ['list', 'download', 'upload', 'overwrite', 'delete_files', 'delete_dirs', 'rename', 'create_dirs'] as Permission[];
  expect(accessLevelOf(split, vocabularyOf(SIXTEEN))).toBe('custom');
});

it('puts permissions in the canonical order without repeats', () => {
  expect(canonicalPermissions(['copy', 'create_symlinks', 'list', 'chmod', 'upload', 'list'])).toEqual(['list', 'upload', 'create_symlinks', 'chmod', 'copy']);
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
    expect(nearestLevels(perms as readonly Permission[], levels, BASIC_VOCABULARY)).toEqual({ narrower, broader });
  });

  it('full is the vocabulary: read-only + chmod is inside 1.x full, and read-write + symlinks too', () => {
    const v11 = vocabularyOf(ELEVEN);
    expect(nearestLevels(['list', 'download', 'chmod'], all, v11)).toEqual({ narrower: ['read-only'], broader: ['full'] });
    expect(nearestLevels(EIGHT, all, v11)).toEqual({ narrower: ['read-write'], broader: ['full'] });
  });
});

describe('requested permissions of a create or patch', () => {
  it('takes the level, the list, or both when they agree', () => {
    expect(requestedPermissions({ accessLevel: 'read-only' }, BASIC_VOCABULARY)).toEqual(['list', 'download']);
    expect(requestedPermissions({ permissions: ['download', 'list'] }, BASIC_VOCABULARY)).toEqual(['list', 'download']);
    expect(requestedPermissions({ accessLevel: 'read-only', permissions: ['download', 'list'] }, BASIC_VOCABULARY)).toEqual(['list', 'download']);
    expect(requestedPermissions({ accessLevel: 'custom', permissions: ['list'] }, BASIC_VOCABULARY)).toEqual(['list']);
    expect(requestedPermissions({}, BASIC_VOCABULARY)).toBeUndefined();
  });

  it('full is every name of the backend, and only that set agrees with full', () => {
    const v11 = vocabularyOf(ELEVEN);
    expect(requestedPermissions({ accessLevel: 'full' }, v11)).toEqual(ELEVEN);
    expect(requestedPermissions({ accessLevel: 'full', permissions: ELEVEN }, v11)).toEqual(ELEVEN);
    expect(errorOf(() => requestedPermissions({ accessLevel: 'full', permissions: EIGHT }, v11)).status).toBe(400);
    expect(requestedPermissions({ accessLevel: 'custom', permissions: EIGHT }, v11)).toEqual(EIGHT);
  });

  it.each([
    [{ accessLevel: 'full', permissions: ['list'] }],
    [{ accessLevel: 'custom', permissions: ['list', 'download'] }],
    [{ accessLevel: 'custom' }],
  ] as const)('refuses %j with 400', (input) => {
    const err = errorOf(() => requestedPermissions(input as never, BASIC_VOCABULARY));
    expect(err).toBeInstanceOf(GatewayError);
    expect(err.status).toBe(400);
  });
});

describe('requested directory permissions', () => {
  it('cleans each path, sorts them, makes each set canonical; null and {} clear', () => {
    expect(requestedDirectories({ directoryPermissions: { '/out/': ['upload', 'list'], '/in//sub/./': ['download'] } })).toEqual({
      '/in/sub': ['download'], '/out': ['list', 'upload'],
    });
    expect(Object.keys(requestedDirectories({ directoryPermissions: { '/b': [], '/a': [] } })!)).toEqual(['/a', '/b']);
    expect(requestedDirectories({ directoryPermissions: null })).toEqual({});
    expect(requestedDirectories({ directoryPermissions: {} })).toEqual({});
    expect(requestedDirectories({})).toBeUndefined();
  });

  it.each([
    [{ '/in': ['list'], '/in/': ['upload'] }, 'the same directory'],
    [{ '/x/..': ['list'] }, 'root directory'],
    [{ '//': ['list'] }, 'root directory'],
  ] as Array<[Record<string, Permission[]>, string]>)('refuses %j with 400', (dirs, why) => {
    const err = errorOf(() => requestedDirectories({ directoryPermissions: dirs }));
    expect(err.status).toBe(400);
    expect(err.detail).toContain(why);
  });
});
