/** Demo mode's SFTPGo: the emulator on a loopback port, and a backend config that reaches it. */
import type { DemoBackend } from '../../../src/provider-kit/index.js';
import type { SftpgoBackendConfig } from '../config.js';
import { createSftpgoEmulator, serveSftpgoEmulator } from './emulator.js';

export async function startDemo(): Promise<DemoBackend> {
  const served = await serveSftpgoEmulator(createSftpgoEmulator(), 0);
  const config: SftpgoBackendConfig = {
    provider: 'sftpgo', apiVersion: 'auto', baseUrl: served.url, sftpHost: 'localhost', sftpPort: 2022,
    homeDirectoryBase: '/srv/sftpgo/data', timeoutMs: 10_000,
  };
  return { config, close: () => served.close() };
}
