/**
 * The shared conformance suite against the Worker in workerd (wrangler's bundle, Miniflare), with
 * the `kv` cache on a local KV namespace, in front of a provider's emulator served on loopback.
 *
 * One workerd serves every case: each case points the switchboard at a fresh emulator and empties
 * the KV namespace, so it starts from a fresh gateway state as the suite expects.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ServedEmulator } from '../../src/provider-kit/emulator-kit.js';
import { runConformance, type ConformanceTarget, type UpstreamBackdoor } from '../conformance/suite.js';
import {
  buildWorkerForTest, clearKv, createSwitchboard, startWorker, workerGateway, type RunningWorker, type Switchboard,
} from './harness.js';

export interface WorkerdConformance extends Pick<ConformanceTarget, 'name' | 'username' | 'sshKeyTypes'> {
  /** The backend the config names, and the suite reaches. */
  backend: string;
  /** The Worker's config text and the secrets to bind, given the switchboard's URL as the upstream. */
  config(upstreamUrl: string): { configText: string; secrets: Record<string, string> };
  /** A fresh emulator, served on loopback, with its backdoor. */
  serve(): Promise<{ served: ServedEmulator; upstream: UpstreamBackdoor }>;
}

export function runConformanceInWorkerd(target: WorkerdConformance): void {
  let worker: RunningWorker;
  let board: Switchboard;
  let configText: string;
  let secrets: Record<string, string>;

  beforeAll(async () => {
    board = await createSwitchboard();
    ({ configText, secrets } = target.config(board.url));
    const built = await buildWorkerForTest();
    worker = await startWorker(built.bundlePath, { GATEWAY_CONFIG: configText, ...secrets });
  }, 60_000);

  afterAll(async () => {
    await worker?.dispose();
    await board?.close();
  });

  runConformance({
    name: target.name,
    username: target.username,
    ...(target.sshKeyTypes ? { sshKeyTypes: target.sshKeyTypes } : {}),
    async setup() {
      const { served, upstream } = await target.serve();
      board.point(served.url);
      await clearKv(worker, 'GATEWAY_CACHE');
      const logs: string[] = [];
      worker.tapLogs(logs);
      return {
        gateway: workerGateway(worker.url, configText, secrets, logs),
        backend: target.backend,
        teardown: async () => {
          board.point(undefined);
          await served.close();
        },
        upstream,
      };
    },
  });

  it("captures the Worker's JSON log lines (what the suite's secrets check reads)", () => {
    const requests = worker.logs.map((l) => JSON.parse(l)).filter((l) => l.msg === 'request');
    expect(requests.length).toBeGreaterThan(50);
    expect(requests[0]).toMatchObject({ level: 'info', service: 'sftp-gateway', requestId: expect.any(String), route: expect.any(String) });
    expect(worker.otherOutput.filter((l) => /uncaught|error/i.test(l))).toEqual([]);
  });
}
