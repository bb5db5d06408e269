/** The SFTPGo target of the workerd conformance runs: one Worker per file, a fresh emulator of `version` per case. */
import { createSftpgoEmulator, serveSftpgoEmulator } from '../../adapters/sftpgo/emulator/emulator.js';
import { sftpgoBackdoor } from '../conformance/backdoors.js';
import { API_KEYS } from '../helpers/gateway.js';
import { runConformanceInWorkerd } from './conformance-runner.js';
import { workerConfig } from './harness.js';

export function runSftpgoConformanceInWorkerd(version: string): void {
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
        backends: { onprem: { provider: 'sftpgo', baseUrl: upstreamUrl, sftpHost: 'sftp.example.com', sftpPort: 2022 } },
      }),
    async serve() {
      const emu = createSftpgoEmulator({ scanDurationMs: 150, version });
      return { served: await serveSftpgoEmulator(emu), upstream: sftpgoBackdoor(emu) };
    },
  });
}
