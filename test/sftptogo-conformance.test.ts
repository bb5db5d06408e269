/** The shared conformance suite against SFTP To Go: the gateway in process, the SFTP To Go emulator over a real socket. */
import { createSftpToGoEmulator, serveSftpToGoEmulator } from '../adapters/sftptogo/emulator.js';
import { runConformance } from './conformance/suite.js';
import { API_KEYS, createTestGateway } from './helpers/gateway.js';

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
      // The shared key list has one limited to a backend named 'onprem', which this gateway lacks.
      apiKeys: API_KEYS.filter((k) => k.backends === undefined),
    });
    const byName = (username: string) => [...emu.credentials.values()].find((c) => c.UserName === username);
    return {
      gateway,
      backend: 'togo',
      teardown: () => served.close(),
      upstream: {
        requests: () => emu.requests.map(({ method, path, body }) => ({ method, path, body })),
        clearRequests: () => emu.clearRequests(),
        // The root credential is there from the start, like on a real organization.
        usernames: () => [...emu.credentials.values()].map((c) => c.UserName),
        passwordOf: (username) => byName(username)?.Password,
      },
    };
  },
});
