/** A failure the CLI reports as one message on stderr, with its exit code (1: it failed, 2: bad usage). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2 = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** A command line that cannot be run as given: exit 2, as commander's own usage errors. */
export const usageError = (message: string) => new CliError(`error: ${message}`, 2);
