import { SchedulerRegistry } from '@nestjs/schedule';
import { startTestApp, type TestApp } from '../support/test-app';

/** Each stage is a cron job with its expression from config. */
describe('schedules', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({
      SCHEDULER_ENABLED: 'true',
      CRON_POLL_SOURCES: '*/7 * * * *',
      CRON_ASSEMBLE_ISSUE: '30 5 * * 1',
      CRON_DELIVER: '*/2 * * * *',
      CRON_SUBSCRIBER_MAIL: '*/20 * * * * *',
    });
  });
  afterAll(() => t?.close());

  it('registers poll, build, assemble, deliver, the welcome catch-up and the subscriber mail job with the configured crons', () => {
    const jobs = t.get(SchedulerRegistry).getCronJobs();
    const crons = Object.fromEntries([...jobs].map(([name, job]) => [name, String(job.cronTime.source)]));
    expect(crons).toEqual({
      'poll-sources': '*/7 * * * *',
      'build-narratives': '15 * * * *',
      'assemble-issue': '30 5 * * 1',
      deliver: '*/2 * * * *',
      'catch-up': '*/2 * * * *',
      'subscriber-mail': '*/20 * * * * *',
    });
    expect([...jobs.values()].every((job) => job.isActive)).toBe(true);
  });
});

describe('schedules switched off', () => {
  it('registers nothing', async () => {
    const t = await startTestApp({ SCHEDULER_ENABLED: 'false' });
    try {
      expect(t.get(SchedulerRegistry).getCronJobs().size).toBe(0);
    } finally {
      await t.close();
    }
  });
});
