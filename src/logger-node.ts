/**
 * pino for Node: the same line shape and redaction as src/logger.ts's JSON logger, with pino's
 * speed. Node only: the Workers entry never imports this file.
 *
 * Lines are buffered (up to BUFFER_BYTES, at most FLUSH_EVERY_MS late) and written in one system
 * call rather than one per line: on this kind of VM a write(2) per request line cost more CPU than
 * everything else a cache hit does. Order is kept (one stream), and pino writes what is buffered
 * synchronously when the process exits, a crash or `process.exit` included; only a SIGKILL can
 * lose the last FLUSH_EVERY_MS of lines.
 */
import { pino } from 'pino';
import { isoFromMs } from './iso-time.js';
import { REDACT_PATHS, REDACTED, type Logger, type LoggerOptions } from './logger.js';

export type { Logger, LoggerOptions } from './logger.js';

const BUFFER_BYTES = 8 * 1024; // sonic-boom wants it under its 16 KiB maxWrite
const FLUSH_EVERY_MS = 200;

/** @example createNodeLogger({ level: 'debug' }).child({ requestId: 'r1' }).info({ status: 200 }, 'request') */
export function createNodeLogger(opts: LoggerOptions = {}): Logger {
  return rootLogger(opts);
}

/**
 * The logger, and one for the per-request line that skips redaction (src/app.ts's `requestLogger`):
 * that line holds only the gateway's own fields (method, route template, status, duration, names
 * from the config, a checked request id), and redaction cost ~10 µs of the ~12 µs of each line.
 * Both write to the same stream, so lines stay in order.
 */
export function createNodeLoggers(opts: LoggerOptions = {}): { logger: Logger; requestLogger: Logger } {
  const logger = rootLogger(opts);
  return { logger, requestLogger: logger.child({}, { redact: [] }) };
}

function rootLogger(opts: LoggerOptions): pino.Logger {
  return pino(
    {
      level: opts.level ?? 'info',
      base: { service: 'sftp-gateway' },
      redact: { paths: REDACT_PATHS, censor: REDACTED },
      // pino's isoTime, with the ISO writer the adapters use (~0.5 µs less per line than toISOString).
      timestamp: () => `,"time":"${isoFromMs(Date.now())}"`,
      formatters: { level: (label) => ({ level: label }) },
    },
    (opts.destination as pino.DestinationStream | undefined) ?? bufferedDestination(1),
  );
}

/** Where the gateway's lines go: stdout (fd 1) or a file, buffered as the file's header says. */
export function bufferedDestination(dest: number | string): pino.DestinationStream {
  // periodicFlush: a quiet gateway still shows its lines within FLUSH_EVERY_MS (sonic-boom unrefs the timer).
  return pino.destination({ dest, sync: false, minLength: BUFFER_BYTES, periodicFlush: FLUSH_EVERY_MS });
}
