/**
 * The shared conformance suite against the Worker in workerd (wrangler's bundle, Miniflare), with
 * the `kv` cache on a local KV namespace, in front of the SFTP To Go emulator served on loopback.
 * The emulator's organization id and API key are secrets of the Worker, as in production.
 *
 * One workerd serves every case: each case points the switchboard at a fresh emulator and empties
 * the KV namespace, so it starts from a fresh gateway state as the suite expects.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createSftpToGoEmulator, serveSftpToGoEmulator, SFTPTOGO_EMULATOR_DEFAULTS } from '../../adapters/sftptogo/emulator.js';
import { sftptogoBackdoor } from '../conformance/backdoors.js';
import { runConformance } from '../conformance/suite.js';
import { API_KEYS } from '../helpers/gateway.js';
import {
  buildWorkerForTest, clearKv, createSwitchboard, startWorker, workerConfig, workerGateway,
  type RunningWorker, type Switchboard,
} from './harness.js';

let worker: RunningWorker;
let board: Switchboard;
let configText: string;
let secrets: Record<string, string>;
let serial = 0;

beforeAll(async () => {
  board = await createSwitchboard();
  // The shared key list has one limited to a backend named 'onprem', which this gateway lacks.
  ({ configText, secrets } = workerConfig(API_KEYS.filter((k) => k.backends === undefined), {
    defaultBackend: 'togo',
    cache: { driver: 'kv', ttlSeconds: 30 },
    backends: {
      togo: {
        provider: 'sftptogo', baseUrl: board.url, timeoutMs: 5000,
        organizationId: '${SFTPTOGO_ORGANIZATION_ID}', apiKey: '${SFTPTOGO_API_KEY}',
      },
    },
  }));
  secrets.SFTPTOGO_ORGANIZATION_ID = SFTPTOGO_EMULATOR_DEFAULTS.organizationId;
  secrets.SFTPTOGO_API_KEY = SFTPTOGO_EMULATOR_DEFAULTS.apiKey;
  const built = await buildWorkerForTest();
  worker = await startWorker(built.bundlePath, { GATEWAY_CONFIG: configText, ...secrets });
}, 60_000);

afterAll(async () => {
  await worker?.dispose();
  await board?.close();
});

runConformance({
  name: 'sftptogo, Worker in workerd',
  // SFTP To Go usernames are 10..100 of [A-Za-z0-9_.-].
  username: () => `wkr_togo.${String(++serial).padStart(5, '0')}`,
  async setup() {
    const emu = createSftpToGoEmulator();
    const served = await serveSftpToGoEmulator(emu);
    board.point(served.url);
    await clearKv(worker, 'GATEWAY_CACHE');
    const logs: string[] = [];
    worker.tapLogs(logs);
    return {
      gateway: workerGateway(worker.url, configText, secrets, logs),
      backend: 'togo',
      teardown: async () => {
        board.point(undefined);
        await served.close();
      },
      upstream: sftptogoBackdoor(emu),
    };
  },
});

it("captures the Worker's JSON log lines (what the suite's secrets check reads)", () => {
  const requests = worker.logs.map((l) => JSON.parse(l)).filter((l) => l.msg === 'request');
  expect(requests.length).toBeGreaterThan(50);
  expect(requests[0]).toMatchObject({ level: 'info', service: 'sftp-gateway', requestId: expect.any(String), route: expect.any(String) });
  expect(worker.otherOutput.filter((l) => /uncaught|error/i.test(l))).toEqual([]);
});
