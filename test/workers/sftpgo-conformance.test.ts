/**
 * The shared conformance suite against the Worker in workerd (wrangler's bundle, Miniflare), with
 * the `kv` cache on a local KV namespace, in front of the SFTPGo emulator served on loopback.
 *
 * One workerd serves every case: each case points the switchboard at a fresh emulator and empties
 * the KV namespace, so it starts from a fresh gateway state as the suite expects.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createSftpgoEmulator, serveSftpgoEmulator } from '../../adapters/sftpgo/emulator.js';
import { sftpgoBackdoor } from '../conformance/backdoors.js';
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
  ({ configText, secrets } = workerConfig(API_KEYS, {
    defaultBackend: 'onprem',
    cache: { driver: 'kv', ttlSeconds: 30 },
    backends: { onprem: { provider: 'sftpgo', baseUrl: board.url, sftpHost: 'sftp.example.com', sftpPort: 2022 } },
  }));
  const built = await buildWorkerForTest();
  worker = await startWorker(built.bundlePath, { GATEWAY_CONFIG: configText, ...secrets });
}, 60_000);

afterAll(async () => {
  await worker?.dispose();
  await board?.close();
});

runConformance({
  name: 'sftpgo, Worker in workerd',
  username: () => `wkr_user_${String(++serial).padStart(5, '0')}`,
  sshKeyTypes: ['rsa', 'ed25519', 'ecdsa', 'dsa', 'sk-ed25519', 'sk-ecdsa'],
  async setup() {
    const emu = createSftpgoEmulator({ scanDurationMs: 150 });
    const served = await serveSftpgoEmulator(emu);
    board.point(served.url);
    await clearKv(worker, 'GATEWAY_CACHE');
    const logs: string[] = [];
    worker.tapLogs(logs);
    return {
      gateway: workerGateway(worker.url, configText, secrets, logs),
      backend: 'onprem',
      teardown: async () => {
        board.point(undefined);
        await served.close();
      },
      upstream: sftpgoBackdoor(emu),
    };
  },
});

it("captures the Worker's JSON log lines (what the suite's secrets check reads)", () => {
  const requests = worker.logs.map((l) => JSON.parse(l)).filter((l) => l.msg === 'request');
  expect(requests.length).toBeGreaterThan(50);
  expect(requests[0]).toMatchObject({ level: 'info', service: 'sftp-gateway', requestId: expect.any(String), route: expect.any(String) });
  expect(worker.otherOutput.filter((l) => /uncaught|error/i.test(l))).toEqual([]);
});
