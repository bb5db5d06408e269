import { defineConfig } from 'vitest/config';

/**
 * The Worker is built and run in workerd by wrangler and Miniflare, which need Node 22.12 or later:
 * on Node 20 (which the gateway itself still runs on) those suites are left out, and say so.
 * `.ci/run` runs everything on Node 22 and 24 as well.
 */
const nodeMajor = Number(process.versions.node.split('.')[0]);
const workersRunHere = nodeMajor >= 22;
if (!workersRunHere) {
  process.stderr.write(`test/workers/ left out: wrangler and Miniflare need Node 22.12 or later (this is Node ${process.versions.node})\n`);
}

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'adapters/**/*.test.ts'],
    exclude: ['**/node_modules/**', ...(workersRunHere ? [] : ['test/workers/**'])],
    testTimeout: 15_000,
    hookTimeout: 15_000,
    pool: 'forks',
  },
});
