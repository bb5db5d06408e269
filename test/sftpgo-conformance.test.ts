/**
 * The shared conformance suite against SFTPGo's API v1 in both of its shapes: 1.x (the map of
 * directory permissions, as the recordings of a real 1.2.2 server show) and 0.9.x (the seed's
 * one list). The gateway in process, the SFTPGo emulator over a real socket, reached as the Node
 * entry reaches it (undici Pool); the backend's `apiVersion` is left to `auto`.
 */
import { createSftpgoEmulator, serveSftpgoEmulator } from '../adapters/sftpgo/emulator/emulator.js';
import { sftpgoBackdoor } from './conformance/backdoors.js';
import { runConformance } from './conformance/suite.js';
import { createTestGateway } from './helpers/gateway.js';

let serial = 0;

for (const version of ['1.2.2', '0.9.4']) {
  runConformance({
    name: `sftpgo ${version}`,
    username: () => `conf_user_${String(++serial).padStart(5, '0')}`,
    sshKeyTypes: ['rsa', 'ed25519', 'ecdsa', 'dsa', 'sk-ed25519', 'sk-ecdsa'],
    async setup() {
      const emu = createSftpgoEmulator({ scanDurationMs: 150, version });
      const served = await serveSftpgoEmulator(emu);
      const gateway = createTestGateway({
        backends: { onprem: { provider: 'sftpgo', baseUrl: served.url, sftpHost: 'sftp.example.com', sftpPort: 2022 } },
        defaultBackend: 'onprem',
        nodeTransport: true, // as the Node entry reaches its upstreams
      });
      return {
        gateway,
        backend: 'onprem',
        teardown: async () => {
          await gateway.close();
          await served.close();
        },
        upstream: sftpgoBackdoor(emu),
      };
    },
  });
}
