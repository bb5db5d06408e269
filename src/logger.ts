/**
 * Structured JSON logs with secrets redacted. pino's `redact` censors these paths wherever a
 * caller passes an object; the request logger never logs bodies, so these are the second line
 * of defence, not the first.
 */
import { pino, type Logger as PinoLogger } from 'pino';

export type Logger = PinoLogger;

export const REDACT_PATHS = [
  'password', '*.password', '*.*.password', 'Password', '*.Password',
  'apiKey', '*.apiKey', '*.*.apiKey', 'key', '*.key', 'authorization', '*.authorization',
  '*.*.authorization', 'Authorization', '*.Authorization', '*.*.Authorization',
  'headers.authorization', 'req.headers.authorization',
];

export interface LoggerOptions {
  level?: string;
  /** Where lines go; a test passes a stream to capture them. Defaults to stdout. */
  destination?: { write(line: string): void };
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  return pino(
    {
      level: opts.level ?? 'info',
      base: { service: 'sftp-gateway' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    // Synchronous stdout: lines stay in order and none is lost at exit (async sonic-boom reordered
    // the last lines of a shutdown in our tests).
    (opts.destination as pino.DestinationStream | undefined) ?? pino.destination({ dest: 1, sync: true }),
  );
}
