/** Demo mode's SFTP To Go: the emulator on a loopback port, and a backend config that reaches it. */
import type { DemoBackend } from '../../../src/provider-kit/index.js';
import type { SftpToGoBackendConfig } from '../config.js';
import { createSftpToGoEmulator, serveSftpToGoEmulator } from './emulator.js';

export async function startDemo(): Promise<DemoBackend[]> {
  const emulator = createSftpToGoEmulator();
  const served = await serveSftpToGoEmulator(emulator, 0);
  const config: SftpToGoBackendConfig = {
    provider: 'sftptogo', baseUrl: served.url, organizationId: emulator.organizationId, apiKey: emulator.apiKey, timeoutMs: 10_000,
  };
  return [{ name: 'demo-sftptogo', config, close: () => served.close() }];
}
