import { ConsoleLogger } from '@nestjs/common';
import { currentLogContext } from './log-context';

export type LogFormat = 'text' | 'json';

type JsonLogInput = Parameters<ConsoleLogger['getJsonLogObject']>[1];

/**
 * Nest's console logger, as readable text (the default) or one JSON object per line (`LOG_FORMAT=json`). Every line
 * carries what it belongs to: `requestId` for an HTTP request, `job` for a scheduled or CLI-run job.
 * Nest's per-route and per-module start-up chatter is left out.
 */
export class AppLogger extends ConsoleLogger {
  private static readonly QUIET = new Set(['RouterExplorer', 'RoutesResolver', 'InstanceLoader', 'NestFactory']);

  constructor(format: LogFormat = 'text') {
    super(format === 'json' ? { json: true } : {});
  }

  override log(message: unknown, ...rest: unknown[]): void {
    const context = rest.at(-1);
    if (typeof context === 'string' && AppLogger.QUIET.has(context)) return;
    super.log(message, ...rest);
  }

  /**
   * Nest's ExceptionHandler logs a failed boot with its stack before the error reaches `serve`, which then prints the
   * reason in one line. A data folder held by another server is an expected refusal, not a crash: the one line is
   * enough (any other boot failure keeps its stack).
   */
  override error(message: unknown, ...rest: unknown[]): void {
    if (rest.at(-1) === 'ExceptionHandler' && message instanceof Error && message.name === 'DataDirLockedError') return;
    super.error(message, ...rest);
  }

  protected override getJsonLogObject(message: unknown, options: JsonLogInput): ReturnType<ConsoleLogger['getJsonLogObject']> {
    const { requestId, job } = currentLogContext();
    const line = super.getJsonLogObject(message, options);
    return { ...line, timestamp: new Date(line.timestamp).toISOString() as never, ...(requestId ? { requestId } : {}), ...(job ? { job } : {}) };
  }

  protected override formatContext(context: string): string {
    const { requestId, job } = currentLogContext();
    const owner = [job && `job=${job}`, requestId && `req=${requestId}`].filter(Boolean).join(' ');
    return super.formatContext(owner ? `${context}${context ? ' ' : ''}${owner}` : context);
  }
}
