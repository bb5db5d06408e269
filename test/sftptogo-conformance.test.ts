/** The shared conformance suite against SFTP To Go: the gateway in process, the SFTP To Go emulator over a real socket, reached as the Node entry reaches it (undici Pool). */
import { createSftpToGoEmulator, serveSftpToGoEmulator } from '../adapters/sftptogo/emulator/emulator.js';
import { sftptogoBackdoor } from './conformance/backdoors.js';
import { runConformance } from './conformance/suite.js';
import { createTestGateway } from './helpers/gateway.js';

let serial = 0;

runConformance({
  name: 'sftptogo',
  // SFTP To Go usernames are 10..100 of [A-Za-z0-9_.-].
  username: () => `conf_togo.${String(++serial).padStart(5, '0')}`,
  async setup() {
    const emu = createSftpToGoEmulator();
    const served = await serveSftpToGoEmulator(emu);
    const gateway = createTestGateway({
      backends: {
        togo: { provider: 'sftptogo', baseUrl: served.url, organizationId: emu.organizationId, apiKey: emu.apiKey, timeoutMs: 5000 },
      },
      defaultBackend: 'togo',
      nodeTransport: true, // as the Node entry reaches its upstreams
    });
    return {
      gateway,
      backend: 'togo',
      teardown: async () => {
        await gateway.close();
        await served.close();
      },
      upstream: sftptogoBackdoor(emu),
    };
  },
});
