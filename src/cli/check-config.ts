/**
 * `sftp-gateway check-config`: the checks the Node entry (src/node/main.ts) makes of its config
 * file and environment before it listens, run with the same functions, with nothing started or
 * contacted (no socket, no Redis, no upstream). Messages name fields, never values: a secret
 * never reaches the terminal.
 */
import { readFileSync } from 'node:fs';
import { ConfigError, shutdownGraceMs, type GatewayConfig } from '../config.js';
import { createNodeLogger } from '../node/logger.js';
import { createNodeStore } from '../node/store.js';
import { createAdapters, parseConfig } from '../providers.js';
import { CliError, usageError } from './cli-error.js';

/** What the start would see: the config's path and where it came from. */
export interface ConfigSource {
  path: string;
  /** Named in a read error: `--config` or `GATEWAY_CONFIG`. */
  field: string;
}

/** `--config`, else `GATEWAY_CONFIG`; neither is a usage error. */
export function configSource(flag: string | undefined, env: NodeJS.ProcessEnv): ConfigSource {
  if (flag) return { path: flag, field: '--config' };
  const path = env.GATEWAY_CONFIG?.trim();
  if (path) return { path, field: 'GATEWAY_CONFIG' };
  throw usageError('no config file: pass --config <file> or set GATEWAY_CONFIG');
}

/**
 * Runs every start-up check; returns the parsed config or throws the first ConfigError.
 *
 * @example (await checkConfig({ path: 'gateway.json', field: '--config' }, process.env)).backends
 */
export async function checkConfig(source: ConfigSource, env: NodeJS.ProcessEnv): Promise<GatewayConfig> {
  let text: string;
  try {
    text = readFileSync(source.path, 'utf8');
  } catch (err) {
    throw new ConfigError(source.field, `cannot read ${source.path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  const config = parseConfig(text, env);
  shutdownGraceMs(config, env.SHUTDOWN_GRACE_MS);
  checkLogLevel(env.LOG_LEVEL);
  // The Node store refuses `kv`; a redis store would connect, so only its settings are checked (by the schema).
  if (config.cache.driver !== 'redis') await createNodeStore(config.cache, createNodeLogger({ level: 'silent', destination: discard }));
  // Each adapter's factory checks its backend again, as at start; building one contacts nothing.
  createAdapters(config.backends);
  return config;
}

/**
 * The command: the `ok: …` line, or a CliError whose message is `config error: <field>: <reason>`.
 *
 * @example await checkConfigCommand('gateway.json', process.env) // 'ok: 1 backend (onprem: sftpgo)'
 */
export async function checkConfigCommand(flag: string | undefined, env: NodeJS.ProcessEnv): Promise<string> {
  try {
    return describeConfig(await checkConfig(configSource(flag, env), env));
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(configErrorLine(err));
    throw err;
  }
}

/** `ok: 2 backends (onprem: sftpgo, togo: sftptogo)`, the default backend first. */
export function describeConfig(config: GatewayConfig): string {
  const names = Object.keys(config.backends).sort((a, b) => Number(b === config.defaultBackend) - Number(a === config.defaultBackend));
  const list = names.map((name) => `${name}: ${config.backends[name]!.provider}`).join(', ');
  return `ok: ${names.length} backend${names.length === 1 ? '' : 's'} (${list})`;
}

/** A ConfigError as the command prints it: `config error: <field>: <reason>`. */
export function configErrorLine(err: ConfigError): string {
  return `config error: ${err.message.replace(/^invalid configuration: /, '')}`;
}

const discard = { write: () => {} };

/** The start hands LOG_LEVEL to pino, which throws on a name it does not know. */
function checkLogLevel(level: string | undefined): void {
  if (level === undefined) return;
  try {
    createNodeLogger({ level, destination: discard });
  } catch {
    throw new ConfigError('LOG_LEVEL', 'is not a log level (fatal, error, warn, info, debug, trace or silent)');
  }
}
