/**
 * pino for Node: the same line shape and redaction as src/logger.ts's JSON logger, with pino's
 * speed and synchronous stdout. Node only: the Workers entry never imports this file.
 */
import { pino } from 'pino';
import { REDACT_PATHS, REDACTED, type Logger, type LoggerOptions } from './logger.js';

export type { Logger, LoggerOptions } from './logger.js';

/** @example createNodeLogger({ level: 'debug' }).child({ requestId: 'r1' }).info({ status: 200 }, 'request') */
export function createNodeLogger(opts: LoggerOptions = {}): Logger {
  return pino(
    {
      level: opts.level ?? 'info',
      base: { service: 'sftp-gateway' },
      redact: { paths: REDACT_PATHS, censor: REDACTED },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    // Synchronous stdout: lines stay in order and none is lost at exit (async sonic-boom reordered
    // the last lines of a shutdown in our tests).
    (opts.destination as pino.DestinationStream | undefined) ?? pino.destination({ dest: 1, sync: true }),
  );
}
