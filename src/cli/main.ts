/**
 * The `sftp-gateway` command. Each subcommand imports its code when it runs, so `--help` and
 * `users …` load commander and fetch only: never the server, Redis, prom-client or the emulators.
 * Exit codes: 0 done, 1 failed (a bad config, an error answer, an unreachable gateway), 2 bad usage.
 *
 * @example
 * sftp-gateway check-config --config gateway.json
 * sftp-gateway migrate --config gateway.json --from onprem --to togo --dry-run
 * SFTP_GATEWAY_API_KEY=… sftp-gateway users list --json
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import pkg from '../../package.json' with { type: 'json' };
import { CliError } from './cli-error.js';
import type { GatewayTarget } from './gateway-client.js';
import type { MigrateOptions } from './migrate.js';

const out = (text: string) => void process.stdout.write(text);

/** An argument parser for whole numbers from `min` to `max`: anything else is a usage error. */
function wholeNumber(min: number, max: number) {
  return (text: string): number => {
    const n = Number(text);
    if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`Expected a whole number from ${min} to ${max}.`);
    }
    return n;
  };
}

const port = wholeNumber(0, 65_535);

// Each command is made with its parent's `.command()`, which hands down the exit and help settings.

function addCheckConfig(program: Command): void {
  program.command('check-config')
    .description('validate a gateway config file and its environment as the gateway does at start (nothing is started or contacted)')
    .option('--config <file>', 'the config file (default: $GATEWAY_CONFIG)')
    .addHelpText('after', '\nPrints "ok: N backends (…)" and exits 0, or "config error: <field>: <reason>" on stderr and exits 1.\n' +
      'Reads ${NAME} variables, PORT, HOST, SHUTDOWN_GRACE_MS and LOG_LEVEL from the environment, as the gateway does.\n' +
      'Credentials are not tried: GET /v1/backends/<name> checks a running gateway\'s upstream.')
    .action(async (opts: { config?: string }) => {
      const { checkConfigCommand: run } = await import('./check-config.js');
      out(`${await run(opts.config, process.env)}\n`);
    });
}

function addEmulators(program: Command): void {
  program.command('emulators')
    .description('run the SFTP To Go and SFTPGo (API v1 and v2) emulators on loopback, with seeded users, until Ctrl-C')
    .option('--host <address>', 'a loopback address to listen on', '127.0.0.1')
    .option('--sftptogo-port <port>', 'SFTP To Go emulator port (0: any free one)', port, 0)
    .option('--sftpgo-port <port>', 'SFTPGo 1.2.2 (API v1) emulator port (0: any free one)', port, 0)
    .option('--sftpgo-v2-port <port>', 'SFTPGo 2.7.5 (API v2) emulator port (0: any free one)', port, 0)
    .option('--users <n>', 'users to seed in each emulator', wholeNumber(0, 10_000), 3)
    .option('--json', 'print the URLs and the gateway config as one JSON object')
    .addHelpText('after', '\nPrints each emulator\'s URL and a gateway config that reaches them (its API key is read from\n' +
      '$SFTP_GATEWAY_API_KEY when the gateway starts), then runs until SIGINT or SIGTERM and exits 0.')
    .action(async (opts: { host: string; sftptogoPort: number; sftpgoPort: number; sftpgoV2Port: number; users: number; json?: boolean }) => {
      // Handled before anything is printed: a caller may signal as soon as it reads the URLs.
      const stopped = new Promise<string>((resolve) => {
        process.once('SIGINT', () => resolve('SIGINT'));
        process.once('SIGTERM', () => resolve('SIGTERM'));
      });
      const { describeEmulators, startEmulators } = await import('./emulators.js');
      const running = await startEmulators(opts);
      const { emulators, config } = running;
      out(opts.json ? `${JSON.stringify({ emulators, config }, null, 2)}\n` : describeEmulators(running));
      process.stderr.write('Running: stop with Ctrl-C (SIGINT) or SIGTERM.\n');
      const signal = await stopped;
      await running.close();
      process.stderr.write(`${signal}: emulators stopped\n`);
    });
}

/** `users` and its subcommands; `--url`, `--backend` and `--json` apply to each. */
function addUsers(program: Command): void {
  const users = program.command('users')
    .description('list, read, create users and rotate passwords through a running gateway')
    .option('--url <url>', 'the gateway (default: $SFTP_GATEWAY_URL or http://127.0.0.1:8080)')
    .option('--backend <name>', 'a named backend (/v1/backends/<name>/…) instead of the default one')
    .option('--json', 'print JSON for scripts instead of a table')
    .addHelpText('after', '\nThe API key is read from $SFTP_GATEWAY_API_KEY (never a flag: it would stay in shell history).\n' +
      'An error answer prints its title, detail and field errors on stderr and exits 1.');
  const target = async (cmd: Command): Promise<GatewayTarget> => {
    const { gatewayTarget } = await import('./gateway-client.js');
    return gatewayTarget(cmd.optsWithGlobals<{ url?: string; backend?: string }>(), process.env);
  };
  const json = (cmd: Command) => ({ json: cmd.optsWithGlobals<{ json?: boolean }>().json ?? false });

  users.command('list')
    .description('every user, page after page (nextCursor followed to the end)')
    .option('--limit <n>', 'users per page (1..500; the gateway\'s default is 100)', wholeNumber(1, 500))
    .addOption(new Option('--status <status>', 'only users with this status').choices(['active', 'disabled']))
    .option('--username <name>', 'only the user with this exact username')
    .addOption(new Option('--order <order>', 'by username').choices(['asc', 'desc']))
    .option('--max <n>', 'stop after this many users', wholeNumber(1, Number.MAX_SAFE_INTEGER))
    .action(async (opts: { limit?: number; status?: string; username?: string; order?: string; max?: number }, cmd: Command) => {
      const { listUsers } = await import('./users.js');
      await listUsers(await target(cmd), { ...opts, ...json(cmd) }, out);
    });

  users.command('get')
    .description('one user')
    .argument('<id>', 'the user\'s id (SFTPGo API v2: its username)')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const { getUser } = await import('./users.js');
      await getUser(await target(cmd), id, json(cmd), out);
    });

  users.command('create')
    .description('create a user; without --password the gateway generates one, printed once')
    .argument('<username>')
    .addOption(new Option('--access-level <level>', 'what the user may do')
      .choices(['none', 'read-only', 'write-only', 'read-write', 'full']))
    .option('--password <password>', 'a password of your choice (it stays in shell history; omit it to have one generated)')
    .option('--display-name <text>', 'a display name (where the provider has one)')
    .option('--home-directory <path>', 'an absolute home directory')
    .action(async (username: string, opts: { accessLevel?: string; password?: string; displayName?: string; homeDirectory?: string }, cmd: Command) => {
      const { createUser } = await import('./users.js');
      await createUser(await target(cmd), username, { ...opts, ...json(cmd) }, out);
    });

  users.command('rotate-password')
    .description('give a user a new generated password, printed once')
    .argument('<id>', 'the user\'s id (SFTPGo API v2: its username)')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const { rotatePassword } = await import('./users.js');
      await rotatePassword(await target(cmd), id, json(cmd), out);
    });
}

function addMigrate(program: Command): void {
  program.command('migrate')
    .description('move the users of one configured backend to another, straight to the upstreams (plan, run, resume, verify)')
    .option('--config <file>', 'the gateway config file (default: $GATEWAY_CONFIG)')
    .requiredOption('--from <backend>', 'the backend to read users from (only read)')
    .requiredOption('--to <backend>', 'the backend to create them on')
    .option('--only <usernames>', 'only these source users, comma-separated')
    .addOption(new Option('--dry-run', 'print the plan and change nothing').conflicts('verify'))
    .option('--verify', 'compare the target with what a run makes of each source user; exit 1 unless all are the same')
    .option('--narrow', 'give a permission set the target cannot store its nearest narrower level, instead of skipping the user')
    .option('--accept-widening', 'migrate a user even when a field lost on the way widens its access (no expiry, any address)')
    .option('--concurrency <n>', 'users created at once (1..16)', wholeNumber(1, 16), 4)
    .option('--state <file>', 'the run\'s state file (default: ./sftp-gateway-migration.<from>.<to>.jsonl)')
    .option('--json', 'print the plan, report or verification as JSON instead of a table')
    .addHelpText('after', '\nA run prints a report on stdout (a table, or JSON with --json) holding each generated password:\n' +
      'it is shown only then. Progress, warnings and audit events go to stderr.\n' +
      'A run stopped anywhere (Ctrl-C, SIGTERM, a killed process) finishes when the same command runs again:\n' +
      'its state file says which users were made, and which may be half-made (deleted and made anew).\n' +
      'Exit codes: 0 done (the run complete, the target verified), 1 not (users failed or pending, differences, an error), 2 bad usage.')
    .action(async (opts: MigrateOptions) => {
      const { migrateCommand } = await import('./migrate.js');
      process.exitCode = await migrateCommand(opts, {
        env: process.env, out, err: process.stderr, signals: process, exit: (code) => process.exit(code),
      });
    });
}

export function buildProgram(): Command {
  const program = new Command('sftp-gateway')
    .description('The sftp-gateway command line: check a config, run the provider emulators, manage users through a gateway, migrate users between backends.')
    .version(pkg.version, '-V, --version')
    // Thrown rather than exited, so usage errors exit 2 (commander's own code is 1).
    .exitOverride()
    .showHelpAfterError('(add --help for usage)')
    .configureHelp({ showGlobalOptions: true });
  addCheckConfig(program);
  addEmulators(program);
  addUsers(program);
  addMigrate(program);
  return program;
}

/** Runs the command line and sets the exit code; errors are one message on stderr, never a stack trace. */
export async function run(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander has printed its message (or the help or version) already.
      process.exitCode = err.exitCode === 0 ? 0 : 2;
    } else if (err instanceof CliError) {
      process.stderr.write(`${err.message}\n`);
      process.exitCode = err.exitCode;
    } else {
      process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    }
  }
}

await run(process.argv);
