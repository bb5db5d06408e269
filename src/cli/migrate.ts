/**
 * `sftp-gateway migrate`: moves the users of one configured backend to another, straight to the
 * upstreams (no gateway running), with the config file the gateway starts with. `--dry-run`
 * prints the plan, `--verify` compares both sides; a run keeps its state in a file, so one
 * stopped anywhere (Ctrl-C, SIGTERM, a kill) finishes when the same command runs again.
 *
 * stdout carries only the plan, the report or the verification (a table, or JSON with --json):
 * progress, warnings and audit events go to stderr. The report is the one place a generated
 * password is ever shown.
 */
import { resolve } from 'node:path';
import { ConfigError, type GatewayConfig } from '../config.js';
import { GatewayError } from '../domain/errors.js';
import { planMigration, type MigrationSide } from '../migration/plan.js';
import { markReported, runMigration } from '../migration/run.js';
import { verifyMigration } from '../migration/verify.js';
import { createNodeAuditSink } from '../node/audit.js';
import { createNodeLogger } from '../node/logger.js';
import { openFileMigrationState } from '../node/migration-file-state.js';
import { runningElsewhere } from '../migration/state.js';
import type { CallContext } from '../provider-kit/adapter.js';
import { backendIdentity, createAdapters } from '../providers.js';
import { checkConfig, configErrorLine, configSource } from './check-config.js';
import { CliError, usageError } from './cli-error.js';
import { formatPlan, formatReport, formatVerification, unknownLine } from './migrate-output.js';
import { createProgress, type Progress, type ProgressStream } from './progress.js';

export interface MigrateOptions {
  config?: string;
  from: string;
  to: string;
  /** `u1,u2`: only these source users. */
  only?: string;
  dryRun?: boolean;
  verify?: boolean;
  narrow?: boolean;
  acceptWidening?: boolean;
  concurrency: number;
  state?: string;
  json?: boolean;
}

export interface MigrateIo {
  env: NodeJS.ProcessEnv;
  out: (text: string) => void;
  err: ProgressStream;
  /** Where the run listens for SIGINT and SIGTERM. */
  signals: Pick<NodeJS.Process, 'on' | 'off'>;
  /** Ends the process at once (a second signal). */
  exit: (code: number) => never;
}

/** The audit sink's pending events get this long before the command exits. */
const AUDIT_CLOSE_MS = 5_000;
const RESUME = 'run the same command again to resume: users already made are left as they are';

/** `sftp-gateway-migration.onprem.togo.jsonl`, in the current directory. */
export const defaultStatePath = (from: string, to: string) => `sftp-gateway-migration.${from}.${to}.jsonl`;

/** `a, b,,c` → `['a', 'b', 'c']`; undefined when not given. */
export function usernamesOf(only: string | undefined): string[] | undefined {
  if (only === undefined) return undefined;
  const names = only.split(',').map((n) => n.trim()).filter((n) => n !== '');
  if (names.length === 0) throw usageError('--only needs at least one username');
  return names;
}

async function readConfig(flag: string | undefined, env: NodeJS.ProcessEnv): Promise<GatewayConfig> {
  try {
    return await checkConfig(configSource(flag, env), env);
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(configErrorLine(err));
    throw err;
  }
}

function checkBackends(config: GatewayConfig, from: string, to: string): void {
  const names = Object.keys(config.backends);
  for (const [flag, name] of [['--from', from], ['--to', to]] as const) {
    if (!names.includes(name)) throw usageError(`${flag}: no backend "${name}" in the config (configured: ${names.join(', ')})`);
  }
  if (from === to) throw usageError(`--from and --to name the same backend "${from}": a migration needs two`);
}

/**
 * Runs the command; answers its exit code (0: done and complete / verified, 1: not).
 *
 * @example process.exitCode = await migrateCommand({ from: 'onprem', to: 'togo', concurrency: 4 }, io)
 */
export async function migrateCommand(opts: MigrateOptions, io: MigrateIo): Promise<number> {
  const usernames = usernamesOf(opts.only);
  const config = await readConfig(opts.config, io.env);
  checkBackends(config, opts.from, opts.to);

  const progress = createProgress(io.err);
  // Warnings only, through the progress writer (never inside its bar); pino's redaction keeps secrets out.
  const logger = createNodeLogger({ level: 'warn', destination: { write: (line: string) => progress.line(line) } });
  const ctx: CallContext = { requestId: `cli-migrate-${crypto.randomUUID()}`, logger };
  const adapters = createAdapters(config.backends);
  const source: MigrationSide = { name: opts.from, adapter: adapters.get(opts.from)! };
  const target: MigrationSide = { name: opts.to, adapter: adapters.get(opts.to)! };
  const policy = { narrow: opts.narrow ?? false, acceptWidening: opts.acceptWidening ?? false };
  const print = (text: string, json: unknown) => io.out(opts.json ? `${JSON.stringify(json, null, 2)}\n` : text);

  if (opts.dryRun) {
    const plan = await planMigration(source, target, { usernames, ...policy }, ctx);
    print(formatPlan(plan), plan);
    return 0;
  }
  if (opts.verify) {
    const verification = await verifyMigration(source, target, { usernames, ...policy }, ctx);
    print(formatVerification(verification), verification);
    return verification.ok ? 0 : 1;
  }
  return run({ opts, io, config, source, target, usernames, policy, ctx, progress, print });
}

interface Running {
  opts: MigrateOptions;
  io: MigrateIo;
  config: GatewayConfig;
  source: MigrationSide;
  target: MigrationSide;
  usernames: string[] | undefined;
  policy: { narrow: boolean; acceptWidening: boolean };
  ctx: CallContext;
  progress: Progress;
  print: (text: string, json: unknown) => void;
}

async function run(r: Running): Promise<number> {
  const { opts, io, config, ctx, progress } = r;
  const identity = `${backendIdentity(opts.from, config.backends[opts.from]!)}>${backendIdentity(opts.to, config.backends[opts.to]!)}`;
  const state = openFileMigrationState(resolve(opts.state ?? defaultStatePath(opts.from, opts.to)), { from: opts.from, to: opts.to, identity });
  // The config's audit sink; one on stdout writes into the logger's stream, which is stderr here.
  const audit = createNodeAuditSink(config.audit, ctx.logger);

  const stop = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (stop.signal.aborted) {
      progress.end();
      io.err.write(`${signal} again: stopping now; ${RESUME}\n`);
      io.exit(1);
    }
    stop.abort();
    progress.line(`${signal}: stopping — the users being created finish, the rest stay pending (${signal} again stops at once)\n`);
  };
  io.signals.on('SIGINT', onSignal);
  io.signals.on('SIGTERM', onSignal);
  progress.line(`migrate ${opts.from} → ${opts.to}: reading both backends (state: ${state.path})\n`);
  try {
    const report = await runMigration(r.source, r.target, {
      usernames: r.usernames, ...r.policy, concurrency: opts.concurrency, signal: stop.signal,
    }, { ctx, state, audit: { sink: audit, apiKey: 'cli' }, progress: progress.user });
    progress.end();
    r.print(formatReport(report), report);
    await markReported(report, state);
    // Names in --only the source lacks: said on stderr, where a script's JSON reader does not look.
    if (report.unknownUsernames.length > 0) io.err.write(`warning: ${unknownLine(report.unknownUsernames, opts.from)}`);
    if (report.summary.generatedPasswords > 0) {
      io.err.write(`${report.summary.generatedPasswords} generated password${report.summary.generatedPasswords === 1 ? ' is' : 's are'} ` +
        `in the report on stdout: ${report.summary.generatedPasswords === 1 ? 'it is' : 'they are'} shown only now and must be stored now\n`);
    }
    const { pending, failed } = report.summary.outcomes;
    if (pending > 0) io.err.write(`stopped: ${pending} users pending${failed > 0 ? `, ${failed} failed` : ''}; ${RESUME}\n`);
    else if (failed > 0) io.err.write(`incomplete: ${failed} users failed; ${RESUME}\n`);
    return report.complete ? 0 : 1;
  } catch (err) {
    progress.end();
    // Another run holds the pair: say where, for the rare lock whose process id was reused.
    if (err instanceof GatewayError && err.message === runningElsewhere(opts.from, opts.to).message) {
      const pid = state.holder();
      throw new CliError(`error: ${err.message} (${pid !== undefined ? `process ${pid}, ` : ''}lock file ${state.lockPath})`);
    }
    throw err;
  } finally {
    io.signals.off('SIGINT', onSignal);
    io.signals.off('SIGTERM', onSignal);
    if (!(await audit.close(AUDIT_CLOSE_MS))) io.err.write('warning: some audit events could not be delivered\n');
  }
}
