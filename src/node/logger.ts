/**
 * pino for Node: the same line shape and redaction as src/observability/logger.ts's JSON logger, with pino's
 * speed. Node only: the Workers entry never imports this file.
 *
 * Lines are buffered (up to BUFFER_BYTES, at most FLUSH_EVERY_MS late) and written in one system
 * call rather than one per line: on this kind of VM a write(2) per request line cost more CPU than
 * everything else a cache hit does. Order is kept (one stream). On stdout, a reader that stops
 * reading (a stalled pipe) or goes away (a closed one) costs lines, never a request or the exit:
 * see `stdoutDestination`. At exit what is buffered is written; only a SIGKILL can lose the last
 * FLUSH_EVERY_MS of lines.
 */
import { pino } from 'pino';
import { isoFromMs } from '../domain/iso-time.js';
import { REDACT_PATHS, REDACTED, type Logger, type LoggerOptions } from '../observability/logger.js';

export type { Logger, LoggerOptions } from '../observability/logger.js';

const BUFFER_BYTES = 8 * 1024; // sonic-boom wants it under its 16 KiB maxWrite
const FLUSH_EVERY_MS = 200;

/** @example createNodeLogger({ level: 'debug' }).child({ requestId: 'r1' }).info({ status: 200 }, 'request') */
export function createNodeLogger(opts: LoggerOptions = {}): Logger {
  return rootLogger(opts);
}

/**
 * The logger, and one for the per-request line that skips redaction (src/http/app.ts's `requestLogger`):
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
    (opts.destination as pino.DestinationStream | undefined) ?? stdoutDestination(),
  );
}

/** Lines waiting for a reader that does not read are dropped beyond this, not held in memory. */
const MAX_PENDING_BYTES = 8 * 1024 * 1024;

/** Where the gateway's lines go when they go to a file (the benchmark's), buffered as the file's header says. */
export function bufferedDestination(dest: number | string): pino.DestinationStream {
  // periodicFlush: a quiet gateway still shows its lines within FLUSH_EVERY_MS (sonic-boom unrefs the timer).
  return pino.destination({ dest, sync: false, minLength: BUFFER_BYTES, periodicFlush: FLUSH_EVERY_MS });
}

/** A pino destination with what pino's exit hook calls. */
export interface LineDestination {
  write(line: string): void;
  /** Writes what is buffered now (pino calls it at exit). Never blocks on a reader. */
  flushSync(): void;
  /** Lines dropped because the reader did not keep up, or was gone. */
  readonly dropped: number;
}

/**
 * stdout, batched. Written through `process.stdout` — libuv's non-blocking pipe writes on the event
 * loop — rather than a write(2) on the inherited fd from a worker thread: a pipe whose reader has
 * stopped reading blocks such a write for ever, and a stuck worker thread holds the process at
 * exit (libuv joins its threads). So a stalled or closed stdout drops lines (beyond
 * MAX_PENDING_BYTES queued) and never stops a request or the shutdown.
 *
 * @example pino({}, stdoutDestination())
 */
export function stdoutDestination(out: NodeJS.WritableStream & { writableLength?: number } = process.stdout): LineDestination {
  let pending = '';
  let broken = false;
  let dropped = 0;
  // EPIPE and the like: the reader is gone; what follows is dropped.
  out.on('error', () => (broken = true));
  const flush = () => {
    if (pending === '') return;
    const chunk = pending;
    pending = '';
    if (broken || (out.writableLength ?? 0) > MAX_PENDING_BYTES) {
      dropped += countLines(chunk);
      return;
    }
    out.write(chunk);
  };
  setInterval(flush, FLUSH_EVERY_MS).unref();
  // At exit (process.exit, a crash): what is buffered goes out now; a pipe with room takes it at
  // once, a full one loses it rather than hold the exit.
  process.on('exit', flush);
  return {
    write(line: string) {
      pending += line;
      if (pending.length >= BUFFER_BYTES) flush();
    },
    flushSync: flush,
    get dropped() {
      return dropped;
    },
  };
}

function countLines(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n += 1;
  return n;
}
