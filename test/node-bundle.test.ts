/**
 * The Node bundle `npm start` runs: a configured start loads no emulator — demo mode's emulators
 * are imported lazily (src/node/demo.ts) and live in chunks of their own.
 */
import { mkdtempSync } from 'node:fs';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildNodeBundle, staticallyLoaded, type BuiltNode } from '../scripts/build.js';

const isEmulator = (input: string) => /^(adapters\/[^/]+\/emulator\/|src\/provider-kit\/emulator-kit\.ts$)/.test(input);

describe('the Node bundle', () => {
  let built: BuiltNode;
  let entryOutput: string;
  beforeAll(async () => {
    // Inside the project, as npm start's: the bundle's imports of dependencies resolve from node_modules.
    const outdir = mkdtempSync(join(process.cwd(), 'dist', 'bundle-test-'));
    built = await buildNodeBundle(outdir);
    entryOutput = relative(process.cwd(), built.entry);
  }, 60_000);

  it('loads the gateway, both adapters and no emulator at start', () => {
    const loaded = staticallyLoaded(built.metafile, entryOutput);
    for (const f of ['src/node/main.ts', 'src/http/app.ts', 'src/providers.ts', 'adapters/sftpgo/adapter.ts', 'adapters/sftptogo/adapter.ts']) {
      expect(loaded).toContain(f);
    }
    expect(loaded.filter(isEmulator)).toEqual([]);
  });

  it('keeps both emulators in lazily loaded chunks, for demo mode', () => {
    const everything = Object.values(built.metafile.outputs).flatMap((o) => Object.keys(o.inputs));
    expect(everything).toEqual(expect.arrayContaining(['adapters/sftpgo/emulator/emulator.ts', 'adapters/sftptogo/emulator/emulator.ts']));
  });
});
