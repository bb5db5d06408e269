/**
 * The Node entry: reads GATEWAY_CONFIG (or starts demo mode), serves the app, and shuts down
 * cleanly on SIGINT/SIGTERM. The only file that reads process.env.
 */
import { readFileSync } from 'node:fs';
import { serve } from '@hono/node-server';
import { createApp } from './app.js';
import { createNodeStore } from './cache-factory.js';
import { ConfigError, parseConfig, type GatewayConfig } from './config.js';
import { startDemo } from './demo.js';
import { ListCache } from './list-cache.js';
import { createLogger } from './logger.js';
import { createAdapters } from './providers.js';

function fail(message: string): never {
  process.stderr.write(`${JSON.stringify({ level: 'fatal', service: 'sftp-gateway', msg: message })}\n`);
  process.exit(1);
}

async function main(): Promise<void> {
  const path = process.env.GATEWAY_CONFIG;
  let config: GatewayConfig;
  let demo: Awaited<ReturnType<typeof startDemo>> | undefined;
  try {
    if (path) {
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (err) {
        throw new ConfigError('GATEWAY_CONFIG', `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
      }
      config = parseConfig(text, process.env);
    } else {
      const port = process.env.PORT ? Number(process.env.PORT) : 8080;
      demo = await startDemo({ host: '127.0.0.1', port });
      config = demo.config;
    }
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message);
    throw err;
  }

  const logger = createLogger({ level: process.env.LOG_LEVEL ?? config.logLevel });
  const cache = new ListCache(await createNodeStore(config.cache, logger), {
    ttlSeconds: config.cache.ttlSeconds,
    keyPrefix: config.cache.keyPrefix,
    logger,
  });
  const { app } = createApp({ config, adapters: createAdapters(config.backends), cache, logger });

  const server = serve({ fetch: app.fetch, hostname: config.server.host, port: config.server.port }, (info) => {
    const url = `http://${config.server.host}:${info.port}`;
    if (demo) {
      logger.warn(
        { url, backends: Object.keys(config.backends), auth: 'none' },
        `DEMO MODE: no GATEWAY_CONFIG, so no API keys are checked and both backends are built-in emulators. Listening on ${url}`,
      );
    } else {
      logger.info({ url, backends: Object.keys(config.backends), cache: config.cache.driver }, `listening on ${url}`);
    }
  });
  server.on('error', (err) => fail(`cannot listen on ${config.server.host}:${config.server.port}: ${err.message}`));

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    server.close(async () => {
      await cache.close();
      await demo?.close();
      logger.info('stopped');
      process.exit(0);
    });
    // Idle keep-alive sockets would hold close() open.
    (server as import('node:http').Server).closeIdleConnections?.();
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

void main();
