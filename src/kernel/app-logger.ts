import { ConsoleLogger } from '@nestjs/common';

/** Nest's console logger without its per-route and per-module start-up chatter. */
export class AppLogger extends ConsoleLogger {
  private static readonly QUIET = new Set(['RouterExplorer', 'RoutesResolver', 'InstanceLoader', 'NestFactory']);

  override log(message: unknown, context?: string): void {
    if (context && AppLogger.QUIET.has(context)) return;
    super.log(message, context);
  }
}
