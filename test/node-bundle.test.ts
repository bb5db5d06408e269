/**
 * The Node bundle `npm start` runs: a configured start loads no emulator — demo mode's emulators
 * are imported lazily (src/node/demo.ts) and live in chunks of their own. Run as `npm start` runs
 * it, it serves swagger-ui's files for /docs from the installed package.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
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

  it("serves /docs and swagger-ui's files from node_modules when run with plain node", async () => {
    const { GATEWAY_CONFIG: _config, NODE_ENV: _env, ...inherited } = process.env;
    const child = spawn(process.execPath, [built.entry, '--demo-if-unconfigured'], { env: { ...inherited, PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const url = await listeningUrl(child.stdout!);
      const page = await fetch(`${url}/docs`);
      expect(page.status).toBe(200);
      const html = await page.text();
      const assets = [...html.matchAll(/(?:src|href)="(docs\/assets\/[^"]+)"/g)].map((m) => m[1]!);
      expect(assets.map((a) => a.split('/').pop())).toEqual(['swagger-ui.css', 'swagger-ui-bundle.js', 'docs-init.js']);
      const swaggerUi = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
      for (const asset of assets.slice(0, 2)) {
        const res = await fetch(`${url}/${asset}`, { headers: { 'accept-encoding': 'identity' } });
        expect(res.status, asset).toBe(200);
        expect(res.headers.get('cache-control')).toBe('public, max-age=86400, immutable');
        expect(Buffer.from(await res.arrayBuffer()).equals(readFileSync(join(swaggerUi, asset.split('/').pop()!)))).toBe(true);
      }
      expect((await fetch(`${url}/${assets[2]}`)).status).toBe(200);
    } finally {
      child.kill('SIGTERM');
    }
  }, 30_000);
});

/** The address the entry logs once it listens; its output is read on to the end, so it never blocks. */
function listeningUrl(stdout: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    stdout.on('data', (chunk) => {
      text += String(chunk);
      const url = text.split('\n').slice(0, -1).filter((line) => line.startsWith('{')).map((line) => (JSON.parse(line) as { url?: string }).url).find(Boolean);
      if (url) resolve(url);
    });
    stdout.on('end', () => reject(new Error(`the entry ended before listening:\n${text}`)));
  });
}
