/**
 * Demo mode (no GATEWAY_CONFIG): every provider's built-in emulator on loopback, no auth, memory
 * cache. Each emulator is imported only here, and only when demo mode starts: the Node bundle keeps
 * them in chunks of their own that a configured start never loads, and the Worker has no demo.
 */
import { DEFAULT_PASSWORD_MIN_LENGTH, type GatewayConfig } from '../config.js';
import type { Provider } from '../domain/model.js';
import type { DemoBackend } from '../provider-kit/provider.js';

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
