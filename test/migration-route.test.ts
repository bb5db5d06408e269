/**
 * `POST /v1/migrations` through the public HTTP API: a real gateway app in front of real
 * emulators on loopback, its run state in the machine's Redis. The refusals (key, scope, backends,
 * body), a dry run that only reads, runs in both directions between SFTP To Go and SFTPGo 1.x
 * (passwords carried one way, generated and shown once the other), a second run that writes
 * nothing, the target's cached list, the audit, one run at a time, and no password anywhere but
 * the answer: not in a log line, not in the store. Last, the Worker's refusal.
 */
import type { ExecutionContext } from '@cloudflare/workers-types';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { SftpgoEmulator } from '../adapters/sftpgo/emulator/emulator.js';
import type { SftpToGoEmulator } from '../adapters/sftptogo/emulator/emulator.js';
import type { CacheStore } from '../src/cache/store.js';
import type { MigrationPlan } from '../src/migration/plan-types.js';
import type { MigrationReport } from '../src/migration/report-types.js';
import { createRedisStore } from '../src/node/redis-store.js';
import { createLogger } from '../src/observability/logger.js';
import type { CallContext } from '../src/provider-kit/adapter.js';
import worker from '../src/worker/main.js';
import { keyOf } from './fixtures/ssh-keys.js';
import {
  configText, createEmulator, make, rule, serveSide, sidesOf, storedPasswords, storedUsernames, type EmulatorKind, type ServedSide,
} from './fixtures/migration-sides.js';
import { KEYS, createMemoryAuditSink, createTestGateway, type TestGateway } from './helpers/gateway.js';
import { SHARED_REDIS_URL, deleteKeys, dumpKeys, uniquePrefix } from './helpers/redis.js';

const ctx: CallContext = { requestId: 'seed', logger: createLogger({ level: 'silent' }) };
const prefix = uniquePrefix('migration-route');
const audit = createMemoryAuditSink();

let store: CacheStore;
let gw: TestGateway;
/** SFTP To Go → SFTPGo 1.x, and SFTPGo 1.x → SFTP To Go: a pair of backends each. */
let togo: ServedSide;
let onprem: ServedSide;
let legacy: ServedSide;
let togoNew: ServedSide;
/** Every generated password the gateway answered, for the checks that they went nowhere else. */
const shown: string[] = [];

async function side(name: string, kind: EmulatorKind): Promise<ServedSide> {
  // No retries of reads: an upstream failure is answered at once.
  return serveSide(name, createEmulator(kind), { retries: 0 });
}

beforeAll(async () => {
  [togo, onprem, legacy, togoNew] = await Promise.all([
    side('togo', 'sftptogo'), side('onprem', 'sftpgo-1'), side('legacy', 'sftpgo-1'), side('togo-new', 'sftptogo'),
  ]);
  store = createRedisStore({ url: SHARED_REDIS_URL, commandTimeoutMs: 2000 });
  gw = createTestGateway({
    backends: Object.fromEntries([togo, onprem, legacy, togoNew].map((s) => [s.name, s.config])),
    defaultBackend: 'onprem',
    cache: store,
    keyPrefix: prefix,
    audit,
  });
  const ED25519 = keyOf('ed25519');
  await make(sidesOf(togo, onprem)[0].adapter, [
    { username: 'acme_uploads', accessLevel: 'read-write', sshKeys: [ED25519.publicKey], networkRules: [rule('203.0.113.0/24')] },
    { username: 'acme_reports', accessLevel: 'read-only' },
  ], ctx);
  await make(sidesOf(legacy, togoNew)[0].adapter, [
    { username: 'old_reader', accessLevel: 'read-only', sshKeys: [keyOf('rsa').publicKey], password: 'Old-reader-pass-1' },
    { username: 'old_writer', accessLevel: 'read-write', password: 'Old-writer-pass-1' },
  ], ctx);
});

afterAll(async () => {
  await deleteKeys(SHARED_REDIS_URL, prefix);
  await store?.close();
  await Promise.all([togo, onprem, legacy, togoNew].map((s) => s?.close()));
});

beforeEach(() => {
  audit.events.length = 0;
  for (const s of [togo, onprem, legacy, togoNew]) s.emu.clearRequests();
});

const migrate = (body: unknown, key?: string | null) => gw.json('POST', '/v1/migrations', { body, ...(key !== undefined ? { key } : {}) });
const methodsSeen = (s: ServedSide) => new Set(s.emu.requests.map((r) => r.method));
const outcomes = (report: MigrationReport) => report.users.map((u) => [u.username, u.outcome]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The target's list, read until it is answered from the cache (it is stored just after the first answer). */
async function cachedList(backend: string): Promise<string[]> {
  for (let i = 0; i < 50; i++) {
    const res = await gw.json('GET', `/v1/backends/${backend}/users?limit=500`);
    expect(res.status).toBe(200);
    if (res.headers.get('x-cache') === 'HIT') return res.body.data.map((u: { username: string }) => u.username).sort();
    await sleep(10);
  }
  throw new Error(`the list of ${backend} was never cached`);
}

describe('refusals, before any upstream call', () => {
  it('401 without a key, 403 without admin or without both backends, 404 for an unknown backend', async () => {
    const none = await migrate({ from: 'togo', to: 'onprem' }, null);
    expect([none.status, none.body.code]).toEqual([401, 'unauthorized']);
    const writer = await migrate({ from: 'togo', to: 'onprem' }, KEYS.writer);
    expect([writer.status, writer.body.detail]).toEqual([403, 'The API key "writer" lacks the "admin" scope']);
    // The onprem-only key has admin, but may not reach the other side (either way round).
    for (const body of [{ from: 'togo', to: 'onprem' }, { from: 'onprem', to: 'togo' }]) {
      const limited = await migrate(body, KEYS.onpremOnly);
      expect([limited.status, limited.body.detail]).toEqual([403, 'The API key "onprem-only" may not reach backend "togo"']);
    }
    const unknown = await migrate({ from: 'togo', to: 'nowhere' });
    expect([unknown.status, unknown.body.code]).toEqual([404, 'not_found']);
    expect(unknown.body.detail).toBe('No backend named "nowhere": this key may use "togo", "onprem", "legacy", "togo-new"');
    expect(unknown.body.details).toEqual({ backends: ['togo', 'onprem', 'legacy', 'togo-new'] });
    for (const res of [none, writer, unknown]) {
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(res.headers.get('cache-control')).toBe('no-store');
    }
    for (const s of [togo, onprem]) expect(s.emu.requests).toEqual([]);
  });

  it('400: the same backend twice (naming `to`), an unknown field, a repeated or empty username, a concurrency over 16', async () => {
    const same = await migrate({ from: 'togo', to: 'togo' });
    expect([same.status, same.body.errors]).toEqual([400, [{ path: 'to', message: 'must name another backend than `from`' }]]);
    const extra = await migrate({ from: 'togo', to: 'onprem', overwrite: true });
    expect([extra.status, extra.body.errors]).toEqual([400, [{ path: 'overwrite', message: 'unknown field' }]]);
    const repeated = await migrate({ from: 'togo', to: 'onprem', usernames: ['a', 'b', 'a'] });
    expect([repeated.status, repeated.body.errors]).toEqual([400, [{ path: 'usernames.2', message: 'repeats "a"' }]]);
    expect((await migrate({ from: 'togo', to: 'onprem', usernames: [] })).status).toBe(400);
    expect((await migrate({ from: 'togo', to: 'onprem', usernames: [''] })).status).toBe(400);
    expect((await migrate({ from: 'togo', to: 'onprem', concurrency: 17 })).status).toBe(400);
    expect((await migrate({ from: 'togo' })).body.errors).toEqual([{ path: 'to', message: 'is required' }]);
    for (const s of [togo, onprem]) expect(s.emu.requests).toEqual([]);
  });

  it('an upstream failing while planning is a 502 problem, and the next request works', async () => {
    togo.emu.setFaults({ status: 500, times: 1 });
    const failed = await migrate({ from: 'togo', to: 'onprem' });
    expect([failed.status, failed.body.code]).toEqual([502, 'upstream_error']);
    expect(failed.headers.get('content-type')).toBe('application/problem+json');
    expect((await migrate({ from: 'togo', to: 'onprem' })).status).toBe(200);
  });
});

describe('SFTP To Go → SFTPGo 1.x: passwords carried', () => {
  it('a dry run by default: the plan, and the upstreams see only reads', async () => {
    const { status, body, headers } = await migrate({ from: 'togo', to: 'onprem' });
    expect(status).toBe(200);
    expect(headers.get('cache-control')).toBe('no-store');
    const plan = body as MigrationPlan;
    expect(plan.from).toMatchObject({ backend: 'togo', provider: 'sftptogo' });
    expect(plan.to).toMatchObject({ backend: 'onprem', provider: 'sftpgo', apiVersion: 'v1' });
    expect(plan.users.map((u) => [u.username, u.action, u.password])).toEqual([
      [(togo.emu as SftpToGoEmulator).rootId, 'create', 'carried'], ['acme_reports', 'create', 'carried'], ['acme_uploads', 'create', 'carried'],
    ].sort((a, b) => (a[0]! < b[0]! ? -1 : 1)));
    expect(plan.summary.actions).toEqual({ create: 3, exists: 0, conflict: 0 });
    expect(methodsSeen(togo)).toEqual(new Set(['GET']));
    expect(methodsSeen(onprem)).toEqual(new Set(['GET']));
    expect(storedUsernames(onprem.emu)).toEqual([]);
    expect(audit.events).toEqual([]);
  });

  it('dryRun:false creates them, the cached target list shows them at once, one audit event each; a second run writes nothing', async () => {
    expect(await cachedList('onprem')).toEqual([]);
    const { status, body, headers } = await migrate({ from: 'togo', to: 'onprem', dryRun: false });
    expect(status).toBe(200);
    expect(headers.get('cache-control')).toBe('no-store');
    const report = body as MigrationReport;
    const names = report.users.map((u) => u.username);
    expect(report.users.every((u) => u.outcome === 'created' && u.password === 'carried' && u.generatedPassword === undefined)).toBe(true);
    expect(report).toMatchObject({ complete: true, summary: { generatedPasswords: 0, outcomes: { created: 3 } } });
    // The target holds the source's passwords, which the answer does not show.
    const target = onprem.emu as SftpgoEmulator;
    const source = togo.emu as SftpToGoEmulator;
    for (const c of source.credentials.values()) {
      expect([...target.users.values()].find((u) => u.username === c.UserName)?.password).toBe(c.Password);
      expect(JSON.stringify(report)).not.toContain(c.Password);
    }
    expect(methodsSeen(togo)).toEqual(new Set(['GET']));

    // The list cached before the run is stale now: the next read shows the new users.
    const list = await gw.json('GET', '/v1/backends/onprem/users?limit=500');
    expect(list.body.data.map((u: { username: string }) => u.username).sort()).toEqual([...names].sort());
    expect(list.headers.get('x-cache')).toBe('MISS');

    const idOf = (name: string) => String([...target.users.values()].find((u) => u.username === name)!.id);
    expect(audit.events.map((e) => [e.action, e.apiKey, e.backend, e.username, e.userId, e.status]).sort()).toEqual(
      names.map((n) => ['user.migrate', 'ops', 'onprem', n, idOf(n), 201]).sort(),
    );

    onprem.emu.clearRequests();
    audit.events.length = 0;
    const again = await migrate({ from: 'togo', to: 'onprem', dryRun: false });
    expect(again.status).toBe(200);
    expect(outcomes(again.body)).toEqual(names.map((n) => [n, 'exists']));
    expect(methodsSeen(onprem)).toEqual(new Set(['GET']));
    expect(audit.events).toEqual([]);
  });

  it('two runs at once: one answers, the other is a 409; the pair is free again afterwards', async () => {
    // The first run's reads of the target are slow: the second arrives while it holds the pair.
    onprem.emu.setFaults({ delayMs: 300, match: { method: 'GET' }, times: 2 });
    const [a, b] = await Promise.all([
      migrate({ from: 'togo', to: 'onprem', dryRun: false }), migrate({ from: 'togo', to: 'onprem', dryRun: false }),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    const refused = a.status === 409 ? a : b;
    expect(refused.body).toMatchObject({ code: 'conflict', detail: 'a migration from "togo" to "onprem" is running: wait for it to finish, then run again' });
    expect(refused.headers.get('content-type')).toBe('application/problem+json');
    expect((await migrate({ from: 'togo', to: 'onprem', dryRun: false })).status).toBe(200);
    // A dry run takes no lock: it never waits for, nor blocks, a run.
    onprem.emu.setFaults({ delayMs: 300, match: { method: 'GET' }, times: 2 });
    const [run, plan] = await Promise.all([migrate({ from: 'togo', to: 'onprem', dryRun: false }), migrate({ from: 'togo', to: 'onprem' })]);
    expect([run.status, plan.status]).toEqual([200, 200]);
  });
});

describe('without a shared cache store', () => {
  it('a gateway with the `none` cache keeps the state in its own memory: one run at a time still', async () => {
    const local = createTestGateway({ backends: { togo: togo.config, onprem: onprem.config }, defaultBackend: 'onprem', cache: 'none' });
    const run = () => local.json('POST', '/v1/migrations', { body: { from: 'togo', to: 'onprem', dryRun: false } });
    onprem.emu.setFaults({ delayMs: 200, match: { method: 'GET' }, times: 2 });
    const answers = await Promise.all([run(), run()]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 409]);
    expect(outcomes(answers.find((a) => a.status === 200)!.body).every(([, outcome]) => outcome === 'exists')).toBe(true);
  });
});

describe('SFTPGo 1.x → SFTP To Go: generated passwords, shown once', () => {
  it('answers each generated password once, the one the target holds; a second run shows none and writes nothing', async () => {
    const { status, body } = await migrate({ from: 'legacy', to: 'togo-new', dryRun: false, usernames: ['old_reader', 'old_writer', 'nobody'] });
    expect(status).toBe(200);
    const report = body as MigrationReport;
    expect(report.unknownUsernames).toEqual(['nobody']);
    const target = togoNew.emu as SftpToGoEmulator;
    for (const u of report.users) {
      expect(u).toMatchObject({ outcome: 'created', password: 'generated', generatedPassword: expect.any(String) });
      const stored = [...target.credentials.values()].find((c) => c.UserName === u.username)!;
      expect(u.generatedPassword).toBe(stored.Password);
      expect(u.targetId).toBe(stored.Id);
      shown.push(u.generatedPassword!);
    }
    expect(report.summary.generatedPasswords).toBe(2);
    expect(audit.events.map((e) => [e.action, e.backend, e.apiKey, e.username]).sort()).toEqual([
      ['user.migrate', 'togo-new', 'ops', 'old_reader'], ['user.migrate', 'togo-new', 'ops', 'old_writer'],
    ]);
    expect(methodsSeen(legacy)).toEqual(new Set(['GET']));

    togoNew.emu.clearRequests();
    const again = await migrate({ from: 'legacy', to: 'togo-new', dryRun: false });
    expect(outcomes(again.body)).toEqual([['old_reader', 'exists'], ['old_writer', 'exists']]);
    expect(again.body.users.filter((u: object) => 'generatedPassword' in u)).toEqual([]);
    for (const p of shown) expect(JSON.stringify(again.body)).not.toContain(p);
    expect(methodsSeen(togoNew)).toEqual(new Set(['GET']));
  });
});

describe('no password outside the answer', () => {
  it('none in a log line, none in the Redis store, where the runs kept their records', async () => {
    const passwords = [...shown, ...[togo, onprem, legacy, togoNew].flatMap((s) => storedPasswords(s.emu))];
    expect(shown.length).toBe(2);
    const logs = gw.logs.join('\n');
    expect(logs).toContain('migration run');
    const stored = await dumpKeys(SHARED_REDIS_URL, prefix);
    const records = [...stored.keys()].filter((k) => k.startsWith(`${prefix}migration:`));
    // A record per user of each pair, and no lock left behind.
    expect(records.filter((k) => k.includes(':user:'))).toHaveLength(5);
    expect(records.filter((k) => k.endsWith(':lock'))).toEqual([]);
    const everything = [...stored].flat().join('\n');
    for (const p of passwords) {
      expect(logs).not.toContain(p);
      expect(everything).not.toContain(p);
    }
  });
});

describe('on Cloudflare Workers', () => {
  it('answers a 501 saying why, dry runs included, after the key check', async () => {
    const env = { GATEWAY_CONFIG: configText({ togo: togo.config, onprem: onprem.config }, { logLevel: 'error' }) };
    const waitUntil = { waitUntil: () => {}, passThroughOnException: () => {} } as unknown as ExecutionContext;
    const post = async (authorization?: string) => {
      const request = new Request('http://gateway.test/v1/migrations', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
        body: JSON.stringify({ from: 'togo', to: 'onprem' }),
      });
      return (await worker.fetch(request as never, env, waitUntil)) as unknown as Response;
    };
    expect((await post()).status).toBe(401);
    const refused = await post('Bearer ops-key-0123456789abcdef');
    expect(refused.status).toBe(501);
    expect(refused.headers.get('cache-control')).toBe('no-store');
    expect(await refused.json()).toMatchObject({ code: 'not_supported_by_provider', detail: expect.stringContaining('Cloudflare Workers') });
    expect(togo.emu.requests).toEqual([]);
  });
});
