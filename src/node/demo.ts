/**
 * Demo mode (no GATEWAY_CONFIG): both providers' built-in emulators on loopback, no auth,
 * memory cache. Node only: the emulators never reach the Workers bundle.
 */
import { createSftpgoEmulator, serveSftpgoEmulator } from '../../adapters/sftpgo/emulator/emulator.js';
import { createSftpToGoEmulator, serveSftpToGoEmulator } from '../../adapters/sftptogo/emulator/emulator.js';
import { DEFAULT_PASSWORD_MIN_LENGTH, type GatewayConfig } from '../config.js';

export interface Demo {
  config: GatewayConfig;
  close(): Promise<void>;
}

export async function startDemo(server: { host: string; port: number }): Promise<Demo> {
  const sftpgo = createSftpgoEmulator();
  const served = await serveSftpgoEmulator(sftpgo, 0);
  const togo = createSftpToGoEmulator();
  const togoServed = await serveSftpToGoEmulator(togo, 0);
  const config: GatewayConfig = {
    server: { ...server, host: '127.0.0.1', trustProxy: false }, // demo mode never listens beyond loopback
    auth: null,
    metrics: {},
    passwordMinLength: DEFAULT_PASSWORD_MIN_LENGTH,
    cache: { driver: 'memory', keyPrefix: 'sftp-gateway:', ttlSeconds: 30, maxEntries: 1000, commandTimeoutMs: 250 },
    logLevel: 'info',
    defaultBackend: 'demo-sftpgo',
    backends: {
      'demo-sftpgo': {
        provider: 'sftpgo', apiVersion: 'auto', baseUrl: served.url, sftpHost: 'localhost', sftpPort: 2022,
        homeDirectoryBase: '/srv/sftpgo/data', timeoutMs: 10_000,
      },
      'demo-sftptogo': {
        provider: 'sftptogo', baseUrl: togoServed.url, organizationId: togo.organizationId, apiKey: togo.apiKey,
        timeoutMs: 10_000,
      },
    },
  };
  return { config, close: async () => void (await Promise.all([served.close(), togoServed.close()])) };
}
