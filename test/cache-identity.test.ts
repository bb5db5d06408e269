/**
 * A cached answer is bound to the backend's identity (CONTRACT §5): after a config change of
 * backend `onprem` from SFTPGo to SFTP To Go, a new instance sharing the Redis never serves the
 * old provider's users, nor replays an Idempotency-Key answer the old provider gave.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createSftpgoEmulator } from '../adapters/sftpgo/emulator/emulator.js';
import { createSftpToGoEmulator } from '../adapters/sftptogo/emulator/emulator.js';
import { createRedisStore } from '../src/node/redis-store.js';
import type { SftpgoBackendConfig } from '../adapters/sftpgo/index.js';
import type { SftpToGoBackendConfig } from '../adapters/sftptogo/index.js';
import { backendIdentity } from '../src/providers.js';
import { createTestGateway } from './helpers/gateway.js';
import { SHARED_REDIS_URL, deleteKeys, uniquePrefix } from './helpers/redis.js';

const prefix = uniquePrefix('identity');
afterAll(() => deleteKeys(SHARED_REDIS_URL, prefix));

describe('backendIdentity', () => {
  const sftpgo: SftpgoBackendConfig = {
    provider: 'sftpgo', apiVersion: 'auto', baseUrl: 'http://10.0.0.5:8081', sftpPort: 22, homeDirectoryBase: '/srv', timeoutMs: 5000,
  };
  const togo: SftpToGoBackendConfig = { provider: 'sftptogo', baseUrl: 'https://api.sftptogo.com', organizationId: 'org-1', apiKey: 'k', timeoutMs: 5000 };

  it('changes with what decides the answers: provider, base URL, organization, API version, the SFTP host and port shown', () => {
    const base = backendIdentity('onprem', sftpgo);
    expect(base).toMatch(/^onprem~[0-9a-f]{16}$/);
    for (const other of [
      togo,
      { ...sftpgo, baseUrl: 'http://10.0.0.6:8081' },
      { ...sftpgo, apiVersion: 'v1' as const },
      { ...sftpgo, sftpHost: 'sftp.example.com' },
      { ...sftpgo, sftpPort: 2022 },
    ]) {
      expect(backendIdentity('onprem', other)).not.toBe(base);
    }
    expect(backendIdentity('onprem', { ...togo, organizationId: 'org-2' })).not.toBe(backendIdentity('onprem', togo));
  });

  it('not with what changes no answer: credentials, timeouts, the home base of new users, a trailing slash; the name is part of it', () => {
    const base = backendIdentity('onprem', sftpgo);
    expect(backendIdentity('onprem', { ...sftpgo, username: 'a', password: 'b', timeoutMs: 100, baseUrl: 'http://10.0.0.5:8081/', homeDirectoryBase: '/data' })).toBe(base);
    expect(backendIdentity('onprem', { ...togo, apiKey: 'rotated' })).toBe(backendIdentity('onprem', togo));
    expect(backendIdentity('other', sftpgo)).not.toBe(base);
  });
});

describe('a provider switch behind one backend name, two instances sharing Redis', () => {
  it("the new instance's first list is a MISS with the new provider's users, and no old Idempotency-Key answer is replayed", async () => {
    const go = createSftpgoEmulator();
    const togo = createSftpToGoEmulator();
    const before = createTestGateway({
      backends: { onprem: { provider: 'sftpgo', baseUrl: 'http://sftpgo.test' } },
      fetchFor: () => go.fetch as typeof fetch,
      cache: createRedisStore({ url: SHARED_REDIS_URL }),
      keyPrefix: prefix,
    });
    const created = await before.json('POST', '/v1/users', {
      body: { username: 'switch_user_1', accessLevel: 'read-only' }, headers: { 'idempotency-key': 'switch-create-1' },
    });
    expect(created.status).toBe(201);
    for (const cache of ['MISS', 'HIT']) {
      const list = await before.json('GET', '/v1/users');
      expect([list.headers.get('x-cache'), list.body.data[0]?.provider]).toEqual([cache, 'sftpgo']);
    }

    // The config now says SFTP To Go for the same backend name; same Redis, same prefix.
    const after = createTestGateway({
      backends: { onprem: { provider: 'sftptogo', baseUrl: 'http://togo.test', organizationId: togo.organizationId, apiKey: togo.apiKey } },
      fetchFor: () => togo.fetch as typeof fetch,
      cache: createRedisStore({ url: SHARED_REDIS_URL }),
      keyPrefix: prefix,
    });
    const list = await after.json('GET', '/v1/users');
    expect(list.headers.get('x-cache')).toBe('MISS');
    expect(list.body.data.map((u: { provider: string }) => u.provider)).toEqual(['sftptogo']); // the root credential
    const again = await after.json('POST', '/v1/users', {
      body: { username: 'switch_user_1', accessLevel: 'read-only' }, headers: { 'idempotency-key': 'switch-create-1' },
    });
    expect([again.status, again.headers.get('idempotent-replayed'), again.body.provider]).toEqual([201, null, 'sftptogo']);
    await Promise.all([before.cache.close(), after.cache.close()]);
  });
});
