#!/usr/bin/env node
// The `sftp-gateway` command: runs the CLI bundle that `npm run build` writes (npm ci builds it too, through `prepare`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(entry)) {
  const root = fileURLToPath(new URL('..', import.meta.url));
  process.stderr.write(`sftp-gateway: ${fileURLToPath(entry)} is not built yet: run \`npm run build\` in ${root}\n`);
  process.exit(1);
}
await import(entry.href);
