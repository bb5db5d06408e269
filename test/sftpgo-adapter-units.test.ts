/**
 * The SFTPGo adapter's module-level pieces on their own: a backend state built by the code the
 * factory uses (`createSftpgoBackend`), against the in-process emulator, checking what the
 * functions answer and what really reached the emulator.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CallContext } from '../src/provider-kit/index.js';
import { createLogger } from '../src/observability/logger.js';
import type { SftpgoBackendConfig } from '../adapters/sftpgo/index.js';
import { createSftpgoBackend, modifyUser, type SftpgoBackend } from '../adapters/sftpgo/backend.js';
import { storedBody } from '../adapters/sftpgo/mapping.js';
import { createUser, getUser } from '../adapters/sftpgo/users.js';
import { createSftpgoEmulator, type SftpgoEmulator } from '../adapters/sftpgo/emulator/emulator.js';
import { failure } from './helpers/errors.js';

const config: SftpgoBackendConfig = {
  provider: 'sftpgo', apiVersion: 'auto', baseUrl: 'http://sftpgo.test/', sftpHost: 'sftp.example.com', sftpPort: 2022,
  homeDirectoryBase: '/srv/sftpgo/data', timeoutMs: 2000,
};
const ctx: CallContext = { requestId: 'req-units', logger: createLogger({ level: 'silent' }) };

let emu: SftpgoEmulator;
let b: SftpgoBackend;

beforeEach(() => {
  emu = createSftpgoEmulator({ scanDurationMs: 60_000 });
  b = createSftpgoBackend(config, { backend: 'onprem', fetch: emu.fetch });
});

afterEach(() => emu.reset());

const calls = () => emu.requests.map((r) => `${r.method} ${r.path}`);

/** A stored user, made through the backend; the request log starts empty after it. */
async function seedUser(): Promise<string> {
  const { user } = await createUser(b, { username: 'acme_uploads', accessLevel: 'read-write', password: 'Initial-pass-1' }, ctx);
  emu.clearRequests();
  return user.id;
}

describe('getUser on a backend state', () => {
  it('reads the user with one GET and maps it with the backend context', async () => {
    const id = await seedUser();
    const user = await getUser(b, id, ctx);
    expect(user).toMatchObject({
      id, backend: 'onprem', provider: 'sftpgo', username: 'acme_uploads', status: 'active',
      host: 'sftp.example.com', uri: 'sftp://acme_uploads@sftp.example.com:2022', homeDirectory: '/srv/sftpgo/data/acme_uploads',
    });
    expect(calls()).toEqual([`GET /api/v1/user/${id}`]);
  });

  it('answers 404 for an id SFTPGo cannot hold, without a call', async () => {
    const err = await failure(getUser(b, '0x1', ctx));
    expect(err.status).toBe(404);
    expect(emu.requests).toHaveLength(0);
  });
});

describe('modifyUser (read-merge-write under the per-user lock)', () => {
  it('PUTs the whole stored user with the change, keeping fields it did not touch', async () => {
    const id = await seedUser();
    const before = emu.users.get(Number(id));
    const result = await modifyUser(b, id, ctx, async (stored) => ({ body: { ...storedBody(stored), max_sessions: 4 }, result: 'done' }));
    expect(result).toBe('done');
    expect(calls()).toEqual([`GET /api/v1/user/${id}`, `PUT /api/v1/user/${id}`]);
    const after = emu.users.get(Number(id));
    expect(after?.max_sessions).toBe(4);
    expect(after?.home_dir).toBe(before?.home_dir);
    expect(after?.permissions).toEqual(before?.permissions);
  });

  it('writes nothing when the change returns no body', async () => {
    const id = await seedUser();
    const result = await modifyUser(b, id, ctx, async (stored) => ({ body: null, result: stored.username }));
    expect(result).toBe('acme_uploads');
    expect(calls()).toEqual([`GET /api/v1/user/${id}`]);
  });

  it('runs two changes of one user one after the other, so neither loses the other', async () => {
    const id = await seedUser();
    await Promise.all([
      modifyUser(b, id, ctx, async (stored) => ({ body: { ...storedBody(stored), max_sessions: 3 }, result: undefined })),
      modifyUser(b, id, ctx, async (stored) => ({ body: { ...storedBody(stored), quota_files: 7 }, result: undefined })),
    ]);
    const path = `/api/v1/user/${id}`;
    expect(calls()).toEqual([`GET ${path}`, `PUT ${path}`, `GET ${path}`, `PUT ${path}`]);
    expect(emu.users.get(Number(id))).toMatchObject({ max_sessions: 3, quota_files: 7 });
  });
});
