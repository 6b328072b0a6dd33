import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DataSource } from 'typeorm';
import { migrations } from '../../migrations';
import { SystemClock } from '../../src/kernel/clock/clock';
import { DataDirLockedError, EmbeddedPostgres } from '../../src/kernel/database/embedded-postgres';
import { JobRunner } from '../../src/kernel/jobs/job-runner';
import { FakeClock } from '../fakes/fake-clock';
import { openTestDatabase } from '../support/test-db';

describe('database', () => {
  let db: Awaited<ReturnType<typeof openTestDatabase>>;
  let dataSource: DataSource;

  beforeAll(async () => {
    db = await openTestDatabase();
    dataSource = db.dataSource;
  });
  afterAll(() => db?.close());

  it('applies the whole migration chain, never synchronize', async () => {
    const applied: Array<{ name: string }> = await dataSource.query(`SELECT name FROM migrations ORDER BY id`);
    // TypeORM applies the chain in timestamp order, whatever the order of migrations/index.ts.
    const byTimestamp = migrations.map((m) => m.name).sort((a, b) => Number(a.match(/\d+$/)![0]) - Number(b.match(/\d+$/)![0]));
    expect(applied.map((m) => m.name)).toEqual(byTimestamp);
    expect(dataSource.options.synchronize).toBe(false);
    const tables: Array<{ table_name: string }> = await dataSource.query(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`,
    );
    expect(tables.map((t) => t.table_name)).toEqual(
      expect.arrayContaining([
        'beats',
        'delivery_batches',
        'discourse_records',
        'issues',
        'narratives',
        'recipients',
        'sends',
        'sources',
        'storylines',
        'subscribers',
      ]),
    );
  });

  it('migrates down and up again cleanly', async () => {
    // Its own database: undoing the chain drops every table, which the other tests use.
    const own = await openTestDatabase();
    try {
      for (let i = 0; i < migrations.length; i++) await own.dataSource.undoLastMigration({ transaction: 'each' });
      const [{ n }] = await own.dataSource.query(
        `SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'public' AND table_name = 'narratives'`,
      );
      expect(n).toBe(0);
      await own.dataSource.runMigrations({ transaction: 'each' });
      const [{ m }] = await own.dataSource.query(`SELECT count(*)::int AS m FROM migrations`);
      expect(m).toBe(migrations.length);
    } finally {
      await own.close();
    }
  });

  it('runs a job once across concurrent callers', async () => {
    const runner = new JobRunner(dataSource, new SystemClock());
    let release!: () => void;
    let started!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const running = new Promise<void>((resolve) => (started = resolve));
    const first = runner.runExclusive('test-job', 60_000, async () => {
      started();
      await gate;
      return 'first';
    });
    await running;
    await expect(runner.runExclusive('test-job', 60_000, async () => 'second')).resolves.toEqual({ ran: false, reason: 'test-job is already running' });
    release();
    await expect(first).resolves.toEqual({ ran: true, result: 'first' });
    await expect(runner.runExclusive('test-job', 60_000, async () => 'third')).resolves.toEqual({ ran: true, result: 'third' });
    const [row] = await dataSource.query(`SELECT last_error FROM job_locks WHERE name = 'test-job'`);
    expect(row.last_error).toBeNull();
  });

  it('renews the lease of a long run, so a second run cannot start when the first outlives its lease', async () => {
    const clock = new FakeClock(new Date('2026-11-27T12:00:00Z'));
    const runner = new JobRunner(dataSource, clock);
    let release!: () => void;
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    const first = runner.runExclusive('long-job', 3_000, async () => {
      started();
      await new Promise<void>((resolve) => (release = resolve));
    });
    await running;
    // The renewal (on a timer every lease/3) runs while the job does; past the original lease nobody else may start.
    clock.advance(2_500);
    await runner.renewLeases();
    clock.advance(2_000);
    await expect(runner.runExclusive('long-job', 3_000, async () => 'second')).resolves.toMatchObject({ ran: false });
    release();
    await first;
    await expect(runner.runExclusive('long-job', 3_000, async () => 'third')).resolves.toEqual({ ran: true, result: 'third' });
    // Without the renewal the lease would have lapsed: another runner on the same clock takes an expired one.
    const other = new JobRunner(dataSource, clock);
    await dataSource.query(`UPDATE job_locks SET locked_until = $1 WHERE name = 'long-job'`, [new Date(clock.now().getTime() - 1)]);
    await expect(other.runExclusive('long-job', 3_000, async () => 'taken over')).resolves.toEqual({ ran: true, result: 'taken over' });
  });

  it('records a failed job and frees its lease', async () => {
    const runner = new JobRunner(dataSource, new SystemClock());
    await expect(runner.runExclusive('failing-job', 60_000, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    const [row] = await dataSource.query(`SELECT last_error, locked_until <= now() AS free FROM job_locks WHERE name = 'failing-job'`);
    expect(row).toEqual({ last_error: 'boom', free: true });
  });
});

describe('embedded PostgreSQL', () => {
  it('refuses a second instance on the same data folder with a clear message, and frees it on stop', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'broadsheet-lock-'));
    try {
      const first = await EmbeddedPostgres.start(join(dir, 'pglite'));
      await expect(EmbeddedPostgres.start(join(dir, 'pglite'))).rejects.toThrow(DataDirLockedError);
      await expect(EmbeddedPostgres.start(join(dir, 'pglite'))).rejects.toThrow(/Another Broadsheet instance is already using/);
      await first.stop();
      const again = await EmbeddedPostgres.start(join(dir, 'pglite'));
      await again.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
