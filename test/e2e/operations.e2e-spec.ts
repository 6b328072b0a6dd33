import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { runDemoIfEmpty } from '../../src/bootstrap';
import { JobRunner } from '../../src/kernel/jobs/job-runner';
import { currentLogContext } from '../../src/kernel/logging/log-context';
import { startTestApp, type TestApp } from '../support/test-app';

/** Samples of one metric from a Prometheus text exposition: labels (as written) to value. */
function samples(text: string, name: string): Map<string, number> {
  const found = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^([a-z_:][a-z0-9_:]*)(\{[^}]*\})? (\S+)$/i.exec(line);
    if (match && match[1] === name) found.set(match[2] ?? '', Number(match[3]));
  }
  return found;
}

const total = (values: Map<string, number>, filter: (labels: string) => boolean = () => true): number =>
  [...values].filter(([labels]) => filter(labels)).reduce((sum, [, v]) => sum + v, 0);

async function scrape(t: TestApp): Promise<string> {
  const response = await fetch(`${t.url}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return response.text();
}

describe('/metrics after the demo week', () => {
  let t: TestApp;
  let db: DataSource;

  beforeAll(async () => {
    t = await startTestApp();
    db = t.get(DataSource);
    expect(await runDemoIfEmpty(t.app, t.config)).toBe(true);
  });

  afterAll(() => t?.close());

  it('counts records ingested, narratives written and held, and emails accepted as the database has them', async () => {
    const text = await scrape(t);
    const [{ records }] = await db.query(`SELECT count(*)::int AS records FROM discourse_records`);
    expect(records).toBeGreaterThan(0);
    expect(total(samples(text, 'broadsheet_records_ingested_total'))).toBe(records);

    const narratives = samples(text, 'broadsheet_narratives_total');
    const [{ published, held }] = await db.query(
      `SELECT count(*) FILTER (WHERE status = 'published')::int AS published, count(*) FILTER (WHERE status = 'held')::int AS held FROM narratives`,
    );
    expect(total(narratives, (l) => l.includes('outcome="written"'))).toBe(published);
    expect(total(narratives, (l) => l.includes('outcome="held"'))).toBe(held);

    const [{ accepted }] = await db.query(`SELECT count(*)::int AS accepted FROM recipients WHERE status = 'accepted'`);
    expect(accepted).toBeGreaterThan(0);
    // Confirmation emails go through the same sender; the demo's readers are imported as active, so there are none.
    expect(total(samples(text, 'broadsheet_emails_total'), (l) => l.includes('outcome="accepted"') && l.includes('provider="outbox"'))).toBe(accepted);
    expect(total(samples(text, 'broadsheet_emails_total'), (l) => l.includes('outcome="failed"'))).toBe(0);
  });

  it('counts job runs by job and outcome, and names the job in the log context of its work', async () => {
    const runner = t.get(JobRunner);
    await expect(runner.runExclusive('probe-ok', 60_000, async () => currentLogContext().job)).resolves.toEqual({ ran: true, result: 'probe-ok' });
    await expect(runner.runExclusive('probe-fail', 60_000, async () => Promise.reject(new Error('planned failure')))).rejects.toThrow('planned failure');
    const runs = samples(await scrape(t), 'broadsheet_job_runs_total');
    expect(runs.get('{job="pipeline-once",outcome="ok"}')).toBe(1);
    expect(runs.get('{job="probe-ok",outcome="ok"}')).toBe(1);
    expect(runs.get('{job="probe-fail",outcome="failed"}')).toBe(1);
  });

  it('reads the depth of the delivery queue from the database at scrape time', async () => {
    const open = () => scrape(t).then((text) => samples(text, 'broadsheet_delivery_batches_open'));
    expect((await open()).get('{status="pending"}')).toBe(0);
    const [batch] = await db.query(`SELECT id, status FROM delivery_batches LIMIT 1`);
    await db.query(`UPDATE delivery_batches SET status = 'held' WHERE id = $1`, [batch.id]);
    try {
      expect((await open()).get('{status="held"}')).toBe(1);
    } finally {
      await db.query(`UPDATE delivery_batches SET status = $2 WHERE id = $1`, [batch.id, batch.status]);
    }
  });

  it('counts HTTP requests by route template and status, never by raw URL', async () => {
    await fetch(`${t.url}/stories/no-such-story-abc`);
    await fetch(`${t.url}/no/such/path/xyz`, { headers: { accept: 'application/json' } });
    const response = await fetch(`${t.url}/`);
    expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const text = await scrape(t);
    const requests = samples(text, 'broadsheet_http_requests_total');
    expect(requests.get('{method="GET",route="/stories/:slug",status="404"}')).toBeGreaterThanOrEqual(1);
    expect(requests.get('{method="GET",route="unmatched",status="404"}')).toBeGreaterThanOrEqual(1);
    expect(requests.get('{method="GET",route="/",status="200"}')).toBeGreaterThanOrEqual(1);
    expect(text).not.toContain('no-such-story-abc');
    expect(text).not.toContain('xyz');
  });
});

describe('/health', () => {
  it('answers 200 with each dependency when all answer', async () => {
    const t = await startTestApp({ DEMO: 'false' });
    try {
      const response = await fetch(`${t.url}/health`);
      expect(response.status).toBe(200);
      await expect(response.json()).resolves.toEqual({ status: 'ok', database: 'ok', email: 'ok' });
    } finally {
      await t.close();
    }
  });

  it('answers a 503 problem naming the email outbox when it cannot be written, and the database when it is gone', async () => {
    const scratch = mkdtempSync(join(tmpdir(), 'broadsheet-health-'));
    const blocker = join(scratch, 'not-a-folder');
    writeFileSync(blocker, 'a file where the outbox folder should be');
    const t = await startTestApp({ DEMO: 'false', EMAIL_OUTBOX_DIR: join(blocker, 'outbox') });
    try {
      const email = await fetch(`${t.url}/health`);
      expect(email.status).toBe(503);
      expect(email.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      const body = (await email.json()) as Record<string, unknown>;
      expect(body).toMatchObject({ status: 503, code: 'unhealthy', failing: ['email'], checks: { database: 'ok' } });
      expect(body.detail).toMatch(/^Failing: email \(the email outbox folder is not writable \(ENOTDIR\)\)/);

      await t.get(DataSource).destroy();
      const database = await fetch(`${t.url}/health`);
      expect(database.status).toBe(503);
      await expect(database.json()).resolves.toMatchObject({ failing: ['database', 'email'], checks: { database: expect.stringMatching(/^not answering/) } });
    } finally {
      await t.close();
      rmSync(scratch, { recursive: true, force: true });
    }
  });
});
