/**
 * The audit sinks that need Node (src/security/audit.ts has the rest): stdout through the logger's own
 * buffered destination, and an append-only file. Node only: the Workers entry never imports this.
 */
import { appendFile } from 'node:fs/promises';
import { pino } from 'pino';
import { createLineAuditSink, type AuditEvent, type AuditSink } from '../security/audit.js';
import { createHttpAuditSink } from '../security/audit-http.js';
import type { AuditConfig } from '../config.js';
import type { Logger } from '../observability/logger.js';

/**
 * The sink `config.audit` asks for (stdout when absent).
 *
 * @example const audit = createNodeAuditSink(config.audit, logger); createApp({ ..., audit })
 */
export function createNodeAuditSink(config: AuditConfig | undefined, logger: Logger): AuditSink {
  if (!config || config.sink === 'stdout') return createStdoutAuditSink(logger);
  if (config.sink === 'file') return createFileAuditSink(config.path, logger);
  return createHttpAuditSink({ url: config.url, secret: config.secret, logger });
}

interface LineStream {
  write(line: string): unknown;
}

/**
 * Audit lines on stdout, written into the stream the logger writes to (pino's buffered
 * destination, src/node/logger.ts) as whole lines: one stream keeps one order, so an audit line
 * is never split by, or written inside, a log line. A logger that is not pino's (a test's) gets
 * whole-line writes to process.stdout.
 *
 * @example createStdoutAuditSink(logger).emit(event)
 */
export function createStdoutAuditSink(logger: Logger): AuditSink {
  const stream = streamOf(logger) ?? process.stdout;
  return createLineAuditSink((line) => void stream.write(line), logger);
}

/** The destination a pino logger (or a child of one) writes to; children share their root's. */
function streamOf(logger: Logger): LineStream | undefined {
  const stream = (logger as unknown as Partial<Record<symbol, unknown>>)[pino.symbols.streamSym];
  return typeof stream === 'object' && stream !== null && typeof (stream as LineStream).write === 'function'
    ? (stream as LineStream)
    : undefined;
}

export interface FileAuditSinkOptions {
  /** Lines waiting for the file at most; beyond it the oldest are dropped. @default 10000 */
  maxPending?: number;
}

/**
 * Appends each event as a JSON line to `path` (created if missing). Lines that arrive while a
 * write runs go together in the next one; each write opens the file afresh, so a rotated file
 * is simply created again. A failing write is logged once (with the count of lost events once
 * writing works again) and never thrown: the lines of a failed write are lost.
 *
 * @example createFileAuditSink('/var/log/sftp-gateway/audit.jsonl', logger)
 */
export function createFileAuditSink(path: string, logger: Logger, opts: FileAuditSinkOptions = {}): AuditSink {
  const maxPending = opts.maxPending ?? 10_000;
  let pending: string[] = [];
  let writing: Promise<void> | undefined;
  let failing = false;
  let lost = 0;
  let overflowWarned = false;

  async function writeBatch(text: string, count: number): Promise<void> {
    try {
      await appendFile(path, text, 'utf8');
      if (failing) logger.warn({ path, lost }, 'audit: the audit file is written again');
      failing = false;
      overflowWarned = false;
      lost = 0;
    } catch (err) {
      if (!failing) logger.error({ path, err: (err as NodeJS.ErrnoException).code ?? String(err) }, 'audit: cannot append to the audit file; events are lost until it works again');
      failing = true;
      lost += count;
    }
  }

  // Checked at start (an empty append): a path that cannot be written is reported before the first event.
  let probe: Promise<void> | undefined = writeBatch('', 0);

  /** One write at a time, in order; what queued meanwhile goes in the next. */
  function drain(): Promise<void> {
    writing ??= (async () => {
      if (probe) await probe;
      probe = undefined;
      while (pending.length > 0) {
        const batch = pending;
        pending = [];
        await writeBatch(batch.join(''), batch.length);
      }
    })().finally(() => {
      writing = undefined;
      // A line queued between the loop's last look and now.
      if (pending.length > 0) void drain();
    });
    return writing;
  }

  return {
    emit(event: AuditEvent) {
      if (pending.length >= maxPending) {
        pending.shift();
        lost += 1;
        if (!overflowWarned) logger.warn({ path, maxPending }, 'audit: the audit file is too slow, the oldest pending events are dropped');
        overflowWarned = true;
      }
      pending.push(`${JSON.stringify(event)}\n`);
      void drain();
    },
    async close(timeoutMs) {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
      const done = (async () => {
        while (writing || pending.length > 0) await (writing ?? drain());
        return !failing;
      })();
      return Promise.race([done, late]).finally(() => clearTimeout(timer));
    },
  };
}
