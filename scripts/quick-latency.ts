/**
 * A quick latency check (not the benchmark): serves an emulator, or a gateway in front of one,
 * on loopback, for autocannon to hit from another process. Each runs in its own process.
 *
 *   tsx scripts/quick-latency.ts emulator sftpgo|sftptogo USERS
 *   tsx scripts/quick-latency.ts gateway  sftpgo|sftptogo UPSTREAM_URL memory|redis|redis-down|none
 *
 * Prints one JSON line with the URL(s) to hit, then serves until SIGTERM.
 */
import { serve } from '@hono/node-server';
import { createSftpgoEmulator, serveSftpgoEmulator } from '../adapters/sftpgo/emulator.js';
import { createSftpToGoEmulator, serveSftpToGoEmulator } from '../adapters/sftptogo/emulator.js';
import { createApp } from '../src/app.js';
import { createMemoryStore, noStore, type CacheStore } from '../src/cache.js';
import { createRedisStore } from '../src/cache-redis.js';
import { parseConfig } from '../src/config.js';
import { ListCache } from '../src/list-cache.js';
import { createNodeLogger } from '../src/logger-node.js';
import { createAdapters } from '../src/providers.js';

const [role, provider, arg, driver] = process.argv.slice(2) as [string, 'sftpgo' | 'sftptogo', string, string];
const KEY = 'bench-key-0123456789abcdef';
const ORG = 'bench-org';

async function serveEmulator(): Promise<void> {
  const users = Number(arg);
  if (provider === 'sftpgo') {
    const emu = createSftpgoEmulator();
    emu.seedUsers(users, 'user');
    const served = await serveSftpgoEmulator(emu, 0);
    console.log(JSON.stringify({ url: served.url, list: `${served.url}/api/v1/user?limit=100` }));
  } else {
    const emu = createSftpToGoEmulator({ apiKey: KEY, organizationId: ORG });
    emu.seedCredentials(users - 1, 'benchuser'); // plus the root credential
    const served = await serveSftpToGoEmulator(emu, 0);
    console.log(JSON.stringify({ url: served.url, list: `${served.url}/organizations/${ORG}/users` }));
  }
}

function storeFor(name: string): CacheStore {
  if (name === 'memory') return createMemoryStore();
  if (name === 'redis') return createRedisStore({ url: 'redis://127.0.0.1:6379/0' });
  if (name === 'redis-down') return createRedisStore({ url: 'redis://127.0.0.1:1/0' }); // nothing listens there
  return noStore;
}

async function serveGateway(): Promise<void> {
  const backend = provider === 'sftpgo'
    ? { provider, baseUrl: arg, sftpHost: 'sftp.example.com' }
    : { provider, baseUrl: arg, organizationId: ORG, apiKey: KEY };
  const config = parseConfig(JSON.stringify({
    auth: { apiKeys: [{ name: 'bench', key: KEY, scopes: ['read'] }] },
    backends: { b: backend },
  }), {});
  const cache = new ListCache(storeFor(driver), {
    ttlSeconds: 300, keyPrefix: `quick:${process.pid}:`, logger: createNodeLogger({ level: 'silent' }),
  });
  const { app } = createApp({
    config, adapters: createAdapters(config.backends), cache,
    logger: createNodeLogger({ level: 'info', destination: { write: () => {} } }),
  });
  serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info) => {
    console.log(JSON.stringify({ list: `http://127.0.0.1:${info.port}/v1/users?limit=100` }));
  });
}

process.on('SIGTERM', () => process.exit(0));
await (role === 'emulator' ? serveEmulator() : serveGateway());
