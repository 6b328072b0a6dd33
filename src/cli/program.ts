import { Command, CommanderError } from 'commander';
import { registerCommands } from './commands';
import { CommandContext, type CommandContextOptions } from './context';
import { CliError } from './errors';

/**
 * The `broadsheet` program. Exit codes: 0 success, 1 failure (one line on stderr), 2 bad usage
 * (unknown command or option, a missing or malformed argument). `--json` is accepted by every command.
 */
export function buildProgram(ctx: CommandContext): Command {
  const program = new Command('broadsheet')
    .description('Broadsheet: cited, AI-written stories about public discourse, published on the web, in feeds and by email.')
    .option('--json', 'print one JSON document on stdout')
    .option('--verbose', 'print the application log (on stderr)')
    .showHelpAfterError('(run with --help for usage)')
    .hook('preAction', (_, command) => {
      const options = command.optsWithGlobals<{ json?: boolean; verbose?: boolean }>();
      ctx.output.json = Boolean(options.json);
      ctx.verbose = Boolean(options.verbose);
    });
  registerCommands(program, ctx);
  // Every command and subcommand throws instead of exiting, and writes where the context says.
  const visit = (command: Command) => {
    command.exitOverride().configureOutput({ writeOut: (s) => ctx.output.writeOut(s), writeErr: (s) => ctx.output.writeErr(s) });
    command.commands.forEach(visit);
  };
  visit(program);
  return program;
}

/** Runs one command line (without the program name) and resolves with its exit code. */
export async function runCli(argv: string[], options: CommandContextOptions = {}): Promise<number> {
  const ctx = new CommandContext(options);
  try {
    await buildProgram(ctx).parseAsync(argv, { from: 'user' });
    return ctx.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) return exitCodeOf(error);
    // An option's own parser refused its value (e.g. `--at tomorrow`): bad usage, said in one line.
    if (error instanceof CliError) {
      ctx.output.failure(error.message, error.code);
      return error.exitCode;
    }
    throw error;
  }
}

function exitCodeOf(error: CommanderError): number {
  // --help and --version are not failures; everything else commander rejects is bad usage.
  if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return 0;
  // `commander.help` with exit code 0 is `broadsheet help`; otherwise a command group was given no subcommand.
  if (error.code === 'commander.help') return error.exitCode === 0 ? 0 : 2;
  return 2;
}
