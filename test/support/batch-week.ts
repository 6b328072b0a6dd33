import { DataSource } from 'typeorm';
import { DemoSeeder } from '../../src/admin/demo-seeder';
import { type Clock } from '../../src/kernel/clock/clock';
import { weekContaining, type Week } from '../../src/kernel/clock/week';
import { NarrativesService, type BuildSummary } from '../../src/narratives/narratives.service';
import { SourcesService } from '../../src/sources/sources.service';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/fake-anthropic';
import { FakeClock } from '../fakes/fake-clock';
import { startTestApp, type TestApp } from './test-app';

/** An app that writes through Message Batches against `claude`, with the demo week polled: what the batch tests build. */
export async function startBatchWeek(
  claude: FakeAnthropic,
  options: { clock?: Clock } = {},
): Promise<{ t: TestApp; db: DataSource; narratives: NarrativesService; week: Week }> {
  const t = await startTestApp(
    {
      ANTHROPIC_API_KEY: claude.apiKey,
      ANTHROPIC_BASE_URL: claude.url,
      ANTHROPIC_BATCH: 'true',
      ANTHROPIC_MAX_RETRIES: '0',
      NARRATIVES_PER_BEAT: '2',
    },
    options,
  );
  await t.get(DemoSeeder).seed();
  await t.get(SourcesService).pollAll();
  const week = weekContaining((await t.get(SourcesService).latestRecordAt())!);
  return { t, db: t.get(DataSource), narratives: t.get(NarrativesService), week };
}

/** One case's own world for the batch-recovery tests: a fake clock, a fake Anthropic on it, and a batch week. */
export interface BatchCase {
  clock: FakeClock;
  claude: FakeAnthropic;
  t: TestApp;
  db: DataSource;
  narratives: NarrativesService;
  week: Week;
  close(): Promise<void>;
}

/** Starts a `BatchCase` (batches end on their first poll); `close` stops the app and the fake. */
export async function startBatchCase(): Promise<BatchCase> {
  const clock = new FakeClock(new Date('2026-11-27T12:00:00Z'));
  const claude = await startFakeAnthropic({ batchPollsBeforeEnd: 0, now: () => clock.now() });
  try {
    const week = await startBatchWeek(claude, { clock });
    return {
      clock,
      claude,
      ...week,
      close: async () => {
        await week.t.close();
        await claude.close();
      },
    };
  } catch (error) {
    await claude.close();
    throw error;
  }
}

/** A count summed over a build's beats. */
export function buildTotal(summaries: BuildSummary[], key: keyof Omit<BuildSummary, 'beat'>): number {
  return summaries.reduce((n, s) => n + s[key], 0);
}

/** The batch creates `claude` received. */
export function batchCreates(claude: FakeAnthropic): FakeAnthropic['requests'] {
  return claude.requests.filter((r) => r.method === 'POST' && r.path === '/v1/messages/batches');
}

/** The local batches, oldest first: their state and Anthropic id. */
export async function localBatches(db: DataSource): Promise<Array<{ status: string; provider_batch_id: string | null }>> {
  return (await db.query(`SELECT status, provider_batch_id FROM narrative_batches ORDER BY submitted_at, created_at`)) as Array<{
    status: string;
    provider_batch_id: string | null;
  }>;
}
