/**
 * The shared conformance suite against the Worker in workerd, in front of the SFTP To Go emulator
 * (see ./conformance-runner.ts). The emulator's organization id and API key are secrets of the
 * Worker, as in production.
 */
import { createSftpToGoEmulator, serveSftpToGoEmulator, SFTPTOGO_EMULATOR_DEFAULTS } from '../../adapters/sftptogo/emulator/emulator.js';
import { sftptogoBackdoor } from '../conformance/backdoors.js';
import { API_KEYS } from '../helpers/gateway.js';
import { runConformanceInWorkerd } from './conformance-runner.js';
import { workerConfig } from './harness.js';

let serial = 0;

runConformanceInWorkerd({
  name: 'sftptogo, Worker in workerd',
  // SFTP To Go usernames are 10..100 of [A-Za-z0-9_.-].
  username: () => `wkr_togo.${String(++serial).padStart(5, '0')}`,
  backend: 'togo',
  config(upstreamUrl) {
    // The shared key list has one limited to a backend named 'onprem', which this gateway lacks.
    const { configText, secrets } = workerConfig(API_KEYS.filter((k) => k.backends === undefined), {
      defaultBackend: 'togo',
      cache: { driver: 'kv', ttlSeconds: 30 },
      backends: {
        togo: {
          provider: 'sftptogo', baseUrl: upstreamUrl, timeoutMs: 5000,
          organizationId: '${SFTPTOGO_ORGANIZATION_ID}', apiKey: '${SFTPTOGO_API_KEY}',
        },
      },
    });
    secrets.SFTPTOGO_ORGANIZATION_ID = SFTPTOGO_EMULATOR_DEFAULTS.organizationId;
    secrets.SFTPTOGO_API_KEY = SFTPTOGO_EMULATOR_DEFAULTS.apiKey;
    return { configText, secrets };
  },
  async serve() {
    const emu = createSftpToGoEmulator();
    return { served: await serveSftpToGoEmulator(emu), upstream: sftptogoBackdoor(emu) };
  },
});
