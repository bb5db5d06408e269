/**
 * The Worker's logger (src/observability/logger.ts, JSON lines through console.log) writes what pino writes on
 * Node (src/node/logger.ts): the same fields, in the same order, with the same redaction.
 */
import { describe, expect, it, vi } from 'vitest';
import { createLogger, redact, REDACT_PATHS, type Logger } from '../../src/observability/logger.js';
import { createNodeLogger } from '../../src/node/logger.js';

/** The lines each logger writes for `calls`, parsed, without `time` (checked apart). */
function bothWrite(level: string, calls: (log: Logger) => void): { pino: unknown[]; worker: unknown[] } {
  const out = { pino: [] as string[], worker: [] as string[] };
  calls(createNodeLogger({ level, destination: { write: (l) => out.pino.push(l) } }));
  calls(createLogger({ level, destination: { write: (l) => out.worker.push(l) } }));
  const parse = (lines: string[]) =>
    lines.map((l) => {
      expect(l.endsWith('\n')).toBe(true);
      const { time, ...rest } = JSON.parse(l) as Record<string, unknown>;
      expect(time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      expect(Math.abs(Date.parse(time as string) - Date.now())).toBeLessThan(60_000);
      return rest;
    });
  // Key order too: compare the serialized objects.
  return { pino: parse(out.pino).map((o) => JSON.stringify(o)), worker: parse(out.worker).map((o) => JSON.stringify(o)) };
}

/** An object with a secret at every redacted path, and look-alikes that must stay. */
function secretsEverywhere(): Record<string, unknown> {
  return {
    password: 'p0', Password: 'p1', apiKey: 'k0', key: 'k1', authorization: 'a0', Authorization: 'a1',
    user: { password: 'p2', Password: 'p3', apiKey: 'k2', key: 'k3', authorization: 'a2', Authorization: 'a3', name: 'kept' },
    backend: { cfg: { password: 'p4', apiKey: 'k4', authorization: 'a4', Authorization: 'a5', port: 22 } },
    headers: { authorization: 'a6', accept: 'kept' },
    req: { headers: { authorization: 'a7' }, url: '/kept' },
    list: [{ password: 'p5' }, { passwordHint: 'kept' }],
    deep: { a: { b: { password: 'not-on-a-path' } } },
  };
}

describe("the Worker's logger matches pino", () => {
  it('the same line for fields, a message, child bindings and every redacted path', () => {
    const { pino, worker } = bothWrite('debug', (log) => {
      const child = log.child({ requestId: 'r-1', key: 'binding-secret' });
      child.info({ method: 'GET', status: 200, ...secretsEverywhere() }, 'request');
      child.warn('plain message');
      log.debug({ n: 1, nothing: undefined, flag: false, none: null });
      log.error({ err: 'a string, not an Error' }, 'failed');
    });
    expect(worker).toEqual(pino);
    expect(worker[0]).toContain('"level":"info"');
    for (const secret of ['p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'k0', 'k1', 'k2', 'k3', 'k4', 'a0', 'a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7', 'binding-secret']) {
      expect(worker.join('\n')).not.toContain(`"${secret}"`);
    }
    expect(worker[0]).toContain('"not-on-a-path"'); // pino redacts only the listed paths, and so do we
  });

  it('errors under `err` as pino serializes them (type, message, stack, own fields)', () => {
    const err = Object.assign(new TypeError('boom'), { code: 'E_BOOM' });
    const { pino, worker } = bothWrite('info', (log) => {
      log.error({ err }, 'unhandled error');
      log.error({ nested: { err } }, 'nested errors are not serialized');
    });
    expect(worker).toEqual(pino);
    expect(JSON.parse(worker[0] as string).err).toEqual({ type: 'TypeError', message: 'boom', stack: err.stack, code: 'E_BOOM' });
  });

  it('levels: below the threshold nothing is written; silent writes nothing', () => {
    const { pino, worker } = bothWrite('warn', (log) => {
      log.debug('no');
      log.info({ a: 1 }, 'no');
      log.warn('yes');
      log.error({ b: 2 }, 'yes');
    });
    expect(worker).toEqual(pino);
    expect(worker).toHaveLength(2);
    expect(bothWrite('silent', (log) => log.error('no')).worker).toEqual([]);
  });

  it('writes one line per call through console.log by default (the Workers log stream)', () => {
    const spy = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      createLogger().child({ requestId: 'r-2' }).info({ status: 204 }, 'request');
      expect(spy).toHaveBeenCalledTimes(1);
      const line = spy.mock.calls[0]![0] as string;
      expect(line).not.toContain('\n');
      expect(JSON.parse(line)).toMatchObject({ level: 'info', service: 'sftp-gateway', requestId: 'r-2', status: 204, msg: 'request' });
    } finally {
      spy.mockRestore();
    }
  });

  it('never throws on what JSON cannot hold (cycles, BigInt)', () => {
    const lines: string[] = [];
    const log = createLogger({ destination: { write: (l) => lines.push(l) } });
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    log.info({ cyclic, big: 10n }, 'odd values');
    expect(JSON.parse(lines[0]!)).toMatchObject({ cyclic: { name: 'loop', self: '[Circular]' }, big: '10' });
  });

  it('refuses an unknown level, as pino does', () => {
    expect(() => createLogger({ level: 'verbose' })).toThrow(/unknown log level "verbose"/);
  });
});

describe('redact', () => {
  it('copies only what it changes, and leaves the input alone', () => {
    const input = secretsEverywhere();
    const before = JSON.stringify(input);
    const out = redact(input, REDACT_PATHS);
    expect(JSON.stringify(input)).toBe(before);
    expect(out).not.toBe(input);
    expect((out as { user: { password: string } }).user.password).toBe('[redacted]');
    expect((out as { deep: unknown }).deep).toBe(input.deep); // untouched branches are shared
    const clean = { a: 1, b: { c: 2 } };
    expect(redact(clean)).toBe(clean);
  });
});
