/** A command that could not do what was asked: one line on stderr, exit code 1. */
export class CliError extends Error {
  readonly exitCode: number = 1;
  constructor(
    message: string,
    readonly code = 'failed',
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The command line itself is wrong (a bad argument or option value): exit code 2. */
export class UsageError extends CliError {
  override readonly exitCode: number = 2;
  constructor(message: string) {
    super(message, 'bad_usage');
  }
}
