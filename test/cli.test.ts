/**
 * The `sftp-gateway` command itself: the package's bin, help on every command, the version,
 * usage errors (exit 2), and a start that loads only what the command needs — `users …` never
 * loads the gateway server, Redis, prom-client or the emulators.
 */
import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Metafile } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildCliOnce, runCli, type BuiltCli } from './helpers/cli.js';

const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string; bin: Record<string, string> };
let cli: BuiltCli;
beforeAll(async () => {
  cli = await buildCliOnce('cli');
}, 60_000);

describe('the sftp-gateway command', () => {
  it('is the package\'s bin', () => {
    expect(pkg.bin).toEqual({ 'sftp-gateway': 'bin/sftp-gateway.mjs' });
    expect(readFileSync(pkg.bin['sftp-gateway']!, 'utf8')).toMatch(/^#!\/usr\/bin\/env node\n/);
  });

  it('prints help for every command, and the version from package.json', async () => {
    const top = await runCli(cli.bin, ['--help']);
    expect(top.code).toBe(0);
    for (const name of ['check-config', 'emulators', 'users']) expect(top.stdout).toContain(name);
    for (const args of [['check-config'], ['emulators'], ['users'], ['users', 'list'], ['users', 'get'], ['users', 'create'], ['users', 'rotate-password']]) {
      const help = await runCli(cli.bin, [...args, '--help']);
      expect(help.code, args.join(' ')).toBe(0);
      expect(help.stdout, args.join(' ')).toContain(`Usage: sftp-gateway ${args.join(' ')}`);
    }
    expect((await runCli(cli.bin, ['users', 'list', '--help'])).stdout).toMatch(/--url <url>[\s\S]*SFTP_GATEWAY_URL/);
    const version = await runCli(cli.bin, ['--version']);
    expect(version).toMatchObject({ code: 0, stdout: `${pkg.version}\n` });
  });

  it('exits 2 on a usage error, with a hint', async () => {
    for (const args of [[], ['frobnicate'], ['users', 'get'], ['emulators', '--users', 'many']]) {
      const result = await runCli(cli.bin, args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stdout).toBe('');
    }
    expect((await runCli(cli.bin, ['frobnicate'])).stderr).toMatch(/unknown command 'frobnicate'/);
  });

  it('explains how to build when the bundle is missing', async () => {
    const dir = mkdtempSync(join(process.cwd(), 'dist', 'test', 'cli-unbuilt-'));
    copyFileSync('bin/sftp-gateway.mjs', join(dir, 'sftp-gateway.mjs'));
    const result = await runCli(join(dir, 'sftp-gateway.mjs'), ['--help']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/is not built yet: run `npm run build`/);
  });

  it('loads commander and fetch only for --help and users …: no server, Redis, prom-client, pino or emulator', () => {
    const { metafile } = cli.built;
    const entry = relative(process.cwd(), cli.built.entry);
    const usersChunk = outputOf(metafile, 'src/cli/users.ts');
    const clientChunk = outputOf(metafile, 'src/cli/gateway-client.ts');
    const loaded = [entry, usersChunk, clientChunk].map((o) => staticClosure(metafile, o));
    const inputs = new Set(loaded.flatMap((l) => l.inputs));
    const packages = new Set(loaded.flatMap((l) => l.externals));
    expect([...inputs].filter((f) => !f.startsWith('src/cli/') && f !== 'package.json')).toEqual([]);
    expect([...packages]).toEqual(['commander']);
  });
});

/** The output whose entry point (an entry, or a lazily imported module) is `input`. */
function outputOf(metafile: Metafile, input: string): string {
  const found = Object.entries(metafile.outputs).find(([, o]) => o.entryPoint === input);
  if (!found) throw new Error(`no output for ${input}`);
  return found[0];
}

/** What loading `output` loads: its inputs, its chunks' inputs and the packages they import, dynamic imports left out. */
function staticClosure(metafile: Metafile, output: string): { inputs: string[]; externals: string[] } {
  const seen = new Set<string>();
  const externals = new Set<string>();
  const visit = (path: string) => {
    if (seen.has(path)) return;
    seen.add(path);
    for (const i of metafile.outputs[path]?.imports ?? []) {
      if (i.kind !== 'import-statement') continue;
      if (i.external) {
        if (!i.path.startsWith('node:')) externals.add(i.path);
      } else visit(i.path);
    }
  };
  visit(output);
  return { inputs: [...seen].flatMap((o) => Object.keys(metafile.outputs[o]?.inputs ?? {})), externals: [...externals] };
}
