/**
 * A quick latency check (not the benchmark): serves the SFTPGo emulator with 100 users and a
 * gateway in front of it (cache `none`, so every list is a pass-through), both on loopback,
 * for autocannon to hit from a separate process. Prints the two URLs, then waits for SIGTERM.
 */
import { serve } from '@hono/node-server';
import { createSftpgoEmulator, serveSftpgoEmulator } from '../adapters/sftpgo/emulator.js';
import { createApp } from '../src/app.js';
import { createMemoryStore, noStore } from '../src/cache.js';
import { ListCache } from '../src/list-cache.js';
import { parseConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { createAdapters } from '../src/providers.js';

// `emulator` serves only the upstream; otherwise argv[3] is its URL and only the gateway runs,
// so the two never share a process (or a core's event loop).
if (process.argv[2] === 'emulator') {
  const emu = createSftpgoEmulator();
  emu.seedUsers(100, 'user');
  const served = await serveSftpgoEmulator(emu, 0);
  console.log(JSON.stringify({ upstream: served.url }));
  process.on('SIGTERM', () => void served.close().then(() => process.exit(0)));
  await new Promise(() => {});
}
const upstream = { url: process.argv[3]!, close: async () => {} };
const cacheDriver = process.argv[2] === 'memory' ? 'memory' : 'none';
const config = parseConfig(JSON.stringify({
  auth: { apiKeys: [{ name: 'bench', key: 'bench-key-0123456789abcdef', scopes: ['read'] }] },
  cache: { driver: cacheDriver },
  backends: { onprem: { provider: 'sftpgo', baseUrl: upstream.url, sftpHost: 'sftp.example.com' } },
}), {});
const { app } = createApp({
  config,
  adapters: createAdapters(config.backends),
  cache: new ListCache(cacheDriver === 'memory' ? createMemoryStore() : noStore, { ttlSeconds: 30, keyPrefix: '', logger: createLogger({ level: 'silent' }) }),
  logger: createLogger({ level: 'info', destination: { write: () => {} } }),
});
const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info) => {
  console.log(JSON.stringify({ upstream: `${upstream.url}/api/v1/user?limit=100`, gateway: `http://127.0.0.1:${info.port}/v1/users?limit=100` }));
});
process.on('SIGTERM', () => { server.close(); void upstream.close(); process.exit(0); });
