/**
 * A migration's state (src/migration/state.ts) in a file, for the CLI: one JSON line per record
 * written (`{"username":…,"step":…}`), appended as each is put, so a killed process loses nothing
 * it had put. Read back when opened: the last line of a user wins; a last line cut short by a
 * kill is ignored. A lock file beside it (`<file>.lock`, holding the holder's pid) keeps a second
 * run of the same pair out. It never holds a password: a record has none to hold.
 *
 * Its first line names the pair by the backends' identities (name and upstream, as
 * `backendIdentity` makes them): records of a run against another upstream — the config changed
 * since — must not be applied here (a `creating` record would delete a same-named user).
 *
 * Node only: the gateway's routes keep their state in the cache store instead.
 */
import { appendFileSync, linkSync, readFileSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { conflict, GatewayError } from '../domain/errors.js';
import { runningElsewhere, type MigrationState, type StatePair, type UserRunRecord } from '../migration/state.js';

export interface FileMigrationState extends MigrationState {
  /** The state file and its lock file. */
  readonly path: string;
  readonly lockPath: string;
  /** Records as loaded and put so far, by source username (for tests and summaries). */
  records(): ReadonlyMap<string, UserRunRecord>;
  /** The process id the lock file names, if there is one. */
  holder(): number | undefined;
}


const STEPS = new Set<UserRunRecord['step']>(['creating', 'done', 'failed']);

/** A file's records, the pair its first line names, and how many of its bytes are whole lines (the rest is a torn tail). */
export function parseStateText(text: string, path: string): { pair?: string; records: Map<string, UserRunRecord>; wholeBytes: number } {
  const records = new Map<string, UserRunRecord>();
  const end = text.lastIndexOf('\n') + 1;
  // Everything after the last newline is a line a killed process did not finish: ignored.
  const lines = text.slice(0, end).split('\n');
  lines.pop();
  let pair: string | undefined;
  lines.forEach((line, i) => {
    if (i === 0 && (pair = pairOf(line)) !== undefined) return;
    const parsed = recordOf(line);
    if (parsed === undefined) {
      throw new GatewayError(500, 'internal_error', `the migration state file ${path} is damaged at line ${i + 1}: move it away to start afresh`);
    }
    records.set(parsed.username, parsed.record);
  });
  return { ...(pair !== undefined ? { pair } : {}), records, wholeBytes: Buffer.byteLength(text.slice(0, end)) };
}

/**
 * The line of a record: its known fields only, `password` only as how it was made — so nothing
 * else a caller's object carries (a password) can reach the file.
 */
function lineOf(username: string, r: UserRunRecord): string {
  const kept: { username: string } & UserRunRecord = {
    username, step: r.step, sourceId: r.sourceId,
    ...(r.targetId !== undefined ? { targetId: r.targetId } : {}),
    ...(r.password === 'carried' || r.password === 'generated' ? { password: r.password } : {}),
    ...(r.reported !== undefined ? { reported: r.reported === true } : {}),
    at: r.at,
  };
  return `${JSON.stringify(kept)}\n`;
}

const headerOf = (identity: string) => `${JSON.stringify({ migration: identity })}\n`;

function pairOf(line: string): string | undefined {
  try {
    const value = JSON.parse(line) as { migration?: unknown };
    return typeof value?.migration === 'string' ? value.migration : undefined;
  } catch {
    return undefined;
  }
}

function recordOf(line: string): { username: string; record: UserRunRecord } | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { username, ...record } = value as { username?: unknown } & Partial<UserRunRecord>;
  if (typeof username !== 'string' || !STEPS.has(record.step!) || typeof record.sourceId !== 'string') return undefined;
  return { username, record: record as UserRunRecord };
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw err;
  }
}

/** Whether a process with this id runs (one of another user's answers EPERM: it runs). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** The pid a lock file names, or undefined when it cannot be read (gone meanwhile). */
function holderOf(lockPath: string): number | undefined {
  const pid = Number.parseInt(readText(lockPath).trim(), 10);
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}

/**
 * Takes the lock file: written under a name of its own, then linked to the lock's name, which
 * fails if the lock exists — so a lock file is never seen half-written. A lock whose process is
 * gone (a killed run) is stale and taken over.
 */
function takeLock(lockPath: string, names: StatePair): void {
  const mine = `${lockPath}.${process.pid}`;
  writeFileSync(mine, `${process.pid}\n`);
  try {
    for (let tries = 0; tries < 2; tries++) {
      try {
        linkSync(mine, lockPath);
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const holder = holderOf(lockPath);
      if (holder !== undefined && isAlive(holder)) break;
      // Stale. Two runs finding the same stale lock at the same instant could both take it;
      // a run started by hand after a crash does not race another.
      try {
        unlinkSync(lockPath);
      } catch {
        // removed by another run meanwhile: try linking again
      }
    }
    throw runningElsewhere(names.from, names.to);
  } finally {
    unlinkSync(mine);
  }
}

/**
 * The state of the migration `pair.from` → `pair.to` kept in `path` (created when a run takes
 * the lock). A file written for another pair of upstreams is refused (a 409).
 *
 * @example
 * const pair = { from: 'onprem', to: 'togo', identity: 'onprem~3f9c…>togo~8a1b…' };
 * const state = openFileMigrationState('sftp-gateway-migration.onprem.togo.jsonl', pair);
 * await runMigration(source, target, {}, { ctx, state });
 */
export function openFileMigrationState(path: string, pair: StatePair): FileMigrationState {
  const lockPath = `${path}.lock`;
  const load = (text: string) => {
    const parsed = parseStateText(text, path);
    if (parsed.pair !== undefined && parsed.pair !== pair.identity) {
      throw conflict(`the migration state file ${path} was written for other upstreams of "${pair.from}" and "${pair.to}" ` +
        `(the config changed since): move it away to start afresh, or pass another --state file`);
    }
    if (parsed.pair === undefined && parsed.records.size > 0) {
      throw new GatewayError(500, 'internal_error', `the migration state file ${path} does not name its backends: move it away to start afresh`);
    }
    return parsed;
  };
  const opened = load(readText(path));
  let records = opened.records;
  let headed = opened.pair !== undefined;

  return {
    path,
    lockPath,
    records: () => records,
    holder: () => holderOf(lockPath),
    async get(username) {
      return records.get(username);
    },
    async put(username, record) {
      // One write(2) per record: in the file as soon as this returns, whatever kills the process after.
      appendFileSync(path, `${headed ? '' : headerOf(pair.identity)}${lineOf(username, record)}`);
      headed = true;
      records.set(username, record);
    },
    async acquire() {
      takeLock(lockPath, pair);
      try {
        // Read again under the lock (another run may have written since the open), and cut a
        // torn tail so that the next record starts a line of its own.
        const text = readText(path);
        const parsed = load(text);
        if (parsed.wholeBytes < Buffer.byteLength(text)) truncateSync(path, parsed.wholeBytes);
        if (parsed.pair === undefined) appendFileSync(path, headerOf(pair.identity));
        headed = true;
        records = parsed.records;
      } catch (err) {
        unlinkSync(lockPath);
        throw err;
      }
      return async () => {
        // Only our own lock: a stale one may have been taken over by a later run.
        if (holderOf(lockPath) === process.pid) unlinkSync(lockPath);
      };
    },
  };
}
