/**
 * Demo mode (no GATEWAY_CONFIG): every provider's built-in emulator on loopback, no auth, memory
 * cache. Each emulator is imported only here, and only when demo mode starts: the Node bundle keeps
 * them in chunks of their own that a configured start never loads, and the Worker has no demo.
 */
import { DEFAULT_PASSWORD_MIN_LENGTH, type GatewayConfig } from '../config.js';
import type { Provider, UserCreate } from '../domain/model.js';
import type { ProviderAdapter } from '../provider-kit/adapter.js';
import type { DemoBackend } from '../provider-kit/provider.js';
import type { Logger } from '../observability/logger.js';

/** Each provider's demo, by name: a provider added to the registry must add its demo here (the type says so). */
const DEMOS: Record<Provider, () => Promise<{ startDemo(): Promise<DemoBackend[]> }>> = {
  sftpgo: () => import('../../adapters/sftpgo/emulator/demo.js'),
  sftptogo: () => import('../../adapters/sftptogo/emulator/demo.js'),
};

export interface Demo {
  config: GatewayConfig;
  close(): Promise<void>;
}

export async function startDemo(server: { host: string; port: number }): Promise<Demo> {
  const started = (await Promise.all(Object.values(DEMOS).map(async (load) => (await load()).startDemo()))).flat();
  const config: GatewayConfig = {
    server: { ...server, host: '127.0.0.1', trustProxy: false }, // demo mode never listens beyond loopback
    auth: null,
    metrics: {},
    passwordMinLength: DEFAULT_PASSWORD_MIN_LENGTH,
    cache: { driver: 'memory', keyPrefix: 'sftp-gateway:', ttlSeconds: 30, maxEntries: 1000, commandTimeoutMs: 250 },
    logLevel: 'info',
    defaultBackend: started[0]!.name,
    backends: Object.fromEntries(started.map((demo) => [demo.name, demo.config])),
  };
  return { config, close: async () => void (await Promise.all(started.map((demo) => demo.close()))) };
}

/**
 * The users every demo backend starts with, made in this order (on SFTPGo 1.x their ids are 1, 2
 * and 3). The README's commands use them; names are 10+ characters, as SFTP To Go requires.
 */
export const DEMO_USERS: readonly UserCreate[] = [
  {
    username: 'alice_reports', accessLevel: 'read-write',
    sshKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDtGX+UUY6g7WO56G4c7+hBxv51CgNTZG1TYx1ucOfFJ alice@laptop'],
  },
  { username: 'bob_backups', accessLevel: 'read-only' },
  { username: 'carol_archive', accessLevel: 'read-write', status: 'disabled' },
];

/** Creates DEMO_USERS on every demo backend through its adapter, as a caller's create would. */
/** (Quietly: the first log line must be demo mode's own warning, which names these users.) */
export async function seedDemoUsers(adapters: ReadonlyMap<string, ProviderAdapter>, logger: Logger): Promise<void> {
  for (const [backend, adapter] of adapters) {
    for (const user of DEMO_USERS) await adapter.createUser(user, { requestId: `demo-seed-${backend}`, logger });
  }
}
