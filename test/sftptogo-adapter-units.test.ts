/**
 * The SFTP To Go adapter's module-level functions called one at a time, on a backend state built
 * by the same `createSftpToGoBackend` the factory uses, against the in-process emulator. Each test
 * checks what the function returns and what reached the emulator.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CallContext } from '../src/provider-kit/adapter.js';
import { createLogger } from '../src/observability/logger.js';
import { createSftpToGoBackend, readCredential, send, type SftpToGoBackend } from '../adapters/sftptogo/backend.js';
import { getUser } from '../adapters/sftptogo/users.js';
import { listNetworkRules, replaceNetworkRules } from '../adapters/sftptogo/keys-and-rules.js';
import type { SftpToGoBackendConfig } from '../adapters/sftptogo/index.js';
import { createSftpToGoEmulator, type SftpToGoEmulator } from '../adapters/sftptogo/emulator/emulator.js';
import { failure } from './helpers/errors.js';

let emu: SftpToGoEmulator;
let config: SftpToGoBackendConfig;
let b: SftpToGoBackend;
let ctx: CallContext;
let org: string;

beforeEach(() => {
  emu = createSftpToGoEmulator();
  org = `/organizations/${emu.organizationId}`;
  config = { provider: 'sftptogo', baseUrl: 'http://togo.test/', organizationId: emu.organizationId, apiKey: emu.apiKey, timeoutMs: 2000 };
  b = createSftpToGoBackend(config, { backend: 'togo', fetch: emu.fetch as typeof fetch });
  ctx = { requestId: 'req-unit', logger: createLogger({ level: 'silent', destination: { write: () => undefined } }) };
});

afterEach(() => emu.reset());

/** The log as `METHOD path` lines below the organization. */
const calls = () => emu.requests.map((r) => `${r.method} ${r.path.startsWith(org) ? r.path.slice(org.length) : r.path}`);

/** A non-root credential in the emulator, its id. */
function seededId(): string {
  emu.seedCredentials(1, 'unituser');
  const found = [...emu.credentials.values()].find((c) => !c.IsDefault);
  if (!found) throw new Error('the emulator seeded nothing');
  emu.clearRequests();
  return found.Id;
}

describe('createSftpToGoBackend', () => {
  it('refuses a bad config, naming the field', () => {
    expect(() => createSftpToGoBackend({ ...config, apiKey: '' }, { backend: 'togo' })).toThrow(/backends\.togo\.apiKey/);
  });

  it('keeps the backend name and the API key as the one secret to scrub', () => {
    expect(b.name).toBe('togo');
    expect(b.mapping).toEqual({ backend: 'togo' });
    expect(b.credentials).toEqual([emu.apiKey]);
    expect(b.config.baseUrl).toBe('http://togo.test/');
  });
});

describe('send and readCredential', () => {
  it('readCredential answers the stored credential, password included, after one authenticated GET', async () => {
    const stored = emu.credentials.get(emu.rootId);
    const cred = await readCredential(b, emu.rootId, ctx);
    expect(cred.Id).toBe(emu.rootId);
    expect(cred.Password).toBe(stored?.Password);
    expect(calls()).toEqual([`GET /users/${emu.rootId}`]);
    expect(emu.requests[0]?.headers.authorization).toBe(`Bearer ${emu.apiKey}`);
    expect(emu.requests[0]?.headers['x-request-id']).toBe('req-unit');
  });

  it('send throws an upstream 401 as a 502 naming the apiKey setting, never the key', async () => {
    const wrong = createSftpToGoBackend({ ...config, apiKey: 'wrong-api-key-123' }, { backend: 'togo', fetch: emu.fetch as typeof fetch });
    const err = await failure(send(wrong, { method: 'GET', path: '/users' }, ctx));
    expect([err.status, err.code]).toEqual([502, 'upstream_error']);
    expect(err.detail).toMatch(/401 on GET \/users\): check the backend's apiKey/);
    expect(err.detail).not.toContain('wrong-api-key-123');
  });
});

describe('getUser', () => {
  it('maps the credential for this backend and keeps its password out', async () => {
    const password = emu.credentials.get(emu.rootId)?.Password ?? '';
    const user = await getUser(b, emu.rootId, ctx);
    expect(user).toMatchObject({ id: emu.rootId, backend: 'togo', provider: 'sftptogo', isRoot: true });
    expect(password.length).toBeGreaterThan(4);
    expect(JSON.stringify({ ...user, raw: user.raw() })).not.toContain(password);
    expect(calls()).toEqual([`GET /users/${emu.rootId}`]);
  });

  it('answers 404 without a call for an id SFTP To Go cannot have made', async () => {
    const err = await failure(getUser(b, '../users', ctx));
    expect([err.status, err.detail]).toEqual([404, 'user ../users not found']);
    expect(emu.requests).toEqual([]);
  });
});

describe('network rules', () => {
  it('replaceNetworkRules sends the whole set in one PATCH and answers the rules the emulator now holds', async () => {
    const id = seededId();
    const rules = await replaceNetworkRules(b, id, [
      { cidr: '203.0.113.0/24', protocol: 'sftp', enabled: true, description: 'office' },
    ], ctx);
    expect(calls()).toEqual([`PATCH /users/${id}`]);
    expect(emu.requests[0]?.body).toEqual({
      Settings: { Network: { InboundRules: [{ Action: 'allow', Protocol: 'SFTP', State: 'enabled', Source: '203.0.113.0/24', Description: 'office' }] } },
    });
    expect(rules).toEqual([{ id: expect.any(String), cidr: '203.0.113.0/24', protocol: 'sftp', enabled: true, description: 'office' }]);
    expect(emu.credentials.get(id)?.InboundRules.map((r) => r.Source)).toEqual(['203.0.113.0/24']);
    expect(await listNetworkRules(b, id, ctx)).toEqual(rules);
  });
});
