/**
 * The pass-through: the least an uncached list can cost on this runtime — an undici Pool to the
 * emulator, `JSON.parse`, a plain map to the gateway's user shape, `JSON.stringify` — with no
 * auth, validation, logging, metrics or cache. It answers the same bytes the gateway answers for
 * `GET /v1/users?limit=100` (bench/run.ts checks them byte for byte), so its CPU per request is
 * the floor the gateway's uncached page is compared with. SFTPGo: one upstream page of 101 (the
 * gateway asks one more to know whether a next page exists); SFTP To Go: the whole list (its API
 * has no paging), sorted by username, the first 100 answered.
 */
import { createServer } from 'node:http';
import { Pool } from 'undici';
import { BENCH_ORG, BENCH_SFTPTOGO_KEY } from './shared.js';

const PAGE = 100;
const LEVELS: Record<string, string[]> = {
  'read-only': ['list', 'download'],
  'write-only': ['upload', 'create_dirs'],
  'read-write': ['list', 'download', 'upload', 'overwrite', 'delete', 'rename', 'create_dirs'],
};
/** SFTPGo 1.x's eleven names, which `*` stands for. */
const SFTPGO_1X = ['list', 'download', 'upload', 'overwrite', 'delete', 'rename', 'create_dirs', 'create_symlinks', 'chmod', 'chown', 'chtimes'];
const FULL_TOGO = ['list', 'download', 'upload', 'overwrite', 'delete', 'rename', 'create_dirs', 'create_symlinks'];

const iso = (ms: number | undefined) => (ms ? new Date(ms).toISOString() : null);
const orNull = (n: number | undefined) => (n ? n : null);

/** The level of an exact set of names (the bench's users have `*`, or one level's names). */
function levelOf(names: string[], all: string[]): string {
  if (names.length === all.length && all.every((n) => names.includes(n))) return 'full';
  for (const [level, set] of Object.entries(LEVELS)) if (set.length === names.length && set.every((n) => names.includes(n))) return level;
  return names.length === 0 ? 'none' : 'custom';
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function sftpgoUser(u: Json, sftpHost: string): Json {
  const root: string[] = u.permissions['/'] ?? [];
  const permissions = root.includes('*') ? SFTPGO_1X : SFTPGO_1X.filter((n) => root.includes(n));
  return {
    id: String(u.id), backend: 'bench', provider: 'sftpgo', username: u.username, displayName: null,
    status: u.status === 1 ? 'active' : 'disabled', accessLevel: levelOf(permissions, SFTPGO_1X), permissions,
    directoryPermissions: {}, homeDirectory: u.home_dir, chrootDirectory: u.home_dir, expiresAt: iso(u.expiration_date),
    sshKeyCount: u.public_keys?.length ?? 0, host: sftpHost, uri: `sftp://${encodeURIComponent(u.username)}@${sftpHost}`, isRoot: false,
    limits: {
      maxSessions: orNull(u.max_sessions), quotaBytes: orNull(u.quota_size), quotaFiles: orNull(u.quota_files),
      uploadKBps: orNull(u.upload_bandwidth), downloadKBps: orNull(u.download_bandwidth),
    },
    usage: { bytes: u.used_quota_size ?? 0, files: u.used_quota_files ?? 0, updatedAt: iso(u.last_quota_update) },
    createdAt: null, updatedAt: null, lastLoginAt: iso(u.last_login), passwordChangedAt: null,
  };
}

function sftptogoUser(c: Json): Json {
  const level = c.Permission as string;
  return {
    id: c.Id, backend: 'bench', provider: 'sftptogo', username: c.UserName, displayName: c.Alias || null,
    status: c.State === 'active' ? 'active' : 'disabled', accessLevel: level,
    permissions: level === 'full' ? FULL_TOGO : (LEVELS[level] ?? []), directoryPermissions: null,
    homeDirectory: c.HomeDirectory, chrootDirectory: c.ChrootDirectory, expiresAt: null, sshKeyCount: c.SshPublicKeysCount ?? 0,
    host: c.Host, uri: `sftp://${encodeURIComponent(c.UserName)}@${c.Host}`, isRoot: c.IsDefault === true, limits: null, usage: null,
    createdAt: iso(c.CreatedAt), updatedAt: iso(c.UpdatedAt), lastLoginAt: null, passwordChangedAt: c.PasswordCreatedAt ?? null,
  };
}

/** The pass-through's answer for `provider` in front of the emulator at `upstreamUrl`: the page's JSON text. */
export function passthroughAnswer(provider: string, upstreamUrl: string, nextCursor: string | null): () => Promise<string> {
  const pool = new Pool(upstreamUrl, { connections: 16 });
  const fetchJson = async (path: string, headers: Record<string, string>): Promise<unknown> => {
    const res = await pool.request({ method: 'GET', path, headers });
    return JSON.parse(await res.body.text());
  };
  const page = provider === 'sftpgo'
    ? async () => {
      const users = (await fetchJson(`/api/v1/user?offset=0&limit=${PAGE + 1}&order=ASC`, {})) as Json[];
      return { data: users.slice(0, PAGE).map((u) => sftpgoUser(u, 'sftp.example.com')), more: users.length > PAGE };
    }
    : async () => {
      const all = (await fetchJson(`/organizations/${BENCH_ORG}/users`, { authorization: `Bearer ${BENCH_SFTPTOGO_KEY}` })) as Json[];
      all.sort((a, b) => (a.UserName < b.UserName ? -1 : a.UserName > b.UserName ? 1 : 0));
      return { data: all.slice(0, PAGE).map(sftptogoUser), more: all.length > PAGE };
    };
  return async () => {
    const { data, more } = await page();
    return JSON.stringify({ data, nextCursor: more ? nextCursor : null });
  };
}

/** Serves the pass-through on bare `node:http`; resolves to its URL. */
export async function servePassthrough(provider: string, upstreamUrl: string, nextCursor: string | null): Promise<string> {
  const answer = passthroughAnswer(provider, upstreamUrl, nextCursor);
  const server = createServer((_req, res) => {
    answer().then((body) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    }, (err: unknown) => {
      res.writeHead(502).end(String(err));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}
