/**
 * Demo mode's SFTPGo: two emulators on loopback ports, 1.2.2 (REST API v1) and 2.7.5 (REST API
 * v2), and backend configs that reach them, both with `apiVersion` left to `auto`.
 */
import type { DemoBackend } from '../../../src/provider-kit/index.js';
import type { SftpgoBackendConfig } from '../config.js';
import { createSftpgoEmulator, serveSftpgoEmulator } from './emulator.js';
import { createSftpgoV2Emulator, serveSftpgoV2Emulator } from './v2.js';

const DEMO_ADMIN = { username: 'admin', password: 'demo-admin-password' };

export async function startDemo(): Promise<DemoBackend[]> {
  const v1 = await serveSftpgoEmulator(createSftpgoEmulator(), 0);
  const v2 = await serveSftpgoV2Emulator(createSftpgoV2Emulator({ admin: DEMO_ADMIN, connections: true }), 0);
  const common = { provider: 'sftpgo', apiVersion: 'auto', sftpHost: 'localhost', sftpPort: 2022, homeDirectoryBase: '/srv/sftpgo/data', timeoutMs: 10_000 } as const;
  const v1Config: SftpgoBackendConfig = { ...common, baseUrl: v1.url };
  const v2Config: SftpgoBackendConfig = { ...common, baseUrl: v2.url, ...DEMO_ADMIN };
  return [
    { name: 'demo-sftpgo', config: v1Config, close: () => v1.close() },
    { name: 'demo-sftpgo-v2', config: v2Config, close: () => v2.close() },
  ];
}
