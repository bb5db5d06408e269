/**
 * A thousand users in the directions test/migration-1000.test.ts does not run at that size —
 * SFTP To Go → SFTPGo 2.x (passwords carried) and SFTPGo 1.x → SFTP To Go (passwords
 * generated) — in process: a 5xx and creates held past the timeout mid-run, then the run stopped;
 * the next run finishes it. Every source user is on the target exactly once, with its keys and
 * rules and the password the reports say; verify agrees; a further run creates nothing.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { SftpgoEmulator } from '../adapters/sftpgo/emulator/emulator.js';
import type { SftpgoV2Emulator } from '../adapters/sftpgo/emulator/v2.js';
import type { SftpToGoEmulator } from '../adapters/sftptogo/emulator/emulator.js';
import { createMemoryStore } from '../src/cache/store.js';
import { parseSshPublicKey } from '../src/domain/ssh-key.js';
import { markReported, runMigration } from '../src/migration/run.js';
import { cacheStoreState } from '../src/migration/state.js';
import { verifyMigration } from '../src/migration/verify.js';
import { createLogger } from '../src/observability/logger.js';
import type { CallContext } from '../src/provider-kit/adapter.js';
import { keyOf } from './fixtures/ssh-keys.js';
import { emulatorSides, rule, sidesOf, storedUsernames, type ServedSide } from './fixtures/migration-sides.js';

const ctx: CallContext = { requestId: 'migration-1000-directions', logger: createLogger({ level: 'silent' }) };
const ED25519 = keyOf('ed25519');
const USERS = 1000;

const { side, closeAll } = emulatorSides();
afterAll(closeAll);

/** Seeds the source; every tenth user gets a key and a rule (through the adapter, as a caller would). */
async function seed(from: ServedSide, to: ServedSide): Promise<void> {
  const emu = from.emu;
  if ('credentials' in emu) (emu as SftpToGoEmulator).seedCredentials(USERS, 'moving');
  else (emu as SftpgoEmulator).seedUsers(USERS, 'moving');
  const [source] = sidesOf(from, to);
  const { sshKeys, networkRules } = source.adapter.operations;
  const key = await parseSshPublicKey(ED25519.publicKey);
  const some = (await allUsers(from, to)).filter((_, i) => i % 10 === 0);
  for (const [i, u] of some.entries()) {
    await sshKeys!.addSshKey(u.id, key, ctx);
    await networkRules!.replaceNetworkRules(u.id, [rule(`10.${i % 250}.0.0/16`)], ctx);
  }
}

async function allUsers(from: ServedSide, to: ServedSide) {
  const [source] = sidesOf(from, to);
  const out = [];
  for (let offset = 0; ;) {
    const page = await source.adapter.listUsers({ limit: 500, offset, order: 'asc' }, ctx);
    out.push(...page.data);
    if (page.nextOffset === null) return out;
    offset = page.nextOffset;
  }
}

const duplicates = (names: string[]) => names.filter((n, i) => names.indexOf(n) !== i);

describe.each([
  { title: 'SFTP To Go → SFTPGo 2.x', from: 'sftptogo', to: 'sftpgo-2', password: 'carried' },
  { title: 'SFTPGo 1.x → SFTP To Go', from: 'sftpgo-1', to: 'sftptogo', password: 'generated' },
] as const)('$title, 1,000 users, in process', ({ from: fromKind, to: toKind, password }) => {
  it('a 5xx and held creates mid-run, stopped; the next run finishes: each user once, whole', async () => {
    const from = await side('old', fromKind);
    const to = await side('new', toKind, { timeoutMs: 400 });
    await seed(from, to);
    const sourceUsers = await allUsers(from, to);
    const state = cacheStoreState(createMemoryStore(50_000), 'test:', { from: 'old', to: 'new', identity: 'old>new' });
    const stop = new AbortController();
    const post = { method: 'POST', pathPrefix: '/user' };
    const first = await runMigration(...sidesOf(from, to), { backoffMs: 20, signal: stop.signal, acceptWidening: true }, {
      ctx, state,
      progress: (done) => {
        if (done === 150) to.emu.setFaults({ status: 502, match: post, times: 3 });
        if (done === 300) to.emu.setFaults({ delayMs: 1_000, match: post, times: 2 });
        if (done === 500) stop.abort();
      },
    });
    await markReported(first, state);
    expect(first.complete).toBe(false);
    expect(first.summary.outcomes.failed).toBe(0);
    expect(first.users.filter((u) => (u.attempts ?? 1) > 1).length).toBeGreaterThanOrEqual(2);
    expect(duplicates(storedUsernames(to.emu))).toEqual([]);

    to.emu.clearRequests();
    const second = await runMigration(...sidesOf(from, to), { backoffMs: 20, acceptWidening: true }, { ctx, state });
    await markReported(second, state);
    expect(second.complete).toBe(true);
    expect(second.summary.outcomes.created).toBe(first.summary.outcomes.pending);
    expect(second.summary.outcomes.created + second.summary.outcomes.exists).toBe(sourceUsers.length);

    // Exactly once each, nothing else (SFTP To Go's own root credential aside), whole.
    const onTarget = storedUsernames(to.emu);
    expect(duplicates(onTarget)).toEqual([]);
    const rootOfTarget = 'rootId' in to.emu ? (to.emu as SftpToGoEmulator).rootId : undefined;
    expect(onTarget.filter((n) => n !== rootOfTarget)).toEqual(sourceUsers.map((u) => u.username.toLowerCase()).sort());
    const created = [...first.users, ...second.users].filter((u) => u.outcome === 'created');
    expect(created).toHaveLength(sourceUsers.length);
    expect(created.every((u) => u.password === password)).toBe(true);
    if (password === 'generated') {
      const credentials = (to.emu as SftpToGoEmulator).credentials;
      for (const u of created) expect(credentials.get(u.targetId!)?.Password, u.username).toBe(u.generatedPassword);
    } else {
      const users = (to.emu as SftpgoV2Emulator).users;
      const sourcePasswords = new Map([...(from.emu as SftpToGoEmulator).credentials.values()].map((c) => [c.UserName, c.Password]));
      for (const u of created) expect(users.get(u.targetUsername)?.password, u.username).toBe(sourcePasswords.get(u.username));
    }
    const verified = await verifyMigration(...sidesOf(from, to), { acceptWidening: true }, ctx);
    expect(verified.summary).toEqual({ same: sourceUsers.length, differs: 0, missing: 0, conflict: 0 });

    to.emu.clearRequests();
    const third = await runMigration(...sidesOf(from, to), { acceptWidening: true }, { ctx, state });
    expect(third.summary.outcomes).toMatchObject({ created: 0, exists: sourceUsers.length });
    expect(to.emu.requests.filter((r) => r.method !== 'GET')).toEqual([]);
  }, 60_000);
});
