import { AppLogger } from './app-logger';
import { currentLogContext, runWithLogContext } from './log-context';

/** Captures what the logger writes to stdout and stderr (the process streams it writes to). */
function capture(run: () => void): string[] {
  const lines: string[] = [];
  const out = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => lines.push(String(chunk)) > 0);
  const err = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => lines.push(String(chunk)) > 0);
  try {
    run();
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
  return lines.join('').split('\n').filter(Boolean);
}

describe('AppLogger', () => {
  it('writes one JSON object per line with LOG_FORMAT=json, carrying the request id', () => {
    const logger = new AppLogger('json');
    const [line] = capture(() => runWithLogContext({ requestId: 'req-1' }, () => logger.log('subscribed', 'SubscribersService')));
    const parsed = JSON.parse(line) as Record<string, unknown>;
    expect(parsed).toMatchObject({ level: 'log', message: 'subscribed', context: 'SubscribersService', requestId: 'req-1' });
    expect(new Date(parsed.timestamp as string).toISOString()).toBe(parsed.timestamp);
    expect(parsed).not.toHaveProperty('job');
  });

  it('names the job in JSON lines written inside a job, errors included', () => {
    const logger = new AppLogger('json');
    const lines = capture(() => runWithLogContext({ job: 'poll-sources' }, () => logger.error('poll of x failed', undefined, 'SourcesService')));
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0])).toMatchObject({ level: 'error', message: 'poll of x failed', job: 'poll-sources', context: 'SourcesService' });
  });

  it("leaves out Nest's stack for a boot refused because another server holds the data folder, not for other failures", () => {
    const logger = new AppLogger();
    const held = Object.assign(new Error('Another Broadsheet instance is already using the embedded database in /d'), { name: 'DataDirLockedError' });
    // Nest's ExceptionHandler calls `new Logger('ExceptionHandler').error(exception)`, which reaches the app's logger so:
    expect(capture(() => logger.error(held, undefined, 'ExceptionHandler'))).toEqual([]);
    const crash = capture(() => logger.error(new Error('connect ECONNREFUSED 127.0.0.1:5432'), undefined, 'ExceptionHandler'));
    expect(crash.join('\n')).toContain('ECONNREFUSED');
    expect(capture(() => logger.error(held, undefined, 'SomeService')).join('\n')).toContain('already using the embedded database');
  });

  it('writes readable text by default, with the job or request beside the context', () => {
    const logger = new AppLogger();
    const [line] = capture(() => runWithLogContext({ job: 'deliver' }, () => logger.warn('batch retried', 'DeliveryService')));
    expect(() => JSON.parse(line)).toThrow();
    expect(line).toContain('[DeliveryService job=deliver]');
    expect(line).toContain('batch retried');
  });

  it("leaves out Nest's start-up chatter", () => {
    const logger = new AppLogger('json');
    expect(capture(() => logger.log('Mapped {/, GET} route', 'RouterExplorer'))).toEqual([]);
  });
});

describe('log context', () => {
  it('nests: a job inside a request keeps both, and ends with its callback', async () => {
    await runWithLogContext({ requestId: 'r' }, async () => {
      await runWithLogContext({ job: 'pipeline-once' }, async () => {
        await new Promise((resolve) => setImmediate(resolve));
        expect(currentLogContext()).toEqual({ requestId: 'r', job: 'pipeline-once' });
      });
      expect(currentLogContext()).toEqual({ requestId: 'r' });
    });
    expect(currentLogContext()).toEqual({});
  });
});
