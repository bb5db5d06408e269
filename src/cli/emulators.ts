/**
 * `sftp-gateway emulators`: the provider emulators demo mode runs (SFTP To Go, SFTPGo 1.2.2 on
 * REST API v1, SFTPGo 2.7.5 on REST API v2), on their own, on loopback, each seeded with users
 * and guarded by credentials made for this run, with a gateway config that reaches them.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { isIPv4 } from 'node:net';
import type { Hono } from 'hono';
import type { GatewayConfigInput } from '../config.js';
import { CliError, usageError } from './cli-error.js';

export interface EmulatorsOptions {
  host: string;
  sftptogoPort: number;
  sftpgoPort: number;
  sftpgoV2Port: number;
  users: number;
}

/** One running emulator, as printed. */
export interface RunningEmulator {
  backend: string;
  provider: 'sftptogo' | 'sftpgo';
  emulates: string;
  url: string;
  /** Users seeded (SFTP To Go also has its root credential). */
  users: number;
}

export interface RunningEmulators {
  emulators: RunningEmulator[];
  /** A whole gateway config for them; its API key is `${SFTP_GATEWAY_API_KEY}`, read when the gateway starts. */
  config: GatewayConfigInput;
  close(): Promise<void>;
}

/** The env var the config's API key is read from: the one `sftp-gateway users` sends. */
export const API_KEY_VAR = 'SFTP_GATEWAY_API_KEY';

/** 127.0.0.0/8, ::1 and localhost: the emulators take test credentials and must not be reachable from elsewhere. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || (isIPv4(host) && host.startsWith('127.'));
}

const secret = () => randomBytes(18).toString('base64url');

/** Starts the three emulators; a port of 0 takes any free one. If one cannot listen, those started are closed. */
export async function startEmulators(opts: EmulatorsOptions): Promise<RunningEmulators> {
  if (!isLoopback(opts.host)) {
    throw usageError(`--host: "${opts.host}" is not a loopback address: the emulators listen on 127.0.0.1, ::1 or localhost only`);
  }
  // Loaded here only: `users` and `check-config` never pull the emulators in.
  const [{ createSftpToGoEmulator }, { createSftpgoEmulator }, { createSftpgoV2Emulator }] = await Promise.all([
    import('../../adapters/sftptogo/emulator/emulator.js'),
    import('../../adapters/sftpgo/emulator/emulator.js'),
    import('../../adapters/sftpgo/emulator/v2.js'),
  ]);
  const togo = createSftpToGoEmulator({ apiKey: secret(), organizationId: randomUUID() });
  togo.seedCredentials(opts.users, 'user');
  const v1Admin = { username: 'admin', password: secret() };
  const v1 = createSftpgoEmulator({ basicAuth: v1Admin });
  v1.seedUsers(opts.users);
  const v2Admin = { username: 'admin', password: secret() };
  const v2 = createSftpgoV2Emulator({ admin: v2Admin, connections: true });
  v2.seedUsers(opts.users);

  const servers: ServedApp[] = [];
  const closeAll = async () => void (await Promise.all(servers.map((s) => s.close())));
  try {
    for (const [app, port] of [[togo.app, opts.sftptogoPort], [v1.app, opts.sftpgoPort], [v2.app, opts.sftpgoV2Port]] as const) {
      servers.push(await serveOn(app, opts.host, port));
    }
  } catch (err) {
    await closeAll();
    throw err;
  }
  const [togoUrl, v1Url, v2Url] = servers.map((s) => s.url) as [string, string, string];
  const sftp = { sftpHost: 'localhost', sftpPort: 2022 };
  return {
    emulators: [
      { backend: 'sftptogo', provider: 'sftptogo', emulates: 'SFTP To Go', url: togoUrl, users: togo.credentials.size - 1 }, // less the root credential
      { backend: 'sftpgo', provider: 'sftpgo', emulates: 'SFTPGo 1.2.2 (REST API v1)', url: v1Url, users: v1.users.size },
      { backend: 'sftpgo-v2', provider: 'sftpgo', emulates: 'SFTPGo 2.7.5 (REST API v2)', url: v2Url, users: v2.users.size },
    ],
    config: {
      server: { host: '127.0.0.1', port: 8080 },
      auth: { apiKeys: [{ name: 'local', key: `\${${API_KEY_VAR}}`, scopes: ['read', 'write', 'admin'] }] },
      cache: { driver: 'memory' },
      defaultBackend: 'sftpgo',
      backends: {
        sftptogo: { provider: 'sftptogo', baseUrl: togoUrl, organizationId: togo.organizationId, apiKey: togo.apiKey },
        sftpgo: { provider: 'sftpgo', apiVersion: 'v1', baseUrl: v1Url, ...v1Admin, ...sftp },
        'sftpgo-v2': { provider: 'sftpgo', apiVersion: 'v2', baseUrl: v2Url, ...v2Admin, ...sftp },
      },
    },
    close: closeAll,
  };
}

/** The text `emulators` prints for people: each emulator, then the config to save. */
export function describeEmulators(running: RunningEmulators): string {
  const rows = running.emulators.map((e) => {
    const root = e.provider === 'sftptogo' ? ' and the root credential' : '';
    return `  ${e.backend.padEnd(10)} ${e.url.padEnd(24)} ${e.emulates}, ${e.users} users${root}`;
  });
  return [
    'Emulators running (loopback only; credentials made for this run):',
    ...rows,
    '',
    `A gateway config for them — save it as gateway.json, set ${API_KEY_VAR} (16 characters at least), then`,
    '  GATEWAY_CONFIG=gateway.json npm start',
    '',
    JSON.stringify(running.config, null, 2),
    '',
  ].join('\n');
}

interface ServedApp {
  url: string;
  close(): Promise<void>;
}

/** Serves an emulator app on `host:port` (the emulator kit's server binds 127.0.0.1 only). */
async function serveOn(app: Hono, host: string, port: number): Promise<ServedApp> {
  const { serve } = await import('@hono/node-server');
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, hostname: host, port }, (info) => {
      const shown = host.includes(':') ? `[${host}]` : host;
      resolve({ url: `http://${shown}:${info.port}`, close: () => closeServer(server as Server) });
    });
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(new CliError(`error: cannot listen on ${host}:${port}: ${err.code === 'EADDRINUSE' ? 'the port is in use' : err.message}`));
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections(); // an open keep-alive connection would otherwise hold close()
  });
}
