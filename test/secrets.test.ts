/**
 * Secrets never leak (CONTRACT §4, §5, §6): a full run through both providers — users created with
 * and without passwords, passwords set, patched and rotated, SSH keys and network rules, lists and
 * reads with `include=raw`, connections and quota scans, refused API keys, upstream failures
 * (emulator faults, wrong upstream credentials, an upstream that echoes secrets in its errors) —
 * while every log line of the gateway is kept (at debug level, the upstream calls included).
 *
 * Then no log line, no error body, no `raw` object, no other answer and nothing written to the cache
 * store (list pages, Idempotency-Key records: CONTRACT §5, passwords are never cached) may hold:
 * - a password: any seen in an answer, any the run sent, any an emulator holds (SFTP To Go's keeps
 *   one for every credential, the root's too, and repeats it in its `URI`);
 * - an API key: the gateway's own (KEYS), SFTP To Go's upstream apiKey, SFTPGo's basic-auth password;
 * - an `Authorization` value, the gateway's or one the gateway sent upstream.
 * Each secret is looked for as is, JSON-escaped and URL-encoded. The create and rotate answers may
 * show their own new password, and nothing else secret.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSftpgoEmulator } from '../adapters/sftpgo/emulator/emulator.js';
import { createSftpToGoEmulator } from '../adapters/sftptogo/emulator/emulator.js';
import type { FetchLike } from '../src/provider-kit/emulator-kit.js';
import { createMemoryStore, type CacheStore } from '../src/cache/store.js';
import { keyOf } from './fixtures/ssh-keys.js';
import { KEYS, createTestGateway, type CallOptions, type TestGateway } from './helpers/gateway.js';

// --- the world ------------------------------------------------------------------------------------

const SFTPGO_ADMIN = { username: 'sftpgo-admin', password: 'SFTPGo-basic-auth-S3cret-pa55' };
const TOGO_API_KEY = 'togo-upstream-api-key-S3cret-0123456789';
const WRONG_SFTPGO_PASSWORD = 'Wrong-SFTPGo-basic-S3cret-pa55';
const WRONG_TOGO_API_KEY = 'wrong-togo-upstream-key-S3cret-987654';

const emuGo = createSftpgoEmulator({ basicAuth: SFTPGO_ADMIN, scanDurationMs: 20 });
const emuTogo = createSftpToGoEmulator({ apiKey: TOGO_API_KEY, extraField: true });

/**
 * When set, the emulators' answers are replaced by an error that repeats what the gateway sent
 * (and what the upstream holds): the worst a verbose upstream or a proxy in front of it could say.
 */
let echo: { status: number; authorization: boolean } | null = null;

function echoing(emuFetch: FetchLike, provider: 'sftpgo' | 'sftptogo'): typeof fetch {
  return (async (input: RequestInfo | URL, init?: RequestInit) => {
    if (!echo) return emuFetch(input, init);
    const req = new Request(typeof input === 'string' ? new URL(input, 'http://upstream.invalid') : input, init);
    const text = await req.text();
    let sent: Record<string, unknown> = {};
    try {
      sent = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // no JSON body
    }
    const path = new URL(req.url).pathname;
    const credentialId = /\/users\/([^/]+)/.exec(path)?.[1];
    const held = credentialId ? emuTogo.credentials.get(credentialId) : undefined;
    const said = [
      `refused ${req.method} ${path}`,
      typeof sent.password === 'string' ? `password "${sent.password}" is not acceptable` : '',
      held ? `credential sftp://${held.UserName}:${held.Password}@host.example` : '',
      held ? `URI sftp://${encodeURIComponent(held.UserName)}:${encodeURIComponent(held.Password)}@host.example` : '',
      echo.authorization ? `authorization "${req.headers.get('authorization') ?? ''}"` : '',
    ].filter(Boolean).join('; ');
    const body = provider === 'sftpgo' ? { error: said, message: '', status: echo.status } : { message: said };
    return new Response(JSON.stringify(body), { status: echo.status, headers: { 'content-type': 'application/json' } });
  }) as typeof fetch;
}

const fetchFor = (name: string) => (name.startsWith('onprem') ? echoing(emuGo.fetch, 'sftpgo') : echoing(emuTogo.fetch, 'sftptogo'));

const sftpgoBackend = {
  provider: 'sftpgo', baseUrl: 'http://sftpgo.test', sftpHost: 'sftp.example.com', sftpPort: 2022,
  username: SFTPGO_ADMIN.username, password: SFTPGO_ADMIN.password,
};
const togoBackend = { provider: 'sftptogo', baseUrl: 'http://togo.test', organizationId: emuTogo.organizationId, apiKey: TOGO_API_KEY };

/** Everything the gateway writes to its cache store (list pages, idempotency records): no secret may be in it. */
const stored: string[] = [];
function recordingStore(inner: CacheStore): CacheStore {
  return {
    driver: inner.driver,
    get: (key) => inner.get(key),
    set: async (key, value, ttl) => {
      stored.push(`${key} = ${value}`);
      await inner.set(key, value, ttl);
    },
    getBytes: (key) => inner.getBytes(key),
    setBytes: async (key, value, ttl) => {
      stored.push(`${key} = ${new TextDecoder().decode(value)}`);
      await inner.setBytes(key, value, ttl);
    },
    setIfAbsent: async (key, value, ttl) => {
      stored.push(`${key} = ${value}`);
      return inner.setIfAbsent(key, value, ttl);
    },
    incr: (key) => inner.incr(key),
    del: (key) => inner.del(key),
    close: () => inner.close(),
  };
}

/**
 * Each provider's emulator behind several backends: the faults and the echoing upstream are tried
 * on backends of their own, so that no circuit they open stands in the way of the main run.
 */
const gw: TestGateway = createTestGateway({
  backends: {
    onprem: sftpgoBackend,
    togo: togoBackend,
    // A short timeout, for the `hang` fault.
    'onprem-faults': { ...sftpgoBackend, timeoutMs: 300 },
    'togo-faults': { ...togoBackend, timeoutMs: 300 },
    'onprem-echo': sftpgoBackend,
    'togo-echo': togoBackend,
    'onprem-echo-auth': sftpgoBackend,
    'togo-echo-auth': togoBackend,
    'onprem-wrong-auth': {
      provider: 'sftpgo', baseUrl: 'http://sftpgo.test', username: SFTPGO_ADMIN.username, password: WRONG_SFTPGO_PASSWORD,
    },
    'togo-wrong-key': { provider: 'sftptogo', baseUrl: 'http://togo.test', organizationId: emuTogo.organizationId, apiKey: WRONG_TOGO_API_KEY },
    'togo-half': togoBackend,
  },
  defaultBackend: 'onprem',
  fetchFor,
  cache: recordingStore(createMemoryStore(1000)),
});

// --- what the run saw -----------------------------------------------------------------------------

interface Answer {
  method: string;
  path: string;
  status: number;
  text: string;
  headers: [string, string][];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  /** The one password this answer may show: the one it just made (create, rotate). */
  ownPassword?: string;
}

const answers: Answer[] = [];
/** Passwords: set by the run, shown in answers, held upstream. */
const passwords = new Set<string>();
/** API keys and upstream credentials. */
const credentials = new Set<string>([
  ...Object.values(KEYS), TOGO_API_KEY, SFTPGO_ADMIN.password, WRONG_SFTPGO_PASSWORD, WRONG_TOGO_API_KEY,
]);
/** Authorization header values, sent to the gateway or by it upstream. */
const authorizations = new Set<string>();

function rememberPassword(p: unknown): void {
  if (typeof p === 'string' && p.length >= 8) passwords.add(p);
}

/** Every password the emulators hold now (a rotation replaces them, so this runs after every call). */
function harvest(): void {
  for (const u of emuGo.users.values()) rememberPassword(u.password);
  for (const c of emuTogo.credentials.values()) rememberPassword(c.Password);
  for (const r of [...emuGo.requests, ...emuTogo.requests]) {
    const auth = r.headers.authorization;
    if (auth) authorizations.add(auth);
    rememberPassword((r.body as { password?: unknown } | undefined)?.password);
  }
}

async function call(method: string, path: string, opts: CallOptions = {}): Promise<Answer> {
  const key = opts.key === undefined ? KEYS.ops : opts.key;
  if (key !== null) authorizations.add(`Bearer ${key}`);
  const sentAuth = opts.headers?.authorization;
  if (sentAuth) authorizations.add(sentAuth);
  rememberPassword((opts.body as { password?: unknown } | undefined)?.password);
  const res = await gw.call(method, path, opts);
  const text = await res.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = text;
  }
  const created = method === 'POST' && res.status === 201 && /\/users$/.test(path);
  const rotated = method === 'POST' && res.status === 200 && /\/password-rotations$/.test(path);
  const own = (created || rotated) ? (body as { password?: string }).password : undefined;
  rememberPassword(own);
  harvest();
  const answer: Answer = { method, path, status: res.status, text, headers: [...res.headers], body, ownPassword: own };
  answers.push(answer);
  return answer;
}

const said = (a: Answer) => `${a.method} ${a.path} → ${a.status} ${a.text.slice(0, 500)}`;

/** A secret as it may appear in text: as is, JSON-escaped, URL-encoded. */
function forms(secret: string): string[] {
  return [...new Set([secret, JSON.stringify(secret).slice(1, -1), encodeURIComponent(secret)])];
}

/** Every secret the run knows of, with what it is (for messages). */
function needles(): { what: string; text: string }[] {
  const out: { what: string; text: string }[] = [];
  for (const p of passwords) for (const f of forms(p)) out.push({ what: 'a password', text: f });
  for (const c of credentials) for (const f of forms(c)) out.push({ what: 'an API key or upstream credential', text: f });
  for (const a of authorizations) {
    out.push({ what: 'an Authorization value', text: a });
    const token = a.split(' ').slice(1).join(' ');
    if (token.length >= 8) out.push({ what: 'an Authorization token', text: token });
  }
  return out;
}

function leaksIn(text: string, except?: string): string[] {
  const hay = except ? text.replaceAll(except, '') : text;
  return needles().filter((n) => hay.includes(n.text)).map((n) => `${n.what} (${n.text.slice(0, 6)}…)`);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/** Paths of every key that names a password or a URI at any depth of `value`. */
function secretKeys(value: unknown, at = ''): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => secretKeys(v, `${at}[${i}]`));
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([k, v]) => [...(/^password$/i.test(k) ? [`${at}.${k}`] : []), ...secretKeys(v, `${at}.${k}`)]);
}

// --- the run --------------------------------------------------------------------------------------

const ssh = { ed25519: keyOf('ed25519').publicKey, rsa: keyOf('rsa').publicKey, ecdsa: keyOf('ecdsa').publicKey };
const SET_PASSWORDS = {
  create: 'Create-Time-S3cret-Passw0rd',
  special: 'Pa"ss\\wörd/+%&=?#-S3cret-ünï',
  put: 'Put-Password-S3cret-Passw0rd',
  patch: 'Patch-Password-S3cret-Passw0rd',
  refusedTogo: 'Refused-By-Togo-S3cret-Passw0rd',
  faulted: 'Faulted-Create-S3cret-Passw0rd',
  echoed: 'Echoed-By-Upstream-S3cret-Pw0rd',
};

beforeAll(() => {
  for (const p of Object.values(SET_PASSWORDS)) passwords.add(p);
  harvest();
});

afterAll(() => {
  echo = null;
  emuGo.setFaults(null);
  emuTogo.setFaults(null);
});

describe('secrets never leak', () => {
  it('SFTPGo: users, passwords, keys, raw, connections, scans, refused keys, upstream faults', async () => {
    const base = '/v1/backends/onprem';
    expect((await call('GET', '/v1/backends')).status).toBe(200);
    const health = await call('GET', base);
    expect(health.body.health.ok, said(health)).toBe(true);

    const withPassword = await call('POST', `${base}/users`, { body: { username: 'secret_user_1', accessLevel: 'full', password: SET_PASSWORDS.create } });
    expect(withPassword.status, said(withPassword)).toBe(201);
    expect(withPassword.body.password).toBeUndefined();
    const special = await call('POST', '/v1/users', { body: { username: 'secret_user_2', accessLevel: 'read-only', password: SET_PASSWORDS.special, sshKeys: [ssh.ed25519] } });
    expect(special.status, said(special)).toBe(201);
    const generated = await call('POST', `${base}/users`, { body: { username: 'secret_user_3', permissions: ['list', 'upload'], sshKeys: [ssh.rsa], expiresAt: '2030-01-01T00:00:00Z', limits: { maxSessions: 2 } } });
    expect(generated.status, said(generated)).toBe(201);
    expect(generated.body.password, said(generated)).toEqual(expect.any(String));
    const id = withPassword.body.id as string;

    for (const q of ['', '?include=raw', '?include=raw&limit=1', '?username=secret_user_1&include=raw', '?status=active&include=raw']) {
      expect((await call('GET', `${base}/users${q}`)).status).toBe(200);
    }
    expect((await call('GET', `${base}/users/${id}?include=raw`)).status).toBe(200);
    expect((await call('GET', `/v1/users/${special.body.id}?include=raw`)).status).toBe(200);

    expect((await call('PUT', `${base}/users/${id}/password`, { body: { password: SET_PASSWORDS.put } })).status).toBe(204);
    expect((await call('PATCH', `${base}/users/${id}`, { body: { password: SET_PASSWORDS.patch, status: 'disabled' } })).status).toBe(200);
    const rotated = await call('POST', `${base}/users/${id}/password-rotations`);
    expect(rotated.status, said(rotated)).toBe(200);
    expect(emuGo.users.get(Number(id))?.password).toBe(rotated.body.password);
    expect((await call('POST', `${base}/users/${generated.body.id}/password-rotations`)).status).toBe(200);
    // Idempotency-Key: the kept answers hold passwords; a replay may show its own again, nothing else.
    for (let i = 0; i < 2; i++) {
      await call('POST', `${base}/users`, { headers: { 'idempotency-key': 'secrets-create-1' }, body: { username: 'secret_user_idem', accessLevel: 'full' } });
      await call('POST', `${base}/users/${id}/password-rotations`, { headers: { 'idempotency-key': 'secrets-rotate-1' } });
    }

    const added = await call('POST', `${base}/users/${id}/ssh-keys`, { body: { publicKey: ssh.ecdsa } });
    expect(added.status, said(added)).toBe(201);
    expect((await call('GET', `${base}/users/${id}/ssh-keys`)).status).toBe(200);
    expect((await call('DELETE', `${base}/users/${id}/ssh-keys/${added.body.id}`)).status).toBe(204);

    // Refusals that carry a password: none may repeat it.
    expect((await call('PATCH', `${base}/users/${id}`, { body: { password: SET_PASSWORDS.patch, displayName: 'x' } })).status).toBe(422);
    expect((await call('POST', `${base}/users`, { body: { username: 'secret_user_1', accessLevel: 'full', password: SET_PASSWORDS.create } })).status).toBe(409);
    expect((await call('POST', `${base}/users`, { body: { username: 'secret_user_9', accessLevel: 'none', password: SET_PASSWORDS.create } })).status).toBe(422);
    expect((await call('PUT', `${base}/users/${id}/password`, { body: { password: SET_PASSWORDS.put, extra: SET_PASSWORDS.patch } })).status).toBe(400);

    expect((await call('GET', `${base}/connections`)).status).toBe(200);
    expect((await call('POST', `${base}/users/${id}/quota-scans`)).status).toBe(202);
    expect((await call('GET', `${base}/quota-scans`)).status).toBe(200);

    // Keys the gateway refuses.
    expect((await call('GET', `${base}/users`, { key: 'not-a-key-S3cret-0123456789' })).status).toBe(401);
    expect((await call('GET', `${base}/users`, { key: `${KEYS.ops}x` })).status).toBe(401);
    expect((await call('GET', `${base}/users`, { key: null, headers: { authorization: `Basic ${KEYS.ops}` } })).status).toBe(401);
    expect((await call('GET', `${base}/users`, { key: null, headers: { authorization: `Bearer ${KEYS.ops} ${KEYS.writer}` } })).status).toBe(401);
    expect((await call('PUT', `${base}/users/${id}/password`, { key: KEYS.reader, body: { password: SET_PASSWORDS.put } })).status).toBe(403);
    expect((await call('GET', `${base}/users?include=raw`, { key: KEYS.writer })).status).toBe(403);

    // The gateway's own upstream credentials refused: a 502 that names the setting, not the secret.
    const wrong = await call('GET', '/v1/backends/onprem-wrong-auth/users');
    expect(wrong.status, said(wrong)).toBe(502);
    expect((await call('GET', '/v1/backends/onprem-wrong-auth')).body.health.ok).toBe(false);
    expect((await call('PUT', `/v1/backends/onprem-wrong-auth/users/${id}/password`, { body: { password: SET_PASSWORDS.put } })).status).toBe(502);

    // Upstream failures, writes that carry a password included.
    for (const faults of [{ status: 500 }, { status: 400 }, { status: 429, headers: { 'Retry-After': '3' } }, { garbage: true }, { reset: true }, { hang: true }]) {
      emuGo.setFaults(faults);
      try {
        const a = await call('POST', '/v1/backends/onprem-faults/users', { body: { username: 'faulted_user', accessLevel: 'full', password: SET_PASSWORDS.faulted } });
        expect(a.status, said(a)).toBeGreaterThanOrEqual(400);
        await call('PUT', `/v1/backends/onprem-faults/users/${id}/password`, { body: { password: SET_PASSWORDS.faulted } });
      } finally {
        emuGo.setFaults(null);
      }
    }
    expect((await call('DELETE', `${base}/users/${generated.body.id}`)).status).toBe(204);
  });

  it('SFTP To Go: generated passwords, rotations (the root too), keys, rules, raw, refused keys, upstream faults', async () => {
    const base = '/v1/backends/togo';
    const health = await call('GET', base);
    expect(health.body.health.ok, said(health)).toBe(true);

    // SFTP To Go generates every password: a caller's is refused, and not repeated.
    const refused = await call('POST', `${base}/users`, { body: { username: 'secret.togo.1', accessLevel: 'full', password: SET_PASSWORDS.refusedTogo } });
    expect(refused.status, said(refused)).toBe(422);
    const created = await call('POST', `${base}/users`, { body: { username: 'secret.togo.1', accessLevel: 'full', displayName: 'Secret one' } });
    expect(created.status, said(created)).toBe(201);
    expect(created.body.password, said(created)).toEqual(expect.any(String));
    const withKeys = await call('POST', `${base}/users`, {
      body: { username: 'secret.togo.2', accessLevel: 'read-only', sshKeys: [ssh.ed25519, ssh.rsa], networkRules: [{ cidr: '192.0.2.0/24' }] },
    });
    expect(withKeys.status, said(withKeys)).toBe(201);
    const id = created.body.id as string;

    for (const q of ['', '?include=raw', '?include=raw&limit=1&order=desc', '?username=secret.togo.1&include=raw']) {
      expect((await call('GET', `${base}/users${q}`)).status).toBe(200);
    }
    expect((await call('GET', `${base}/users/${id}?include=raw`)).status).toBe(200);
    expect((await call('GET', `${base}/users/${emuTogo.rootId}?include=raw`)).status).toBe(200);
    expect((await call('GET', `${base}/users/${withKeys.body.id}?include=raw`)).status).toBe(200);

    const rotated = await call('POST', `${base}/users/${id}/password-rotations`);
    expect(rotated.status, said(rotated)).toBe(200);
    expect(emuTogo.credentials.get(id)?.Password).toBe(rotated.body.password);
    expect((await call('POST', `${base}/users/${emuTogo.rootId}/password-rotations`)).status).toBe(200);
    for (let i = 0; i < 2; i++) {
      await call('POST', `${base}/users`, { headers: { 'idempotency-key': 'secrets-create-2' }, body: { username: 'secret.togo.idem', accessLevel: 'full' } });
      await call('POST', `${base}/users/${id}/password-rotations`, { headers: { 'idempotency-key': 'secrets-rotate-2' } });
    }
    expect((await call('GET', `${base}/users/${emuTogo.rootId}?include=raw`)).status).toBe(200);

    expect((await call('PATCH', `${base}/users/${id}`, { body: { displayName: 'Renamed', username: 'secret.togo.1b' } })).status).toBe(200);
    expect((await call('PATCH', `${base}/users/${id}`, { body: { password: SET_PASSWORDS.refusedTogo } })).status).toBe(422);
    expect((await call('PUT', `${base}/users/${id}/password`, { body: { password: SET_PASSWORDS.refusedTogo } })).status).toBe(501);

    const added = await call('POST', `${base}/users/${id}/ssh-keys`, { body: { publicKey: ssh.ecdsa } });
    expect(added.status, said(added)).toBe(201);
    expect((await call('GET', `${base}/users/${id}/ssh-keys`)).status).toBe(200);
    expect((await call('DELETE', `${base}/users/${id}/ssh-keys/${added.body.id}`)).status).toBe(204);
    expect((await call('PUT', `${base}/users/${id}/network-rules`, { body: { data: [{ cidr: '198.51.100.7', description: 'office' }] } })).status).toBe(200);
    expect((await call('GET', `${base}/users/${id}/network-rules`)).status).toBe(200);
    expect((await call('DELETE', `${base}/users/${emuTogo.rootId}`)).status).toBe(409);

    expect((await call('GET', `${base}/users`, { key: 'not-a-key-S3cret-0123456789' })).status).toBe(401);
    expect((await call('GET', `${base}/users`, { key: KEYS.onpremOnly })).status).toBe(403);

    const wrong = await call('GET', '/v1/backends/togo-wrong-key/users');
    expect(wrong.status, said(wrong)).toBe(502);
    expect((await call('GET', '/v1/backends/togo-wrong-key')).body.health.ok).toBe(false);
    expect((await call('POST', `/v1/backends/togo-wrong-key/users/${id}/password-rotations`)).status).toBe(502);

    for (const faults of [{ status: 500 }, { status: 409 }, { status: 429, headers: { 'Retry-After': '3' } }, { garbage: true }, { reset: true }, { hang: true }]) {
      emuTogo.setFaults(faults);
      try {
        const a = await call('POST', `/v1/backends/togo-faults/users/${id}/password-rotations`);
        expect(a.status, said(a)).toBeGreaterThanOrEqual(400);
        await call('POST', '/v1/backends/togo-faults/users', { body: { username: 'faulted.togo.user', accessLevel: 'read-only' } });
      } finally {
        emuTogo.setFaults(null);
      }
    }
    // A create whose key step fails after the credential was made: the half-made one is deleted.
    emuTogo.setFaults({ status: 500, match: { method: 'POST', pathPrefix: '/users/' } });
    try {
      const half = await call('POST', '/v1/backends/togo-half/users', { body: { username: 'secret.togo.half', accessLevel: 'read-only', sshKeys: [ssh.ed25519] } });
      expect(half.status, said(half)).toBe(502);
    } finally {
      emuTogo.setFaults(null);
    }
    expect((await call('DELETE', `${base}/users/${withKeys.body.id}`)).status).toBe(204);
  });

  it('an upstream that repeats passwords and password-bearing URIs in its errors: neither answer nor log repeats them', async () => {
    const go = await call('POST', '/v1/backends/onprem-echo/users', { body: { username: 'echo_user_1', accessLevel: 'full', password: SET_PASSWORDS.create } });
    expect(go.status, said(go)).toBe(201);
    const togo = await call('POST', '/v1/backends/togo-echo/users', { body: { username: 'echo.togo.user', accessLevel: 'full' } });
    expect(togo.status, said(togo)).toBe(201);
    for (const status of [400, 409, 422, 500]) {
      echo = { status, authorization: false };
      try {
        await call('PUT', `/v1/backends/onprem-echo/users/${go.body.id}/password`, { body: { password: SET_PASSWORDS.echoed } });
        await call('POST', '/v1/backends/onprem-echo/users', { body: { username: 'echo_user_2', accessLevel: 'full', password: SET_PASSWORDS.echoed } });
        await call('PATCH', `/v1/backends/togo-echo/users/${togo.body.id}`, { body: { displayName: 'echo' } });
        await call('POST', `/v1/backends/togo-echo/users/${togo.body.id}/password-rotations`);
        await call('GET', `/v1/backends/togo-echo/users/${emuTogo.rootId}`);
      } finally {
        echo = null;
      }
    }
    const errors = answers.filter((a) => a.status >= 400);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.flatMap((a) => leaksIn(a.text).map((leak) => `${leak} in ${said(a)}`))).toEqual([]);
  });

  it('an upstream that repeats the Authorization header it was sent: no answer or log repeats a credential', async () => {
    const go = await call('POST', '/v1/backends/onprem-echo-auth/users', { body: { username: 'echo_auth_user', accessLevel: 'full' } });
    expect(go.status, said(go)).toBe(201);
    const togo = await call('POST', '/v1/backends/togo-echo-auth/users', { body: { username: 'echo.auth.user', accessLevel: 'full' } });
    expect(togo.status, said(togo)).toBe(201);
    const mark = answers.length;
    echo = { status: 400, authorization: true };
    try {
      await call('PATCH', `/v1/backends/onprem-echo-auth/users/${go.body.id}`, { body: { status: 'disabled' } });
      await call('POST', '/v1/backends/onprem-echo-auth/users', { body: { username: 'echo_auth_user_2', accessLevel: 'full' } });
      await call('PATCH', `/v1/backends/togo-echo-auth/users/${togo.body.id}`, { body: { displayName: 'echo' } });
    } finally {
      echo = null;
    }
    const upstreamAuth = [...authorizations].filter((a) => a.startsWith('Basic ') || a.includes(TOGO_API_KEY));
    expect(upstreamAuth.length, 'the upstream Authorization values were seen').toBeGreaterThanOrEqual(2);
    const echoed = answers.slice(mark);
    for (const a of echoed) expect(a.status, said(a)).toBeGreaterThanOrEqual(400);
    expect(echoed.flatMap((a) => leaksIn(a.text).map((leak) => `${leak} in ${said(a)}`))).toEqual([]);
  });

  it('the run logged at debug level, upstream calls of both providers included', () => {
    const lines = gw.logs.map((l) => JSON.parse(l) as Json);
    const upstream = lines.filter((l) => l.msg === 'upstream call' && l.level === 'debug');
    expect(upstream.some((l) => l.upstream === 'SFTPGo'), 'debug lines of SFTPGo calls').toBe(true);
    expect(upstream.some((l) => l.upstream === 'SFTP To Go'), 'debug lines of SFTP To Go calls').toBe(true);
    // The failures ran their course: rate limited, bad answer, unreachable, timed out.
    const statuses = new Set(lines.filter((l) => l.msg === 'request').map((l) => l.status as number));
    for (const status of [429, 502, 503, 504]) expect([...statuses], `a ${status} was answered (and logged)`).toContain(status);
    expect(passwords.size, 'passwords collected').toBeGreaterThan(10);
  });

  it('no password, API key or Authorization value in any log line', () => {
    const found: string[] = [];
    for (const line of gw.logs) {
      const leaks = leaksIn(line);
      if (leaks.length) found.push(`${leaks.join(', ')} in ${line.slice(0, 400)}`);
    }
    expect(found).toEqual([]);
  });

  it('no secret in any error body, and none in any other answer but its own new password', () => {
    expect(answers.filter((a) => a.status >= 400).length).toBeGreaterThan(20);
    const found = answers.flatMap((a) => {
      const headers = a.headers.map(([k, v]) => `${k}: ${v}`).join('\n');
      return [...leaksIn(a.text, a.ownPassword), ...leaksIn(headers).map((l) => `${l} (in a header)`)].map((leak) => `${leak} in ${said(a)}`);
    });
    expect(found).toEqual([]);
  });

  it('nothing the gateway put in its cache store (lists, idempotency records) holds a secret', () => {
    expect(stored.length, 'the run wrote to the cache store').toBeGreaterThan(5);
    const found = stored.flatMap((entry) => leaksIn(entry).map((leak) => `${leak} in ${entry.slice(0, 300)}`));
    expect(found).toEqual([]);
  });

  it('raw: every include=raw answer holds no password field and no secret', () => {
    const raws: Json[] = [];
    for (const a of answers.filter((x) => x.status === 200 && x.path.includes('include=raw'))) {
      const users: Json[] = Array.isArray(a.body.data) ? a.body.data : [a.body];
      for (const u of users) {
        expect(u.raw, `raw in ${said(a)}`).toEqual(expect.any(Object));
        raws.push(u.raw);
      }
    }
    expect(raws.length).toBeGreaterThan(10);
    for (const raw of raws) {
      const text = JSON.stringify(raw);
      expect(secretKeys(raw), text.slice(0, 300)).toEqual([]);
      expect(leaksIn(text), text.slice(0, 300)).toEqual([]);
      expect(text, 'a URI with a password').not.toMatch(/sftp:\/\/[^"@/]*:[^"@/]*@/);
    }
  });
});
