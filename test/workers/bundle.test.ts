/**
 * The Worker bundle, as `wrangler deploy` would upload it: nothing Node-only in it, within the
 * size budget, and the check that guards this (scripts/check-worker-bundle.ts, run by
 * `npm run build:worker`) really fails when a Node-only module sneaks in.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildWorker, bundleSize, findForbidden, readMetafile, type BuiltWorker } from '../../scripts/check-worker-bundle.js';
import { buildWorkerForTest } from './harness.js';

const FIXTURE = 'test/workers/fixtures/node-only-entry.ts';
const tempDir = () => mkdtempSync(join(tmpdir(), 'sftp-gateway-bundle-'));

/** The check's command line, as `npm run build:worker` runs it, on an existing metafile. */
function runCheck(metafilePath: string) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'scripts/check-worker-bundle.ts', '--metafile', metafilePath], { encoding: 'utf8' });
}

describe('the Worker bundle', () => {
  let built: BuiltWorker;
  beforeAll(async () => {
    built = await buildWorkerForTest();
  }, 60_000);

  it('holds the Worker entry, the app and both adapters, and no Node-only module', () => {
    const meta = readMetafile(built.metafilePath);
    const inputs = Object.keys(meta.inputs);
    for (const f of ['src/worker/main.ts', 'src/http/app.ts', 'src/worker/kv-store.ts', 'src/observability/logger.ts', 'adapters/sftpgo/adapter.ts', 'adapters/sftptogo/adapter.ts']) {
      expect(inputs).toContain(f);
    }
    expect(findForbidden(meta)).toEqual([]);
    const check = runCheck(built.metafilePath);
    expect(check.stderr).toBe('');
    expect(check.status).toBe(0);
  });

  it('stays under 300 KiB gzip', () => {
    const { raw, gzip } = bundleSize(built.bundlePath);
    expect(gzip).toBeLessThan(300 * 1024);
    expect(raw).toBeGreaterThan(gzip);
  });
});

describe('the bundle check', () => {
  it('fails, naming them, when an entry pulls in ioredis and pino (with nodejs_compat, wrangler would ship it)', async () => {
    const fixture = await buildWorker({ outdir: tempDir(), entry: FIXTURE, compatibilityFlags: ['nodejs_compat'] });
    const findings = findForbidden(readMetafile(fixture.metafilePath));
    const inputs = findings.map((f) => f.input);
    expect(inputs.some((i) => i.startsWith('node_modules/ioredis/'))).toBe(true);
    expect(inputs).toContain('src/node/logger.ts');
    expect(findings.some((f) => /Node built-in "(node:)?net"/.test(f.why))).toBe(true);

    const check = runCheck(fixture.metafilePath);
    expect(check.status).toBe(1);
    expect(check.stderr).toMatch(/Node-only modules in the Worker bundle/);
    expect(check.stderr).toMatch(/node_modules\/ioredis\/.*ioredis needs node:net/);
    expect(check.stderr).toMatch(/src\/node\/logger\.ts/);
  }, 60_000);

  it("without nodejs_compat (wrangler.toml's setting) wrangler refuses such an entry already", async () => {
    await expect(buildWorker({ outdir: tempDir(), entry: FIXTURE })).rejects.toThrow(/nodejs_compat|Could not resolve/);
  }, 60_000);
});
