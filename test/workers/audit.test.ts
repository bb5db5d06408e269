/**
 * The audit trail in workerd: an event is a `console.log` line of its own in the Worker's log
 * stream; the HTTP sink delivers from the Worker (signed, kept alive by `waitUntil`); the file
 * sink is refused, naming `audit.sink`.
 */
import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSftpgoEmulator, serveSftpgoEmulator } from '../../adapters/sftpgo/emulator/emulator.js';
import type { ServedEmulator } from '../../src/provider-kit/emulator-kit.js';
import { API_KEYS, KEYS } from '../helpers/gateway.js';
import { buildWorkerForTest, startWorkers, workerConfig, type RunningWorkers } from './harness.js';

const SECRET = 'workers-audit-secret-0123456789';

let workers: RunningWorkers;
let served: ServedEmulator;
let receiver: Server;
const received: Array<{ body: string; headers: IncomingMessage['headers'] }> = [];

beforeAll(async () => {
  served = await serveSftpgoEmulator(createSftpgoEmulator());
  receiver = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      received.push({ body, headers: req.headers });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const receiverUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/audit`;

  const config = (audit: unknown) => {
    const backends = { onprem: { provider: 'sftpgo', baseUrl: served.url } };
    const { configText, secrets } = workerConfig(API_KEYS.filter((k) => !k.backends), { backends, ...(audit ? { audit } : {}) });
    return { GATEWAY_CONFIG: configText, ...secrets, AUDIT_SECRET: SECRET };
  };
  const built = await buildWorkerForTest();
  workers = await startWorkers(built.bundlePath, {
    stdout: config(undefined),
    http: config({ sink: 'http', url: receiverUrl, secret: '${AUDIT_SECRET}' }),
    file: config({ sink: 'file', path: '/tmp/audit.jsonl' }),
  });
}, 60_000);

afterAll(async () => {
  await workers?.dispose();
  await served?.close();
  receiver?.closeAllConnections();
  await new Promise((resolve) => receiver?.close(resolve));
});

function call(worker: string, method: string, path: string, body?: unknown, key: string = KEYS.ops) {
  return fetch(new URL(path, workers.worker(worker).url), {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function eventually<T>(find: () => T | undefined): Promise<T> {
  for (let i = 0; i < 150; i++) {
    const found = find();
    if (found !== undefined) return found;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('not found in time');
}

describe('audit in workerd', () => {
  it('stdout (the default): one console.log line of its own per write, none for a GET', async () => {
    const res = await call('stdout', 'POST', '/v1/users', { username: 'wkr_audit_1', accessLevel: 'read-only', password: 'a-long-worker-password' });
    expect(res.status).toBe(201);
    const id = (await res.json()).id as string;
    const requestId = res.headers.get('x-request-id');
    const line = await eventually(() => workers.otherOutput.find((l) => l.includes(`"requestId":"${requestId}"`)));
    expect(line.startsWith('{"kind":"audit",')).toBe(true);
    expect(JSON.parse(line)).toEqual({
      kind: 'audit', time: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/), requestId, apiKey: 'ops', backend: 'onprem',
      action: 'user.create', userId: id, username: 'wkr_audit_1', fields: ['accessLevel', 'password', 'username'], status: 201,
    });
    const refused = await call('stdout', 'DELETE', `/v1/users/${id}`, undefined, KEYS.reader);
    expect(refused.status).toBe(403);
    const refusal = await eventually(() => workers.otherOutput.find((l) => l.includes(`"requestId":"${refused.headers.get('x-request-id')}"`)));
    expect(JSON.parse(refusal)).toMatchObject({ apiKey: 'reader', action: 'user.delete', userId: id, status: 403 });
    const read = await call('stdout', 'GET', `/v1/users/${id}`);
    expect(read.status).toBe(200);
    await new Promise((r) => setTimeout(r, 200));
    expect(workers.otherOutput.some((l) => l.includes(`"requestId":"${read.headers.get('x-request-id')}"`))).toBe(false);
    expect(workers.otherOutput.join('\n')).not.toContain('a-long-worker-password');
  });

  it('http: the Worker POSTs the signed event (its delivery kept alive by waitUntil)', async () => {
    const res = await call('http', 'POST', '/v1/users', { username: 'wkr_audit_2', accessLevel: 'read-only' });
    expect(res.status).toBe(201);
    const requestId = res.headers.get('x-request-id');
    const got = await eventually(() => received.find((r) => r.body.includes(`"requestId":"${requestId}"`)));
    expect(got.headers['content-type']).toBe('application/json');
    expect(got.headers['x-signature']).toBe(`sha256=${createHmac('sha256', SECRET).update(got.body).digest('hex')}`);
    expect(JSON.parse(got.body)).toMatchObject({ kind: 'audit', action: 'user.create', username: 'wkr_audit_2', status: 201 });
    expect(got.body).not.toContain(SECRET);
  });

  it('file: refused on Workers, naming audit.sink', async () => {
    const res = await call('file', 'GET', '/v1/users');
    expect(res.status).toBe(500);
    expect((await res.json()).detail).toMatch(/^invalid configuration: audit\.sink: file is not available on Cloudflare Workers/);
  });
});
