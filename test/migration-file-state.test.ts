/**
 * The CLI's migration state file (src/node/migration-file-state.ts): records read back as a
 * killed process left them (the last line of a user wins, a torn last line ignored and cut), its
 * pair of upstreams checked, one holder of its lock at a time (a dead holder's lock taken over),
 * and never a password in it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { StatePair } from '../src/migration/state.js';
import { openFileMigrationState } from '../src/node/migration-file-state.js';
import type { UserRunRecord } from '../src/migration/state.js';

const dir = mkdtempSync(join(tmpdir(), 'migration-file-state-'));
let n = 0;
const freshPath = () => join(dir, `state-${(n += 1)}.jsonl`);
const PAIR: StatePair = { from: 'onprem', to: 'togo', identity: 'onprem~0123456789abcdef>togo~fedcba9876543210' };
const at = '2026-01-02T03:04:05.000Z';

describe('records', () => {
  it('appends each put as a line and reads them back, the last line of a user winning', async () => {
    const path = freshPath();
    const state = openFileMigrationState(path, PAIR);
    const release = await state.acquire();
    await state.put('alice', { step: 'creating', sourceId: 's1', at });
    await state.put('bob', { step: 'creating', sourceId: 's2', at });
    await state.put('alice', { step: 'done', sourceId: 's1', targetId: 't1', password: 'generated', reported: false, at });
    await release();

    expect(readFileSync(path, 'utf8').split('\n')).toEqual([
      `{"migration":"${PAIR.identity}"}`,
      `{"username":"alice","step":"creating","sourceId":"s1","at":"${at}"}`,
      `{"username":"bob","step":"creating","sourceId":"s2","at":"${at}"}`,
      `{"username":"alice","step":"done","sourceId":"s1","targetId":"t1","password":"generated","reported":false,"at":"${at}"}`,
      '',
    ]);
    const again = openFileMigrationState(path, PAIR);
    expect(await again.get('alice')).toEqual({ step: 'done', sourceId: 's1', targetId: 't1', password: 'generated', reported: false, at });
    expect(await again.get('bob')).toEqual({ step: 'creating', sourceId: 's2', at });
    expect(await again.get('carol')).toBeUndefined();
  });

  it('ignores a last line a killed process did not finish, and cuts it before writing on', async () => {
    const path = freshPath();
    writeFileSync(path, `{"migration":"${PAIR.identity}"}\n{"username":"alice","step":"creating","sourceId":"s1","at":"${at}"}\n{"username":"alice","step":"do`);
    const state = openFileMigrationState(path, PAIR);
    expect((await state.get('alice'))?.step).toBe('creating');
    const release = await state.acquire();
    await state.put('bob', { step: 'failed', sourceId: 's2', at });
    await release();
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toBe(`{"username":"bob","step":"failed","sourceId":"s2","at":"${at}"}`);
    expect([...openFileMigrationState(path, PAIR).records().keys()]).toEqual(['alice', 'bob']);
  });

  it('refuses a damaged line inside the file, and a file written for other upstreams', () => {
    const damaged = freshPath();
    writeFileSync(damaged, `{"migration":"${PAIR.identity}"}\nnot json\n{"username":"bob","step":"done","sourceId":"s","at":"${at}"}\n`);
    expect(() => openFileMigrationState(damaged, PAIR)).toThrow(/is damaged at line 2: move it away/);
    const other = freshPath();
    writeFileSync(other, `{"migration":"onprem~1111111111111111>togo~fedcba9876543210"}\n`);
    expect(() => openFileMigrationState(other, PAIR)).toThrow(
      expect.objectContaining({ status: 409, message: expect.stringContaining('was written for other upstreams of "onprem" and "togo"') }),
    );
  });

  it('holds no password, whatever the object put carries', async () => {
    const path = freshPath();
    const state = openFileMigrationState(path, PAIR);
    const release = await state.acquire();
    const careless = {
      step: 'done', sourceId: 's1', targetId: 't1', password: 'Sup3r-Secret-1', reported: true, at, generatedPassword: 'Sup3r-Secret-2',
    } as unknown as UserRunRecord;
    await state.put('alice', careless);
    await state.put('bob', { step: 'done', sourceId: 's2', targetId: 't2', password: 'carried', reported: false, at });
    await release();
    const text = readFileSync(path, 'utf8');
    expect(text).not.toMatch(/Sup3r-Secret/);
    expect(text.split('\n').slice(1, 3)).toEqual([
      `{"username":"alice","step":"done","sourceId":"s1","targetId":"t1","reported":true,"at":"${at}"}`,
      `{"username":"bob","step":"done","sourceId":"s2","targetId":"t2","password":"carried","reported":false,"at":"${at}"}`,
    ]);
  });
});

describe('the lock', () => {
  it('one holder at a time: a second acquire is the 409 of a run elsewhere; released, it can be taken again', async () => {
    const path = freshPath();
    const first = openFileMigrationState(path, PAIR);
    const release = await first.acquire();
    expect(readFileSync(`${path}.lock`, 'utf8')).toBe(`${process.pid}\n`);
    expect(first.holder()).toBe(process.pid);
    await expect(openFileMigrationState(path, PAIR).acquire()).rejects.toMatchObject({
      status: 409, message: 'a migration from "onprem" to "togo" is running: wait for it to finish, then run again',
    });
    await release();
    expect(existsSync(`${path}.lock`)).toBe(false);
    const next = await openFileMigrationState(path, PAIR).acquire();
    await next();
  });

  it('takes over the lock of a process that is gone, but not of one that runs', async () => {
    const path = freshPath();
    // A pid that was surely in use and is now gone: a child that has exited.
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    writeFileSync(`${path}.lock`, `${gone.stdout}\n`);
    const state = openFileMigrationState(path, PAIR);
    const release = await state.acquire();
    expect(state.holder()).toBe(process.pid);
    await release();

    // The parent of this process runs: its lock stands.
    writeFileSync(`${path}.lock`, `${process.ppid}\n`);
    await expect(openFileMigrationState(path, PAIR).acquire()).rejects.toMatchObject({ status: 409 });
    expect(readFileSync(`${path}.lock`, 'utf8')).toBe(`${process.ppid}\n`);
  });

  it('a put before any acquire still names the pair first', async () => {
    const path = freshPath();
    await openFileMigrationState(path, PAIR).put('alice', { step: 'creating', sourceId: 's1', at });
    expect(readFileSync(path, 'utf8').split('\n')[0]).toBe(`{"migration":"${PAIR.identity}"}`);
    expect((await openFileMigrationState(path, PAIR).get('alice'))?.step).toBe('creating');
  });
});
