/**
 * How the gateway proves itself to SFTPGo's API v2 (adapters/sftpgo/v2-credentials.ts), against the
 * 2.7.5 emulator: a token shared by concurrent calls, renewed before it expires and once after a
 * 401; an API key as a header; refusals that name the setting to fix and never the secret.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { createSftpgoV2Emulator, type SftpgoV2Emulator } from '../adapters/sftpgo/emulator/v2.js';
import {
  apiKeyCredentials, sendAuthenticated, tokenCredentials, TOKEN_PATH, type V2Credentials,
} from '../adapters/sftpgo/v2-credentials.js';
import { createLogger } from '../src/observability/logger.js';
import { UpstreamClient, type CallContext } from '../src/provider-kit/index.js';
import { failure } from './helpers/errors.js';

const ADMIN = { username: 'admin', password: 'AdminPass-2024' };
const basic = (u: string, p: string) => `Basic ${btoa(`${u}:${p}`)}`;
const ctx: CallContext = { requestId: 'req-v2', logger: createLogger({ level: 'silent' }) };

let clock: number;
let emu: SftpgoV2Emulator;
let client: UpstreamClient;

beforeEach(() => {
  clock = Date.parse('2026-12-06T03:00:00Z');
  emu = createSftpgoV2Emulator({ now: () => clock });
  emu.seedUsers(3, 'cred');
  client = new UpstreamClient({ baseUrl: 'http://sftpgo.test', headers: {}, timeoutMs: 2000, label: 'SFTPGo', fetch: emu.fetch as typeof fetch });
});

const tokenCalls = () => emu.requests.filter((r) => r.path === TOKEN_PATH).length;
const listUsers = (credentials: V2Credentials) =>
  sendAuthenticated(client, credentials, { method: 'GET', path: '/api/v2/users', query: { limit: 10 } }, ctx);

describe('a token from GET /api/v2/token', () => {
  it('is fetched once for 20 concurrent calls, and used by each', async () => {
    const credentials = tokenCredentials(client, basic(ADMIN.username, ADMIN.password), () => clock);
    const answers = await Promise.all(Array.from({ length: 20 }, () => listUsers(credentials)));
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
    expect((answers[0]!.body as unknown[]).length).toBe(3);
    expect(tokenCalls()).toBe(1);
    const sent = emu.requests.filter((r) => r.path === '/api/v2/users').map((r) => r.headers.authorization);
    expect(new Set(sent).size).toBe(1);
    expect(sent[0]).toMatch(/^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
  });

  it('is renewed a minute before it expires, not after each call', async () => {
    const credentials = tokenCredentials(client, basic(ADMIN.username, ADMIN.password), () => clock);
    await listUsers(credentials);
    clock += 18 * 60_000;
    expect((await listUsers(credentials)).status).toBe(200);
    expect(tokenCalls()).toBe(1);
    clock += 90_000; // 19.5 minutes in: within the last minute of its 20
    expect((await listUsers(credentials)).status).toBe(200);
    expect(tokenCalls()).toBe(2);
    expect(credentials.renewals).toBe(2);
  });

  it('is renewed once after a 401 (the server no longer takes it), and the call is made again', async () => {
    let ours = clock;
    const credentials = tokenCredentials(client, basic(ADMIN.username, ADMIN.password), () => ours);
    await listUsers(credentials);
    clock += 25 * 60_000; // the server's clock is past the token's expiry; ours is not
    ours += 60_000;
    const res = await listUsers(credentials);
    expect(res.status).toBe(200);
    expect(tokenCalls()).toBe(2);
    expect(emu.requests.filter((r) => r.path === '/api/v2/users').map((r) => r.headers.authorization)).toHaveLength(3);
  });

  it('a refused password is a 502 naming the settings, never the password, and no call is made', async () => {
    const credentials = tokenCredentials(client, basic(ADMIN.username, 'not-the-password'), () => clock);
    const err = await failure(listUsers(credentials));
    expect(err).toMatchObject({ status: 502, code: 'upstream_error' });
    expect(err.detail).toMatch(/username and password/);
    expect(JSON.stringify(err)).not.toContain('not-the-password');
    expect(emu.requests.filter((r) => r.path === '/api/v2/users')).toEqual([]);
  });
});

describe('an API key', () => {
  it('goes as X-SFTPGO-API-KEY on every call, and is not retried when refused', async () => {
    const key = emu.addApiKey();
    emu.setAllowApiKeyAuth(true);
    const credentials = apiKeyCredentials(key);
    expect((await listUsers(credentials)).status).toBe(200);
    expect(emu.requests.at(-1)?.headers['x-sftpgo-api-key']).toBe(key);
    emu.setAllowApiKeyAuth(false);
    const before = emu.requests.length;
    const refused = await listUsers(credentials);
    expect(refused.status).toBe(401);
    expect(emu.requests.length - before).toBe(1);
    expect(tokenCalls()).toBe(0);
  });
});
