/**
 * The typed client in client/: what `npm run client` generates from openapi.yaml (so it cannot
 * drift), and the README's TypeScript example, type-checked and run against a fresh demo.
 */
import { execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateClient } from '../scripts/client.js';
import { startDemoEntry } from './helpers/node-entry.js';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..');
const EXAMPLE = readFileSync(join(ROOT, 'examples', 'client.ts'), 'utf8');

function filesUnder(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else out.set(relative(dir, path), readFileSync(path, 'utf8'));
    }
  };
  walk(dir);
  return out;
}

describe('client/', () => {
  it('is what `npm run client` generates from openapi.yaml', async () => {
    const fresh = mkdtempSync(join(tmpdir(), 'sftp-gateway-client-'));
    try {
      await generateClient(fresh);
      const generated = filesUnder(fresh);
      const committed = filesUnder(join(ROOT, 'client'));
      expect([...committed.keys()].sort()).toEqual([...generated.keys()].sort());
      for (const [file, text] of generated) expect(committed.get(file), `client/${file} differs: run npm run client`).toBe(text);
    } finally {
      rmSync(fresh, { recursive: true, force: true });
    }
  }, 60_000);

  it('the README shows examples/client.ts as it is', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    expect(readme).toContain(`\`\`\`ts\n${EXAMPLE}\`\`\``);
  });

  it('examples/client.ts type-checks against the client under the project\'s strict settings', async () => {
    const config = join(ROOT, 'tsconfig.client-example.json');
    writeFileSync(config, JSON.stringify({ extends: './tsconfig.json', include: ['client', 'examples'] }));
    try {
      const tsc = await run(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', config, '--noEmit'], { cwd: ROOT })
        .then(() => '', (err: { stdout?: string }) => err.stdout ?? String(err));
      expect(tsc).toBe('');
    } finally {
      rmSync(config, { force: true });
    }
  }, 120_000);
});

describe('examples/client.ts against the demo', () => {
  let gateway: ChildProcess | undefined;
  let url = '';

  beforeAll(async () => {
    ({ child: gateway, url } = await startDemoEntry('client-example'));
}, 120_000);

  afterAll(() => {
    if (gateway?.exitCode === null) gateway.kill('SIGKILL');
  });

  it('creates a user, shows the 409 of a second create, pages through every user and rotates the password', async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', join(ROOT, 'examples', 'client.ts')], {
      cwd: ROOT, env: { ...process.env, SFTP_GATEWAY_URL: url },
    });
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^created acme_[a-z0-9]+ \(id 4\), a generated password of \d+ characters$/);
    expect(lines[1]).toMatch(/^refused: 409 conflict: username "acme_[a-z0-9]+" is already taken$/);
    expect(lines[2]).toMatch(/^users: acme_[a-z0-9]+ \(active\), alice_reports \(active\), bob_backups \(active\), carol_archive \(disabled\)$/);
    expect(lines[3]).toMatch(/^rotated at \d{4}-\d\d-\d\dT[\d:.]+Z: a new password of \d+ characters$/);
  }, 60_000);
});
