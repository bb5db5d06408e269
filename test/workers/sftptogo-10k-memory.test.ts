/**
 * SFTP To Go at 10,000 users, through the Worker in workerd, within a Worker's 128 MB.
 *
 * SFTP To Go answers its whole list in one unpaged array, so the first page the gateway serves
 * loads all 10,000 credentials into the isolate; every later page is cut from that list (here
 * through the `kv` cache). On Cloudflare an isolate that goes over 128 MB is ended.
 *
 * workerd enforces no memory limit of its own (Cloudflare's limit enforcer is not part of it), but
 * V8 does: `--max-heap-size` in workerd's `v8Flags` caps every isolate's heap, and reaching it
 * aborts workerd ("Reached heap limit"), so every request after fails. That heap is what
 * Cloudflare counts, besides WebAssembly memory (the gateway has none). Miniflare passes
 * `MINIFLARE_WORKERD_V8_FLAGS` to workerd as its `v8Flags`; workerd is started through a one-line
 * wrapper (MINIFLARE_WORKERD_PATH) that only notes its pid, then execs it. The first test shows
 * the cap bites.
 */
import { chmodSync, existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createSftpToGoEmulator, serveSftpToGoEmulator, SFTPTOGO_EMULATOR_DEFAULTS, type SftpToGoEmulator,
} from '../../adapters/sftptogo/emulator/emulator.js';
import type { ServedEmulator } from '../../src/provider-kit/emulator-kit.js';
import { API_KEYS, KEYS } from '../helpers/gateway.js';
import { buildWorkerForTest, startWorker, workerConfig, type RunningWorker } from './harness.js';

/** A Worker isolate's memory on Cloudflare, as V8's heap cap (MiB). */
const HEAP_CAP_MB = 128;
const USERS = 10_000;
const PAGE = 100;

const shQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** A workerd command for MINIFLARE_WORKERD_PATH that notes its pid in a file, then execs workerd (same pid). */
function workerdNotingPid(): { dir: string; command: string; pidFile: string } {
  const dir = mkdtempSync(join(tmpdir(), 'sftp-gateway-heap-cap-'));
  // The binary Miniflare would run.
  const workerd = process.env.MINIFLARE_WORKERD_PATH ?? (createRequire(import.meta.url)('workerd') as { default: string }).default;
  const [pidFile, command] = [join(dir, 'workerd.pid'), join(dir, 'workerd.sh')] as const;
  writeFileSync(command, ['#!/bin/sh', `echo $$ > ${shQuote(pidFile)}`, `exec ${shQuote(workerd)} "$@"`, ''].join('\n'));
  chmodSync(command, 0o755);
  return { dir, command, pidFile };
}

/** startWorker with the heap cap, workerd started through `command`; its pid, checked to be workerd's. */
async function startCappedWorker(
  command: string, pidFile: string, bundlePath: string, bindings: Record<string, string>,
): Promise<{ worker: RunningWorker; pid: number }> {
  const before = { path: process.env.MINIFLARE_WORKERD_PATH, flags: process.env.MINIFLARE_WORKERD_V8_FLAGS };
  process.env.MINIFLARE_WORKERD_PATH = command;
  process.env.MINIFLARE_WORKERD_V8_FLAGS = `--max-heap-size=${HEAP_CAP_MB}`;
  try {
    const worker = await startWorker(bundlePath, bindings);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    if (existsSync(`/proc/${pid}/exe`)) expect(readlinkSync(`/proc/${pid}/exe`)).toMatch(/workerd$/);
    return { worker, pid };
  } finally {
    for (const [name, value] of [['MINIFLARE_WORKERD_PATH', before.path], ['MINIFLARE_WORKERD_V8_FLAGS', before.flags]] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

let heapCap: ReturnType<typeof workerdNotingPid>;
beforeAll(() => void (heapCap = workerdNotingPid()));
afterAll(() => rmSync(heapCap.dir, { recursive: true, force: true }));

/** workerd's stderr arrives a moment after a request fails: wait for the line. */
async function outputLine(worker: RunningWorker, pattern: RegExp): Promise<string | undefined> {
  for (let i = 0; i < 100; i++) {
    const line = worker.otherOutput.find((l) => pattern.test(l));
    if (line) return line;
    await new Promise((r) => setTimeout(r, 20));
  }
  return undefined;
}

describe(`the ${HEAP_CAP_MB} MiB heap cap in workerd`, () => {
  it('is enforced: a Worker that holds more takes workerd down with "Reached heap limit"', async () => {
    // Holds `mb` arrays of 131,072 doubles (1 MiB each, on the V8 heap) until it answers.
    const dir = mkdtempSync(join(tmpdir(), 'sftp-gateway-heap-hog-'));
    const script = join(dir, 'hog.js');
    writeFileSync(script, [
      'export default {',
      '  fetch(request) {',
      "    const mb = Number(new URL(request.url).searchParams.get('mb'));",
      '    const held = [];',
      '    for (let i = 0; i < mb; i++) held.push(new Array(131072).fill(i + 0.5));',
      "    return new Response(`held ${held.length} MiB`);",
      '  },',
      '};',
      '',
    ].join('\n'));
    const { worker } = await startCappedWorker(heapCap.command, heapCap.pidFile, script, {});
    try {
      const under = await fetch(new URL('/?mb=16', worker.url));
      expect(await under.text()).toBe('held 16 MiB');
      await expect(fetch(new URL(`/?mb=${HEAP_CAP_MB + 32}`, worker.url))).rejects.toThrow();
      expect(await outputLine(worker, /Reached heap limit|heap out of memory/)).toBeDefined();
    } finally {
      await worker.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});

describe(`${USERS} SFTP To Go users through the Worker, under the cap`, () => {
  let emu: SftpToGoEmulator;
  let served: ServedEmulator;
  let worker: RunningWorker;
  let pid: number;

  beforeAll(async () => {
    emu = createSftpToGoEmulator();
    emu.seedCredentials(USERS - 1, 'tenkuser'); // and the root credential
    served = await serveSftpToGoEmulator(emu);
    const { configText, secrets } = workerConfig(API_KEYS.filter((k) => k.name === 'reader'), {
      defaultBackend: 'togo',
      cache: { driver: 'kv', ttlSeconds: 300 },
      backends: {
        togo: {
          provider: 'sftptogo', baseUrl: served.url, timeoutMs: 20_000,
          organizationId: '${SFTPTOGO_ORGANIZATION_ID}', apiKey: '${SFTPTOGO_API_KEY}',
        },
      },
    });
    secrets.SFTPTOGO_ORGANIZATION_ID = SFTPTOGO_EMULATOR_DEFAULTS.organizationId;
    secrets.SFTPTOGO_API_KEY = SFTPTOGO_EMULATOR_DEFAULTS.apiKey;
    const built = await buildWorkerForTest();
    ({ worker, pid } = await startCappedWorker(heapCap.command, heapCap.pidFile, built.bundlePath, { GATEWAY_CONFIG: configText, ...secrets }));
    expect((await call('/v1/backends')).status).toBe(200);
  }, 60_000);

  afterAll(async () => {
    await worker?.dispose();
    await served?.close();
  });

  /** A request to the Worker; when workerd gives no answer, the error says why (its fatal line). */
  async function call(path: string, headers: Record<string, string> = {}) {
    try {
      return await fetch(new URL(path, worker.url), { headers: { authorization: `Bearer ${KEYS.reader}`, ...headers } });
    } catch (err) {
      const fatal = await outputLine(worker, /fatal/);
      throw new Error(`no answer to ${path.slice(0, 60)}: ${(err as Error).message}; workerd: ${fatal ?? 'no fatal error'}`);
    }
  }

  async function page(path: string, headers: Record<string, string> = {}) {
    const res = await call(path, headers);
    const text = await res.text();
    expect(res.status, text.slice(0, 300)).toBe(200);
    const body = JSON.parse(text) as { data: { id: string }[]; nextCursor: string | null };
    return { cache: res.headers.get('x-cache'), ids: body.data.map((u) => u.id), nextCursor: body.nextCursor };
  }

  /** The emulator's list calls since its log was cleared (SFTP To Go has only the unpaged one). */
  const upstreamListCalls = () => emu.requests.filter((r) => r.method === 'GET' && r.path.endsWith('/users')).length;

  /** workerd is the process it was, and wrote no fatal error. */
  function expectWorkerdAlive() {
    expect(() => process.kill(pid, 0)).not.toThrow();
    expect(worker.otherOutput.filter((l) => /heap limit|out of memory|fatal/i.test(l))).toEqual([]);
  }

  it(`lists all ${USERS} in pages of ${PAGE}, each once, from one upstream call`, async () => {
    expect(emu.credentials.size).toBe(USERS);
    emu.clearRequests();

    const first = await page(`/v1/users?limit=${PAGE}`);
    expect(first.cache).toBe('MISS');
    expect(upstreamListCalls()).toBe(1);

    const seen = new Map<string, number>();
    const sizes: number[] = [];
    let current = first;
    for (;;) {
      sizes.push(current.ids.length);
      for (const id of current.ids) seen.set(id, (seen.get(id) ?? 0) + 1);
      if (current.nextCursor === null) break;
      expect(sizes.length).toBeLessThan(USERS / PAGE + 1); // a cursor that never ends fails here
      current = await page(`/v1/users?limit=${PAGE}&cursor=${current.nextCursor}`);
    }

    expect(sizes).toHaveLength(USERS / PAGE);
    const allButLast = sizes.slice(0, -1);
    expect(allButLast).toEqual(allButLast.map(() => PAGE));
    expect(sizes.at(-1)).toBeGreaterThan(0);
    expect(sizes.at(-1)).toBeLessThanOrEqual(PAGE);
    expect(seen.size).toBe(USERS);
    expect([...seen].filter(([, times]) => times > 1)).toEqual([]);
    expect([...seen.keys()].sort()).toEqual([...emu.credentials.keys()].sort());
    // Every later page was cut from the list in the cache.
    expect(upstreamListCalls()).toBe(1);
    expectWorkerdAlive();
  }, 45_000);

  it('reloads the whole list from SFTP To Go on Cache-Control: no-cache', async () => {
    emu.clearRequests();
    const reloaded = await page(`/v1/users?limit=${PAGE}`, { 'cache-control': 'no-cache' });
    expect(reloaded.cache).toBe('MISS');
    expect(reloaded.ids).toHaveLength(PAGE);
    expect(reloaded.nextCursor).not.toBeNull();
    expect(upstreamListCalls()).toBe(1);
    expectWorkerdAlive();
  }, 30_000);
});
