import { type INestApplicationContext, type LoggerService, type LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from '../app.module';
import { ConfigError, loadConfig, loadConfigFromEnvironment, type AppConfig } from '../kernel/config/config';
import { DomainError } from '../kernel/errors/domain-error';
import { InvalidArgumentError } from 'commander';
import { CliError } from './errors';
import { CliOutput, type OutputStreams } from './output';

/** Nest's log lines on stderr (stdout is for results), warnings and errors only unless --verbose. */
export class StderrLogger implements LoggerService {
  constructor(private readonly levels: ReadonlySet<LogLevel>) {}
  log(message: unknown, context?: string): void {
    this.write('log', message, context);
  }
  error(message: unknown, ...rest: unknown[]): void {
    const context = typeof rest.at(-1) === 'string' ? (rest.at(-1) as string) : undefined;
    // A failed boot is reported once, as the command's one-line reason; Nest's own report of it only when verbose.
    if (context === 'ExceptionHandler' && !this.levels.has('debug')) return;
    this.write('error', message, context);
  }
  warn(message: unknown, context?: string): void {
    this.write('warn', message, context);
  }
  debug(message: unknown, context?: string): void {
    this.write('debug', message, context);
  }
  verbose(message: unknown, context?: string): void {
    this.write('verbose', message, context);
  }
  private write(level: LogLevel, message: unknown, context?: string): void {
    if (!this.levels.has(level)) return;
    process.stderr.write(`${level.toUpperCase()}${context ? ` [${context}]` : ''} ${message instanceof Error ? message.message : String(message)}\n`);
  }
}

type Constructor<T> = abstract new (...args: never[]) => T;

/**
 * What every command gets: the configuration the server would read, the whole application as a Nest context
 * (booted on first use, migrations applied, scheduler off, no HTTP listener; closed after the command), and the
 * output. Commands reach modules only through their exported services.
 */
export interface CommandContextOptions {
  /** The environment to configure from (default: process.env, after reading `.env`). */
  env?: Record<string, string | undefined>;
  streams?: OutputStreams;
}

export class CommandContext {
  readonly output: CliOutput;
  verbose = false;
  /** What the process exits with once the command is done. */
  exitCode = 0;
  private app?: Promise<INestApplicationContext>;
  private cachedConfig?: AppConfig;

  constructor(private readonly options: CommandContextOptions = {}) {
    this.output = new CliOutput(options.streams);
  }

  /** The configuration from the environment and `.env`, as the server reads it, with the schedules off. */
  config(): AppConfig {
    this.cachedConfig ??= this.read({ SCHEDULER_ENABLED: 'false' });
    return this.cachedConfig;
  }

  /** The server's configuration, exactly as given (`broadsheet serve`). */
  serverConfig(): AppConfig {
    return this.read({});
  }

  private read(overrides: Record<string, string>): AppConfig {
    if (this.options.env) return loadConfig({ ...this.options.env, ...overrides });
    return loadConfigFromEnvironment(overrides);
  }

  boot(): Promise<INestApplicationContext> {
    this.app ??= NestFactory.createApplicationContext(AppModule.forRoot(this.config(), { commandLine: true }), {
      logger: new StderrLogger(new Set<LogLevel>(this.verbose ? ['log', 'warn', 'error', 'debug'] : ['warn', 'error'])),
      abortOnError: false,
    }).then(async (app) => {
      await app.init();
      return app;
    });
    return this.app;
  }

  /** Boots the application if needed and resolves one of its providers (an exported service). */
  async get<T>(type: Constructor<T>): Promise<T> {
    return (await this.boot()).get(type as never, { strict: false }) as T;
  }

  async close(): Promise<void> {
    const app = this.app;
    this.app = undefined;
    // A boot that failed has nothing to close (its failure is the command's reason).
    const booted = await app?.catch(() => undefined);
    await booted?.close();
  }

  /**
   * Wraps a command's handler: maps failures to the exit codes of the CLI contract (1 with a one-line reason,
   * 2 for bad usage) and closes the application afterwards.
   */
  action<A extends unknown[]>(handler: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
    return async (...args: A) => {
      try {
        await handler(...args);
      } catch (error) {
        const { message, code, exitCode } = describeFailure(error);
        this.output.failure(message, code);
        this.exitCode = exitCode;
      } finally {
        try {
          await this.close();
        } catch (error) {
          process.stderr.write(`broadsheet: closing failed: ${(error as Error).message}\n`);
        }
      }
    };
  }
}

export function describeFailure(error: unknown): { message: string; code: string; exitCode: number } {
  if (error instanceof CliError) return { message: error.message, code: error.code, exitCode: error.exitCode };
  if (error instanceof ConfigError) return { message: `${error.problems.join('; ')} (see .env.example)`, code: 'bad_configuration', exitCode: 1 };
  if (error instanceof DomainError) return { message: error.message, code: error.code, exitCode: 1 };
  const message = error instanceof Error ? error.message : String(error);
  return { message: message.split('\n')[0] || 'failed', code: 'failed', exitCode: 1 };
}

/** Parses a positive whole number argument (an issue number, a count); commander reports a bad one as bad usage (exit 2). */
export function positiveInt(name: string): (value: string) => number {
  return (value: string) => {
    if (!/^\d+$/.test(value) || Number(value) < 1 || !Number.isSafeInteger(Number(value)))
      throw new InvalidArgumentError(`${name} must be a positive whole number, not "${value}"`);
    return Number(value);
  };
}
