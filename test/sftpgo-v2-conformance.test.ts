/**
 * The shared conformance suite against SFTPGo 2.x (REST API v2): the gateway in process, the 2.7.5
 * emulator over a real socket, reached as the Node entry reaches it (undici Pool). Twice: pinned
 * to `v2` with an admin's username and password (tokens), and left to `auto` with an API key.
 */
import { createSftpgoV2Emulator, serveSftpgoV2Emulator } from '../adapters/sftpgo/emulator/v2.js';
import { sftpgoV2Backdoor } from './conformance/backdoors.js';
import { runConformance } from './conformance/suite.js';
import { createTestGateway } from './helpers/gateway.js';

let serial = 0;

for (const auth of ['password', 'apiKey'] as const) {
  runConformance({
    name: `sftpgo 2.7.5 (${auth === 'password' ? 'v2, token' : 'auto, API key'})`,
    username: () => `conf_v2_${String(++serial).padStart(5, '0')}`,
    sshKeyTypes: ['rsa', 'ed25519', 'ecdsa', 'dsa', 'sk-ed25519', 'sk-ecdsa'],
    async setup() {
      const emu = createSftpgoV2Emulator({ scanDurationMs: 150, connections: true });
      const served = await serveSftpgoV2Emulator(emu);
      let credentials: Record<string, string> = { apiVersion: 'v2', username: 'admin', password: 'AdminPass-2024' };
      if (auth === 'apiKey') {
        emu.setAllowApiKeyAuth(true);
        credentials = { apiKey: emu.addApiKey() };
      }
      const gateway = createTestGateway({
        backends: { onprem: { provider: 'sftpgo', baseUrl: served.url, sftpHost: 'sftp.example.com', sftpPort: 2022, ...credentials } },
        defaultBackend: 'onprem',
        nodeTransport: true,
      });
      return {
        gateway,
        backend: 'onprem',
        teardown: async () => {
          await gateway.close();
          await served.close();
        },
        upstream: sftpgoV2Backdoor(emu),
      };
    },
  });
}
