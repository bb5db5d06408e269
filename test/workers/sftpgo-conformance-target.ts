/**
 * The SFTPGo target of the workerd conformance runs: one Worker per file, a fresh emulator of
 * `version` per case. 2.x (REST API v2) is reached with `apiVersion` left to `auto` and an
 * admin's username and password, so the Worker finds the API and trades them for tokens.
 */
import { createSftpgoEmulator, serveSftpgoEmulator } from '../../adapters/sftpgo/emulator/emulator.js';
import { createSftpgoV2Emulator, serveSftpgoV2Emulator } from '../../adapters/sftpgo/emulator/v2.js';
import { sftpgoBackdoor, sftpgoV2Backdoor } from '../conformance/backdoors.js';
import { API_KEYS } from '../helpers/gateway.js';
import { runConformanceInWorkerd } from './conformance-runner.js';
import { workerConfig } from './harness.js';

export function runSftpgoConformanceInWorkerd(version: string): void {
  const v2 = version.startsWith('2.');
  let serial = 0;
  runConformanceInWorkerd({
    name: `sftpgo ${version}, Worker in workerd`,
    username: () => `wkr_user_${String(++serial).padStart(5, '0')}`,
    sshKeyTypes: ['rsa', 'ed25519', 'ecdsa', 'dsa', 'sk-ed25519', 'sk-ecdsa'],
    backend: 'onprem',
    config: (upstreamUrl) =>
      workerConfig(API_KEYS, {
        defaultBackend: 'onprem',
        cache: { driver: 'kv', ttlSeconds: 30 },
        backends: {
          onprem: {
            provider: 'sftpgo', baseUrl: upstreamUrl, sftpHost: 'sftp.example.com', sftpPort: 2022,
            ...(v2 ? { username: 'admin', password: 'AdminPass-2024' } : {}),
          },
        },
      }),
    async serve() {
      if (v2) {
        const emu = createSftpgoV2Emulator({ scanDurationMs: 150, connections: true });
        return { served: await serveSftpgoV2Emulator(emu), upstream: sftpgoV2Backdoor(emu) };
      }
      const emu = createSftpgoEmulator({ scanDurationMs: 150, version });
      return { served: await serveSftpgoEmulator(emu), upstream: sftpgoBackdoor(emu) };
    },
  });
}
