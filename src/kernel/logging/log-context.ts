import { AsyncLocalStorage } from 'node:async_hooks';

/** What a log line belongs to: the HTTP request being answered, or the job being run. */
export interface LogContext {
  requestId?: string;
  job?: string;
}

const storage = new AsyncLocalStorage<LogContext>();

/** Runs `fn` (and everything it awaits or schedules) with `context` added to the current one. */
export function runWithLogContext<T>(context: LogContext, fn: () => T): T {
  return storage.run({ ...storage.getStore(), ...context }, fn);
}

export function currentLogContext(): LogContext {
  return storage.getStore() ?? {};
}
