/**
 * A run's progress on stderr. On a terminal: one bar redrawn in place with `\r`; any other line
 * written meanwhile (a warning, an audit event) clears the bar, goes out whole, and the bar is
 * drawn again under it. Elsewhere (a pipe, a file, a CI log): one plain line per user, which a
 * script can follow.
 */
import type { ReportedUser, RunOutcome } from '../migration/report-types.js';
import { cell } from './table.js';

export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface Progress {
  /** A user is done: `done` of `total`. */
  user(done: number, total: number, user: ReportedUser): void;
  /** Any other line (ending in a newline), never cut by the bar. */
  line(text: string): void;
  /** The bar's last state stays on screen; what follows starts on a line of its own. */
  end(): void;
}

const BAR_WIDTH = 24;
/** Outcomes the bar counts, in the order it shows them. */
const SHOWN: readonly RunOutcome[] = ['created', 'exists', 'differs', 'skipped', 'conflict', 'failed'];

/** `[#########---------------] 412/1000  created 400  exists 10  failed 2` */
export function barText(done: number, total: number, counts: Partial<Record<RunOutcome, number>>): string {
  const filled = total === 0 ? BAR_WIDTH : Math.round((done / total) * BAR_WIDTH);
  const tally = SHOWN.filter((o) => (counts[o] ?? 0) > 0).map((o) => `${o} ${counts[o]}`).join('  ');
  return `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${done}/${total}${tally ? `  ${tally}` : ''}`;
}

/** `[12/1000] alice created` (and why a user failed); a stopped run's `pending` users are not listed one by one. */
export function userLine(done: number, total: number, user: ReportedUser): string | undefined {
  if (user.outcome === 'pending') return undefined;
  const why = user.outcome === 'failed' && user.why ? `: ${cell(user.why)}` : '';
  return `[${done}/${total}] ${cell(user.username)} ${user.outcome}${why}\n`;
}

/** @example const progress = createProgress(process.stderr); runMigration(…, { progress: progress.user }) */
export function createProgress(stream: ProgressStream): Progress {
  const tty = stream.isTTY === true;
  const counts: Partial<Record<RunOutcome, number>> = {};
  let bar = '';

  const fit = (text: string) => (stream.columns && text.length >= stream.columns ? text.slice(0, stream.columns - 1) : text);
  // \r, then erase to the end of the line: a shorter bar leaves nothing of a longer one.
  const clear = () => {
    if (bar) stream.write('\r\x1b[K');
  };

  return {
    user(done, total, user) {
      counts[user.outcome] = (counts[user.outcome] ?? 0) + 1;
      if (!tty) {
        const text = userLine(done, total, user);
        if (text) stream.write(text);
        return;
      }
      clear();
      bar = fit(barText(done, total, counts));
      stream.write(bar);
    },
    line(text) {
      if (!tty || !bar) {
        stream.write(text);
        return;
      }
      clear();
      stream.write(text);
      stream.write(bar);
    },
    end() {
      if (tty && bar) stream.write('\n');
      bar = '';
    },
  };
}
