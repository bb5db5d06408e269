/**
 * The audit trail (CONTRACT §7 `audit`) through the HTTP API, in front of both emulators: one
 * event per authenticated write, whatever its answer, none for a 401, a GET or an Idempotency-Key
 * replay, and never a secret. Then each sink: stdout lines sharing the logger's buffered stream,
 * the file, and the HTTP receiver (signature, retries, limits, a receiver that never answers).
 */
import type { ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSftpgoEmulator, serveSftpgoEmulator, type SftpgoEmulator } from '../adapters/sftpgo/emulator/emulator.js';
import { createSftpToGoEmulator, type SftpToGoEmulator } from '../adapters/sftptogo/emulator/emulator.js';
import { AUDIT_ACTIONS, type AuditEvent } from '../src/security/audit.js';
import { HTTP_AUDIT_DEFAULTS, auditRetryDelayMs, auditSignature, createHttpAuditSink, type HttpAuditSinkOptions } from '../src/security/audit-http.js';
import { createFileAuditSink, createNodeAuditSink, createStdoutAuditSink } from '../src/node/audit.js';
import { createApp } from '../src/http/app.js';
import { createMemoryStore } from '../src/cache/store.js';
import { parseConfig } from '../src/providers.js';
import { ListCache } from '../src/cache/list-cache.js';
import { createLogger } from '../src/observability/logger.js';
import { bufferedDestination, createNodeLoggers } from '../src/node/logger.js';
import { createAdapters } from '../src/providers.js';
import worker from '../src/worker/main.js';
import { keyOf } from './fixtures/ssh-keys.js';
import { API_KEYS, KEYS, createMemoryAuditSink, bothProviders, type GatewayOptions, type TestGateway } from './helpers/gateway.js';
import { spawnNodeEntry } from './helpers/node-entry.js';

const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const EVENT_KEYS = ['kind', 'time', 'requestId', 'apiKey', 'backend', 'action', 'userId', 'username', 'fields', 'status'];
const PASSWORD = 'correct-horse-battery-staple-42';
const OTHER_PASSWORD = 'another-long-passphrase-of-mine';

let emu: SftpgoEmulator;
let togo: SftpToGoEmulator;
let sink: ReturnType<typeof createMemoryAuditSink>;
let gw: TestGateway;
let read = 0;
/** Every secret a test used or was given: none may appear in any event. */
let secrets: string[];

function gateway(extra: Partial<GatewayOptions> = {}): TestGateway {
  return bothProviders(emu, togo, { audit: sink, ...extra });
}

beforeEach(() => {
  emu = createSftpgoEmulator({ scanDurationMs: 200 });
  togo = createSftpToGoEmulator();
  sink = createMemoryAuditSink();
  read = 0;
  secrets = [PASSWORD, OTHER_PASSWORD, togo.apiKey, ...Object.values(KEYS)];
  gw = gateway();
});

afterEach(() => {
  const text = JSON.stringify(sink.events);
  for (const secret of secrets) expect(text).not.toContain(secret);
});

/** The events emitted since the last call. */
function fresh(): AuditEvent[] {
  const events = sink.events.slice(read);
  read = sink.events.length;
  return events;
}

/** Exactly one new event, for this answer, with these fields (the rest as for the ops key on onprem). */
function oneEvent(res: Response, expected: Partial<AuditEvent>): AuditEvent {
  const events = fresh();
  expect(events).toHaveLength(1);
  const event = events[0]!;
  expect(Object.keys(event)).toEqual(EVENT_KEYS);
  expect(event).toEqual({
    kind: 'audit', time: expect.stringMatching(ISO_MS), requestId: res.headers.get('x-request-id'), apiKey: 'ops',
    backend: 'onprem', userId: null, username: null, fields: [], status: res.status, ...expected,
  });
  expect(Math.abs(Date.parse(event.time) - Date.now())).toBeLessThan(60_000);
  return event;
}

async function createUser(username: string, base = '/v1/backends/onprem'): Promise<string> {
  const res = await gw.json('POST', `${base}/users`, { body: { username, accessLevel: 'read-write' } });
  expect(res.status).toBe(201);
  if (res.body.password) secrets.push(res.body.password);
  fresh();
  return res.body.id;
}

describe('one event per write route', () => {
  it('user.create, in both route forms: the new id, the requested username, field names, never the password', async () => {
    for (const [path, backend] of [['/v1/users', 'onprem'], ['/v1/backends/onprem/users', 'onprem'], ['/v1/backends/togo/users', 'togo']] as const) {
      const username = `audit_${backend}_${path.length}`;
      const res = await gw.call('POST', path, {
        // SFTP To Go generates every password (a caller's is a 422).
        body: { username, accessLevel: 'read-write', ...(backend === 'togo' ? {} : { password: PASSWORD, homeDirectory: `/srv/${username}` }) },
        headers: { 'x-request-id': `trace-${path.length}` },
      });
      const body = await res.json();
      if (res.status !== 201) expect.fail(JSON.stringify(body));
      expect(res.headers.get('x-request-id')).toBe(`trace-${path.length}`);
      oneEvent(res, {
        backend, action: 'user.create', userId: body.id, username,
        fields: backend === 'togo' ? ['accessLevel', 'username'] : ['accessLevel', 'homeDirectory', 'password', 'username'],
      });
      if (body.password && backend === 'togo') secrets.push(body.password);
    }
  });

  it('a create with a generated password: the event never holds it', async () => {
    const res = await gw.json('POST', '/v1/backends/togo/users', { body: { username: 'audit_generated', accessLevel: 'read-only' } });
    expect(res.status).toBe(201);
    secrets.push(res.body.password);
    expect(fresh()[0]).toMatchObject({ action: 'user.create', userId: res.body.id, username: 'audit_generated', fields: ['accessLevel', 'username'] });
  });

  it('user.update: the username from the answer, the fields (a password among them, never its value)', async () => {
    const id = await createUser('audit_patch');
    for (const path of [`/v1/users/${id}`, `/v1/backends/onprem/users/${id}`]) {
      const res = await gw.call('PATCH', path, { body: { status: 'disabled', password: PASSWORD, limits: { maxSessions: 2 } } });
      expect(res.status).toBe(200);
      oneEvent(res, { action: 'user.update', userId: id, username: 'audit_patch', fields: ['limits', 'password', 'status'] });
    }
    // A rename: the answer's (new) name.
    const renamed = await gw.call('PATCH', `/v1/backends/togo/users/${await createUser('audit_old_name', '/v1/backends/togo')}`, {
      body: { username: 'audit_new_name' },
    });
    expect(renamed.status).toBe(200);
    expect(fresh()[0]).toMatchObject({ backend: 'togo', action: 'user.update', username: 'audit_new_name', fields: ['username'], status: 200 });
  });

  it('password.rotate and password.set: the user id, never a password', async () => {
    const id = await createUser('audit_pw');
    const rotated = await gw.json('POST', `/v1/users/${id}/password-rotations`);
    expect(rotated.status).toBe(200);
    secrets.push(rotated.body.password);
    expect(fresh()).toEqual([expect.objectContaining({ action: 'password.rotate', userId: id, username: null, fields: [], status: 200 })]);
    const set = await gw.call('PUT', `/v1/backends/onprem/users/${id}/password`, { body: { password: OTHER_PASSWORD } });
    expect(set.status).toBe(204);
    oneEvent(set, { action: 'password.set', userId: id, fields: ['password'] });
  });

  it('sshKey.add and sshKey.delete; networkRules.replace', async () => {
    const id = await createUser('audit_keys');
    const key = keyOf('ed25519');
    const added = await gw.json('POST', `/v1/users/${id}/ssh-keys`, { body: { publicKey: key.publicKey } });
    expect(added.status).toBe(201);
    expect(fresh()).toEqual([expect.objectContaining({ action: 'sshKey.add', userId: id, fields: ['publicKey'], status: 201 })]);
    expect(JSON.stringify(sink.events)).not.toContain(key.publicKey.split(' ')[1]!); // no key value
    const deleted = await gw.call('DELETE', `/v1/backends/onprem/users/${id}/ssh-keys/${added.body.id}`);
    expect(deleted.status).toBe(204);
    oneEvent(deleted, { action: 'sshKey.delete', userId: id });
    const rules = await gw.call('PUT', `/v1/users/${id}/network-rules`, { body: { data: [{ cidr: '203.0.113.0/24' }] } });
    expect(rules.status).toBe(200);
    oneEvent(rules, { action: 'networkRules.replace', userId: id, fields: ['data'] });
  });

  it('quotaScan.start (and its 409 while one runs), connection.close, user.delete', async () => {
    const id = await createUser('audit_admin');
    const scan = await gw.call('POST', `/v1/backends/onprem/users/${id}/quota-scans`);
    expect(scan.status).toBe(202);
    oneEvent(scan, { action: 'quotaScan.start', userId: id });
    const again = await gw.call('POST', `/v1/users/${id}/quota-scans`);
    expect(again.status).toBe(409);
    oneEvent(again, { action: 'quotaScan.start', userId: id });
    const connectionId = String(emu.connections[0]!.connection_id);
    const closed = await gw.call('DELETE', `/v1/connections/${connectionId}`);
    expect(closed.status).toBe(204);
    oneEvent(closed, { action: 'connection.close' }); // a connection is no user: userId null
    const deleted = await gw.call('DELETE', `/v1/users/${id}`);
    expect(deleted.status).toBe(204);
    oneEvent(deleted, { action: 'user.delete', userId: id });
  });

  it('every write route of the API has an action (and only those)', () => {
    const writes = gw.app.openAPIRegistry.definitions
      .flatMap((d) => (d.type === 'route' ? [d.route] : []))
      .filter((r) => r.method !== 'get' && r.path.startsWith('/v1/backends/{backend}'))
      .map((r) => r.operationId);
    expect(new Set(writes)).toEqual(new Set(Object.keys(AUDIT_ACTIONS)));
  });
});

describe('refused and failed writes are audited; 401s, GETs and replays are not', () => {
  it('403: a read-only key, and a key limited to another backend (its fields read, no values)', async () => {
    const res = await gw.call('POST', '/v1/users', { key: KEYS.reader, body: { username: 'audit_nope', password: PASSWORD } });
    expect(res.status).toBe(403);
    oneEvent(res, { apiKey: 'reader', action: 'user.create', username: 'audit_nope', fields: ['password', 'username'] });
    const other = await gw.call('PATCH', '/v1/backends/togo/users/abc123', { key: KEYS.onpremOnly, body: { status: 'disabled' } });
    expect(other.status).toBe(403);
    oneEvent(other, { apiKey: 'onprem-only', backend: 'togo', action: 'user.update', userId: 'abc123', fields: ['status'] });
    expect(emu.requests.filter((r) => r.method !== 'GET')).toEqual([]);
  });

  it('404: an unknown backend (backend null) and an unknown user', async () => {
    const res = await gw.call('DELETE', '/v1/backends/nowhere/users/7');
    expect(res.status).toBe(404);
    oneEvent(res, { backend: null, action: 'user.delete', userId: '7' });
    const created = await gw.call('POST', '/v1/backends/nowhere/users', { body: { username: 'audit_ghost', password: PASSWORD } });
    expect(created.status).toBe(404);
    oneEvent(created, { backend: null, action: 'user.create', username: 'audit_ghost', fields: ['password', 'username'] });
    const missing = await gw.call('PATCH', '/v1/users/424242', { body: { status: 'active' } });
    expect(missing.status).toBe(404);
    oneEvent(missing, { action: 'user.update', userId: '424242', fields: ['status'] }); // no username: the patch failed
  });

  it('501: a capability the provider lacks (PUT /password on SFTP To Go)', async () => {
    const res = await gw.call('PUT', '/v1/backends/togo/users/0123456789abcdef0123456789abcd/password', { body: { password: PASSWORD } });
    expect(res.status).toBe(501);
    oneEvent(res, { backend: 'togo', action: 'password.set', userId: '0123456789abcdef0123456789abcd', fields: ['password'] });
  });

  it('400/413/415: the body fields when it is a JSON object, [] otherwise; never a value', async () => {
    const bad = await gw.call('POST', '/v1/users', { body: { username: 'audit_bad', password: PASSWORD, colour: 'mauve-secretish' } });
    expect(bad.status).toBe(400);
    oneEvent(bad, { action: 'user.create', username: 'audit_bad', fields: ['colour', 'password', 'username'] });
    secrets.push('mauve-secretish');
    const malformed = await gw.call('POST', '/v1/users', { rawBody: '{"username": "audit_x", "password": ' });
    expect(malformed.status).toBe(400);
    oneEvent(malformed, { action: 'user.create' });
    const array = await gw.call('PUT', '/v1/users/1/password', { body: [PASSWORD] });
    expect(array.status).toBe(400);
    oneEvent(array, { action: 'password.set', userId: '1' });
    const text = await gw.call('POST', '/v1/users', { rawBody: 'username=x', headers: { 'content-type': 'text/plain' } });
    expect(text.status).toBe(415);
    oneEvent(text, { action: 'user.create' });
    const huge = await gw.call('POST', '/v1/users', { body: { username: 'audit_huge', padding: 'x'.repeat(1024 * 1024) } });
    expect(huge.status).toBe(413);
    oneEvent(huge, { action: 'user.create' });
    const badId = await gw.call('DELETE', '/v1/users/bad%2Fid');
    expect(badId.status).toBe(400);
    oneEvent(badId, { action: 'user.delete', userId: 'bad/id' });
  });

  it('409: a taken username', async () => {
    await createUser('audit_twice');
    const res = await gw.call('POST', '/v1/users', { body: { username: 'audit_twice', accessLevel: 'full' } });
    expect(res.status).toBe(409);
    oneEvent(res, { action: 'user.create', username: 'audit_twice', fields: ['accessLevel', 'username'] });
  });

  it('502 and 503 from upstream faults', async () => {
    const id = await createUser('audit_faults');
    emu.setFaults({ status: 500, match: { method: 'PUT' } });
    const failed = await gw.call('PATCH', `/v1/users/${id}`, { body: { status: 'disabled' } });
    expect(failed.status).toBe(502);
    oneEvent(failed, { action: 'user.update', userId: id, fields: ['status'] });
    togo.setFaults({ reset: true });
    const down = await gw.call('POST', '/v1/backends/togo/users', { body: { username: 'audit_down', accessLevel: 'full' } });
    expect(down.status).toBe(503);
    oneEvent(down, { backend: 'togo', action: 'user.create', username: 'audit_down', fields: ['accessLevel', 'username'] });
  });

  it('401 (no key, an unknown key) is not audited, nor is any GET', async () => {
    const id = await createUser('audit_quiet');
    expect((await gw.call('POST', '/v1/users', { key: null, body: { username: 'audit_anon' } })).status).toBe(401);
    expect((await gw.call('DELETE', `/v1/users/${id}`, { key: 'not-a-key-0123456789abcdef' })).status).toBe(401);
    for (const path of ['/v1/users', `/v1/users/${id}`, `/v1/users/${id}/ssh-keys`, '/v1/backends', '/v1/backends/onprem', '/v1/connections']) {
      expect((await gw.call('GET', path)).status).toBe(200);
    }
    expect(fresh()).toEqual([]);
  });

  it('an Idempotency-Key replay emits no event; the first request emitted its own', async () => {
    const headers = { 'Idempotency-Key': 'audit-replay-1' };
    const first = await gw.json('POST', '/v1/backends/togo/users', { body: { username: 'audit_once', accessLevel: 'full' }, headers });
    expect(first.status).toBe(201);
    secrets.push(first.body.password);
    expect(fresh()).toHaveLength(1);
    const again = await gw.call('POST', '/v1/backends/togo/users', { body: { username: 'audit_once', accessLevel: 'full' }, headers });
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    const rotation = { 'Idempotency-Key': 'audit-replay-2' };
    const rotatedId = await createUser('audit_rot');
    const rotated = await gw.json('POST', `/v1/users/${rotatedId}/password-rotations`, { headers: rotation });
    secrets.push(rotated.body.password);
    expect(fresh()).toHaveLength(1);
    const replayed = await gw.call('POST', `/v1/users/${rotatedId}/password-rotations`, { headers: rotation });
    expect(replayed.headers.get('idempotent-replayed')).toBe('true');
    expect(fresh()).toEqual([]);
    // The same key with another request is no replay: a 422, audited.
    const reused = await gw.call('POST', '/v1/backends/togo/users', { body: { username: 'audit_other', accessLevel: 'full' }, headers });
    expect(reused.status).toBe(422);
    oneEvent(reused, { backend: 'togo', action: 'user.create', username: 'audit_other', fields: ['accessLevel', 'username'] });
  });

  it('an answer is never held up or failed by a sink that throws', async () => {
    const throwing = { emit: () => { throw new Error('sink broke'); }, close: async () => true };
    const local = gateway({ audit: throwing });
    const res = await local.call('POST', '/v1/users', { body: { username: 'audit_throw', accessLevel: 'full' } });
    expect(res.status).toBe(201);
    expect(local.logs.some((l) => l.includes('audit: the event could not be recorded'))).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------
// The sinks

describe('stdout sink', () => {
  it("writes whole lines into the logger's own buffered stream: never split by, or inside, a log line", async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'audit-stdout-')), 'out.log');
    const destination = bufferedDestination(file);
    const { logger, requestLogger } = createNodeLoggers({ level: 'debug', destination });
    const config = parseConfig(JSON.stringify({
      auth: { apiKeys: API_KEYS.filter((k) => !k.backends) },
      backends: { onprem: { provider: 'sftpgo', baseUrl: 'http://sftpgo.test' } },
      logLevel: 'debug',
    }), {});
    const { app } = createApp({
      config, adapters: createAdapters(config.backends, () => emu.fetch as typeof fetch), logger, requestLogger,
      cache: new ListCache(createMemoryStore(100), { ttlSeconds: 30, keyPrefix: 't:', logger }),
      audit: createStdoutAuditSink(logger),
    });
    const call = (method: string, path: string, body?: unknown) => app.request(path, {
      method, headers: { authorization: `Bearer ${KEYS.ops}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
    });
    // Interleaved on purpose: writes and reads at once, each writing its request line (and debug lines).
    const answers = await Promise.all(Array.from({ length: 60 }, (_, i) =>
      i % 3 === 0 ? call('GET', '/v1/users') : call('POST', '/v1/users', { username: `audit_line_${i}`, password: PASSWORD, accessLevel: 'read-only' })));
    const writes = answers.filter((_, i) => i % 3 !== 0);
    await new Promise<void>((resolve) => {
      const stream = destination as unknown as { once(event: 'close', cb: () => void): void; end(): void };
      stream.once('close', resolve);
      stream.end();
    });
    const lines = readFileSync(file, 'utf8').split('\n');
    expect(lines.pop()).toBe(''); // ends with a newline
    const parsed = lines.map((line) => JSON.parse(line) as Record<string, unknown>); // every line is whole JSON
    const audits = parsed.filter((l) => l.kind === 'audit');
    expect(audits).toHaveLength(writes.length);
    expect(new Set(audits.map((a) => a.requestId))).toEqual(new Set(writes.map((r) => r.headers.get('x-request-id'))));
    for (const line of lines.filter((l) => l.includes('"kind":"audit"'))) expect(line.startsWith('{"kind":"audit",')).toBe(true);
    expect(parsed.filter((l) => l.msg === 'request')).toHaveLength(60);
    expect(readFileSync(file, 'utf8')).not.toContain(PASSWORD);
  });

  it('writes to the stream of the logger it is given, child loggers included', () => {
    const lines: string[] = [];
    const { logger } = createNodeLoggers({ destination: { write: (line: string) => void lines.push(line) } });
    const sink = createStdoutAuditSink(logger.child({ requestId: 'x' }));
    sink.emit(sampleEvent());
    expect(lines).toEqual([`${JSON.stringify(sampleEvent())}\n`]);
  });

  it('is what createNodeAuditSink makes without an audit config', () => {
    const lines: string[] = [];
    const { logger } = createNodeLoggers({ destination: { write: (line: string) => void lines.push(line) } });
    createNodeAuditSink(undefined, logger).emit(sampleEvent());
    createNodeAuditSink({ sink: 'stdout' }, logger).emit(sampleEvent());
    expect(lines).toHaveLength(2);
  });
});

function sampleEvent(over: Partial<AuditEvent> = {}): AuditEvent {
  return {
    kind: 'audit', time: '2026-01-02T03:04:05.678Z', requestId: 'req-1', apiKey: 'ops', backend: 'onprem', action: 'user.create',
    userId: '42', username: 'acme_uploads', fields: ['accessLevel', 'username'], status: 201, ...over,
  };
}

describe('file sink', () => {
  it('appends one JSON line per event to the file, after what it held', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'audit-file-')), 'audit.jsonl');
    writeFileSync(path, '{"kept":true}\n');
    const file = createNodeAuditSink({ sink: 'file', path }, createLogger({ destination: { write: () => {} } }));
    const local = gateway({ audit: file });
    const created = await local.json('POST', '/v1/users', { body: { username: 'audit_file', password: PASSWORD, accessLevel: 'full' } });
    await local.call('PATCH', `/v1/users/${created.body.id}`, { body: { status: 'disabled' } });
    await local.call('DELETE', `/v1/users/${created.body.id}`);
    expect(await file.close(2000)).toBe(true);
    const lines = readFileSync(path, 'utf8').split('\n');
    expect(lines.pop()).toBe('');
    expect(lines[0]).toBe('{"kept":true}');
    expect(lines.slice(1).map((l) => JSON.parse(l).action)).toEqual(['user.create', 'user.update', 'user.delete']);
    expect(readFileSync(path, 'utf8')).not.toContain(PASSWORD);
  });

  it('a file it cannot write: logged once, never thrown, and it writes again once it can', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'audit-file-'));
    const logs: string[] = [];
    const logger = createLogger({ destination: { write: (l) => void logs.push(l) } });
    const file = createFileAuditSink(join(dir, 'missing', 'audit.jsonl'), logger);
    for (let i = 0; i < 5; i++) file.emit(sampleEvent({ requestId: `r${i}` }));
    expect(await file.close(2000)).toBe(false);
    const errors = logs.map((l) => JSON.parse(l)).filter((l) => l.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ msg: expect.stringMatching(/cannot append to the audit file/), err: 'ENOENT' });
  });
});

// ---------------------------------------------------------------------------------------------
// The HTTP sink, against a receiver on loopback

interface Received {
  body: string;
  headers: IncomingMessage['headers'];
  at: number;
}

interface Receiver {
  url: string;
  received: Received[];
  /** Requests answered on the next tick with this status (then 200 once the list runs out). */
  statuses: number[];
  /** Requests held without an answer while true. */
  hold: boolean;
  held: ServerResponse[];
  close(): Promise<void>;
}

const receivers: Server[] = [];
afterEach(async () => {
  for (const server of receivers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function receiver(): Promise<Receiver> {
  const state: Receiver = { url: '', received: [], statuses: [], hold: false, held: [], close: async () => {} };
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      state.received.push({ body, headers: req.headers, at: Date.now() });
      if (state.hold) return void state.held.push(res);
      res.writeHead(state.statuses.shift() ?? 200).end();
    });
  });
  receivers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as { port: number }).port}/audit`;
  return state;
}

const SECRET = 'audit-hmac-secret-0123456789';

function httpSink(url: string, logs: string[], over: Partial<HttpAuditSinkOptions> = {}) {
  return createHttpAuditSink({
    url, secret: SECRET, logger: createLogger({ destination: { write: (l) => void logs.push(l) } }),
    firstRetryMs: 20, maxRetryDelayMs: 80, ...over,
  });
}

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('http sink', () => {
  it('POSTs each event alone as JSON, signed: X-Signature is the hex HMAC-SHA256 of the exact body', async () => {
    const rx = await receiver();
    const logs: string[] = [];
    const local = gateway({ audit: httpSink(rx.url, logs) });
    const res = await local.call('POST', '/v1/users', { body: { username: 'audit_http', password: PASSWORD, accessLevel: 'full' } });
    expect(res.status).toBe(201);
    await until(() => rx.received.length === 1);
    const [got] = rx.received;
    expect(got!.headers['content-type']).toBe('application/json');
    const expected = createHmac('sha256', SECRET).update(got!.body, 'utf8').digest('hex');
    expect(got!.headers['x-signature']).toBe(`sha256=${expected}`);
    expect(await auditSignature(SECRET, got!.body)).toBe(expected);
    const event = JSON.parse(got!.body);
    expect(Object.keys(event)).toEqual(EVENT_KEYS);
    expect(event).toMatchObject({ kind: 'audit', action: 'user.create', username: 'audit_http', requestId: res.headers.get('x-request-id'), status: 201 });
    expect(got!.body).not.toContain(PASSWORD);
    expect(got!.body).not.toContain(SECRET);
    expect(logs).toEqual([]);
  });

  it('retries a failing receiver with backoff: twice 503, then the event arrives on the 3rd attempt', async () => {
    const rx = await receiver();
    rx.statuses.push(503, 500);
    const logs: string[] = [];
    const sink = httpSink(rx.url, logs);
    sink.emit(sampleEvent());
    await until(() => rx.received.length === 3);
    expect(await sink.close(1000)).toBe(true);
    expect(new Set(rx.received.map((r) => r.body))).toEqual(new Set([JSON.stringify(sampleEvent())]));
    const gaps = rx.received.slice(1).map((r, i) => r.at - rx.received[i]!.at);
    expect(gaps[0]).toBeGreaterThanOrEqual(9); // 20 ms, half to all of it
    expect(gaps[1]).toBeGreaterThanOrEqual(19); // then 40 ms
    expect(logs).toEqual([]);
  });

  it('an always-failing receiver is tried at most 8 times, then the event is dropped with one warning (no secret in it)', async () => {
    const rx = await receiver();
    rx.statuses.push(...Array(20).fill(500));
    const logs: string[] = [];
    const sink = httpSink(rx.url, logs, { firstRetryMs: 5, maxRetryDelayMs: 20 });
    sink.emit(sampleEvent());
    await until(() => logs.length === 1);
    await new Promise((r) => setTimeout(r, 100)); // nothing more comes
    expect(rx.received).toHaveLength(8);
    const warning = JSON.parse(logs[0]!);
    expect(warning).toMatchObject({ level: 'warn', requestId: 'req-1', action: 'user.create', attempts: 8, reason: 'HTTP 500' });
    expect(logs.join('')).not.toContain(SECRET);
    expect(await sink.close(100)).toBe(true);
  });

  it('a receiver that cannot be reached: retried, then dropped with one warning', async () => {
    const rx = await receiver();
    const url = rx.url;
    for (const server of receivers.splice(0)) await new Promise((resolve) => server.close(resolve)); // the port is closed now
    const logs: string[] = [];
    const sink = httpSink(url, logs, { maxAttempts: 3, firstRetryMs: 5 });
    sink.emit(sampleEvent());
    await until(() => logs.length === 1);
    expect(JSON.parse(logs[0]!)).toMatchObject({ level: 'warn', attempts: 3, reason: expect.stringMatching(/fetch failed|ECONNREFUSED/) });
  });

  it('never tries after the deadline: fewer attempts when time runs out first', async () => {
    const rx = await receiver();
    rx.statuses.push(...Array(20).fill(502));
    const logs: string[] = [];
    const started = Date.now();
    const sink = httpSink(rx.url, logs, { firstRetryMs: 40, maxRetryDelayMs: 1000, deadlineMs: 150, random: () => 0.99 });
    sink.emit(sampleEvent());
    await until(() => logs.length === 1);
    expect(rx.received.length).toBeLessThan(8);
    for (const r of rx.received) expect(r.at - started).toBeLessThan(150 + 30);
  });

  it('the default schedule: the first retry within 2 s, 8 attempts well within 5 minutes', () => {
    expect(HTTP_AUDIT_DEFAULTS).toMatchObject({ maxAttempts: 8, deadlineMs: 300_000, maxQueue: 10_000 });
    expect(auditRetryDelayMs(1, 0.9999)).toBeLessThanOrEqual(2000);
    expect(auditRetryDelayMs(1, 0)).toBeGreaterThan(0);
    const waits = Array.from({ length: 7 }, (_, i) => auditRetryDelayMs(i + 1, 0.9999));
    expect(waits.every((w, i) => i === 0 || w > waits[i - 1]!)).toBe(true); // exponential
    const worst = waits.reduce((a, b) => a + b, 0) + 8 * HTTP_AUDIT_DEFAULTS.attemptTimeoutMs;
    expect(worst).toBeLessThan(300_000);
  });

  it("a receiver that holds the POST never delays the gateway's answer", async () => {
    const rx = await receiver();
    rx.hold = true;
    const local = gateway({ audit: httpSink(rx.url, []) });
    const before = Date.now();
    const res = await local.call('POST', '/v1/users', { body: { username: 'audit_slow', accessLevel: 'full' } });
    expect(res.status).toBe(201);
    const answeredAt = Date.now();
    await until(() => rx.received.length === 1);
    expect(rx.held).toHaveLength(1); // the receiver still holds the POST ...
    expect(rx.held[0]!.writableEnded).toBe(false);
    expect(answeredAt - before).toBeLessThan(1000); // ... and the answer was already there
    const second = await local.call('DELETE', `/v1/users/${(await res.json()).id}`);
    expect(second.status).toBe(204); // and the next request is not queued behind it either
    rx.held.splice(0).forEach((r) => r.writeHead(200).end());
  });

  it('holds at most maxQueue events: the oldest waiting ones are dropped, with a warning and a count', async () => {
    const rx = await receiver();
    rx.hold = true;
    const logs: string[] = [];
    const sink = httpSink(rx.url, logs, { maxQueue: 3, concurrency: 1 });
    for (let i = 1; i <= 6; i++) sink.emit(sampleEvent({ requestId: `q${i}` }));
    await until(() => rx.held.length === 1);
    expect(logs.map((l) => JSON.parse(l))).toEqual([
      expect.objectContaining({ level: 'warn', dropped: 1, droppedTotal: 1, maxQueue: 3, msg: expect.stringMatching(/queue is full/) }),
    ]);
    rx.hold = false;
    rx.held.splice(0).forEach((r) => r.writeHead(200).end());
    await until(() => rx.received.length === 3);
    expect(rx.received.map((r) => JSON.parse(r.body).requestId)).toEqual(['q1', 'q5', 'q6']);
    expect(await sink.close(500)).toBe(true);
    // The drops not yet reported are reported at close.
    expect(logs.map((l) => JSON.parse(l))).toEqual([
      expect.objectContaining({ dropped: 1, droppedTotal: 1 }),
      expect.objectContaining({ dropped: 2, droppedTotal: 3 }),
    ]);
  });

  it('close: bounded when the receiver hangs; an event waiting for its retry gets its last chance at once', async () => {
    const rx = await receiver();
    rx.hold = true;
    const logs: string[] = [];
    const hanging = httpSink(rx.url, logs);
    hanging.emit(sampleEvent());
    await until(() => rx.held.length === 1);
    const started = Date.now();
    expect(await hanging.close(200)).toBe(false);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(JSON.parse(logs.at(-1)!)).toMatchObject({ level: 'warn', undelivered: 1 });
    rx.held.splice(0).forEach((r) => r.writeHead(200).end());

    rx.hold = false;
    rx.statuses.push(500);
    const retrying = httpSink(rx.url, [], { firstRetryMs: 60_000, maxRetryDelayMs: 60_000 });
    retrying.emit(sampleEvent({ requestId: 'late' }));
    await until(() => rx.received.filter((r) => r.body.includes('"late"')).length === 1);
    expect(await retrying.close(2000)).toBe(true);
    expect(rx.received.filter((r) => r.body.includes('"late"'))).toHaveLength(2);
  });
});

// ---------------------------------------------------------------------------------------------
// The Worker entry (in Node: its wiring; test/workers/audit.test.ts runs it in workerd)

describe('the Worker entry', () => {
  const bindings = (audit: unknown, upstream: string) => ({
    GATEWAY_CONFIG: JSON.stringify({
      auth: { apiKeys: [{ name: 'ops', key: '${OPS_KEY}', scopes: ['read', 'write', 'admin'] }] },
      backends: { onprem: { provider: 'sftpgo', baseUrl: upstream } },
      audit,
    }),
    OPS_KEY: KEYS.ops,
    AUDIT_SECRET: SECRET,
  });
  type WorkerFetch = (request: Request, env: Record<string, unknown>, ctx: unknown) => Promise<Response>;
  const fetchWorker = worker.fetch as unknown as WorkerFetch;

  it('refuses the file sink, naming audit.sink', async () => {
    const res = await fetchWorker(new Request('http://gw.test/v1/users'), bindings({ sink: 'file', path: '/tmp/a' }, 'http://127.0.0.1:1'), {});
    expect(res.status).toBe(500);
    expect((await res.json()).detail).toMatch(/^invalid configuration: audit\.sink: file is not available on Cloudflare Workers/);
  });

  it("hands each HTTP delivery to the request's waitUntil", async () => {
    const rx = await receiver();
    const served = await serveSftpgoEmulator(createSftpgoEmulator());
    try {
      const waited: Promise<unknown>[] = [];
      const ctx = { waitUntil: (p: Promise<unknown>) => void waited.push(p), passThroughOnException: () => {} };
      const res = await fetchWorker(new Request('http://gw.test/v1/users', {
        method: 'POST', headers: { authorization: `Bearer ${KEYS.ops}`, 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'audit_worker', accessLevel: 'full' }),
      }), bindings({ sink: 'http', url: rx.url, secret: '${AUDIT_SECRET}' }, served.url), ctx);
      expect(res.status).toBe(201);
      expect(waited).toHaveLength(1);
      await waited[0];
      expect(rx.received).toHaveLength(1);
      expect(JSON.parse(rx.received[0]!.body)).toMatchObject({ action: 'user.create', username: 'audit_worker', status: 201 });
      expect(rx.received[0]!.headers['x-signature']).toBe(`sha256=${createHmac('sha256', SECRET).update(rx.received[0]!.body).digest('hex')}`);
    } finally {
      await served.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// The Node entry (the bundle `npm start` runs), in a child process

describe('the Node entry', () => {
  const children: ChildProcess[] = [];
  afterEach(() => {
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  });

  async function startEntry(audit: unknown) {
    const served = await serveSftpgoEmulator(createSftpgoEmulator());
    const path = join(mkdtempSync(join(tmpdir(), 'audit-entry-')), 'config.json');
    writeFileSync(path, JSON.stringify({
      server: { port: 0, shutdownGraceMs: 1000 },
      auth: { apiKeys: [{ name: 'ops', key: '${OPS_KEY}', scopes: ['read', 'write', 'admin'] }] },
      backends: { onprem: { provider: 'sftpgo', baseUrl: served.url } },
      ...(audit ? { audit } : {}),
    }));
    const { GATEWAY_CONFIG: _config, NODE_ENV: _env, PORT: _port, ...inherited } = process.env;
    const child = await spawnNodeEntry('audit', { env: { ...inherited, GATEWAY_CONFIG: path, OPS_KEY: KEYS.ops }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    const lines: string[] = [];
    let rest = '';
    child.stdout!.on('data', (chunk) => {
      const parts = (rest + String(chunk)).split('\n');
      rest = parts.pop()!;
      lines.push(...parts);
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    await until(() => lines.some((l) => l.includes('listening on')), 15_000);
    const url = JSON.parse(lines.find((l) => l.includes('listening on'))!).url as string;
    const create = (username: string) => fetch(`${url}/v1/users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEYS.ops}`, 'content-type': 'application/json' },
      body: JSON.stringify({ username, accessLevel: 'read-only', password: PASSWORD }),
    });
    return { child, lines, exited, create, close: () => served.close() };
  }

  it('writes each event to stdout as a line of its own', async () => {
    const entry = await startEntry(undefined);
    try {
      const res = await entry.create('entry_audit_1');
      expect(res.status).toBe(201);
      const requestId = res.headers.get('x-request-id');
      const line = await (async () => {
        await until(() => entry.lines.some((l) => l.startsWith('{"kind":"audit"')), 5000);
        return entry.lines.find((l) => l.startsWith('{"kind":"audit"'))!;
      })();
      expect(JSON.parse(line)).toMatchObject({ requestId, apiKey: 'ops', backend: 'onprem', action: 'user.create', username: 'entry_audit_1', status: 201 });
      for (const l of entry.lines) JSON.parse(l); // every stdout line is whole JSON
      expect(entry.lines.join('\n')).not.toContain(PASSWORD);
      entry.child.kill('SIGTERM');
      expect(await entry.exited).toBe(0);
    } finally {
      await entry.close();
    }
  }, 30_000);

  it('at SIGTERM gives a hanging HTTP receiver a bounded chance, then exits', async () => {
    const rx = await receiver();
    rx.hold = true;
    const entry = await startEntry({ sink: 'http', url: rx.url, secret: SECRET });
    try {
      const started = Date.now();
      expect((await entry.create('entry_audit_2')).status).toBe(201);
      expect(Date.now() - started).toBeLessThan(2000); // the held POST did not hold the answer
      await until(() => rx.held.length === 1);
      const stopping = Date.now();
      entry.child.kill('SIGTERM');
      expect(await entry.exited).toBe(0);
      expect(Date.now() - stopping).toBeLessThan(5000); // the 2 s audit budget, not the receiver, bounds it
      const warned = entry.lines.map((l) => JSON.parse(l)).find((l) => /undelivered/.test(String(l.msg)));
      expect(warned).toMatchObject({ level: 'warn', undelivered: 1 });
      expect(entry.lines.join('\n')).not.toContain(SECRET);
    } finally {
      rx.held.splice(0).forEach((r) => r.destroy());
      await entry.close();
    }
  }, 30_000);
});
