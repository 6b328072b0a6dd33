import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { migrations } from '../../migrations';
import { editorSignInLines, runDemoIfEmpty } from '../../src/bootstrap';
import { entities } from '../../src/entities';
import { loadConfig } from '../../src/kernel/config/config';
import { openDatabase } from '../../src/kernel/database/database.module';
import { DataDirLockedError } from '../../src/kernel/database/embedded-postgres';
import { SigningKey } from '../../src/kernel/secrets/signing-key';
import { startTestApp } from '../support/test-app';
import { createServerDatabase } from '../support/test-database';

async function count(url: string, sql: string): Promise<unknown[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

describe('instances booting together', () => {
  it('on one empty database both come up, the migrations, the signing key and the demo happen once', async () => {
    const server = await createServerDatabase();
    if (!server) {
      // The embedded database: one data folder admits one process. Two boots at once: exactly one comes up,
      // the other is refused, and the one that came up ran each migration once.
      const dataDir = mkdtempSync(join(tmpdir(), 'broadsheet-two-'));
      try {
        const config = loadConfig({ DATA_DIR: dataDir });
        const results = await Promise.allSettled([openDatabase(config, { entities, migrations }), openDatabase(config, { entities, migrations })]);
        const up = results.filter((r) => r.status === 'fulfilled');
        const refused = results.filter((r) => r.status === 'rejected');
        expect(up).toHaveLength(1);
        expect(refused).toHaveLength(1);
        expect((refused[0] as PromiseRejectedResult).reason).toBeInstanceOf(DataDirLockedError);
        const { dataSource, embedded } = (up[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof openDatabase>>>).value;
        const rows = await dataSource.query(`SELECT name, count(*)::int AS n FROM migrations GROUP BY name HAVING count(*) > 1`);
        expect(rows).toEqual([]);
        await expect(dataSource.query(`SELECT count(*)::int AS n FROM migrations`)).resolves.toEqual([{ n: migrations.length }]);
        await dataSource.destroy();
        await embedded?.stop();
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
      return;
    }
    // A PostgreSQL server: two whole applications on one empty database, booted at the same time.
    try {
      const results = await Promise.allSettled([startTestApp({ DATABASE_URL: server.url }), startTestApp({ DATABASE_URL: server.url })]);
      const apps = results.filter((r) => r.status === 'fulfilled').map((r) => (r as PromiseFulfilledResult<Awaited<ReturnType<typeof startTestApp>>>).value);
      try {
        expect(results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason))).toEqual([]);
        for (const app of apps) expect((await fetch(`${app.url}/health`)).status).toBe(200);
        await expect(count(server.url, `SELECT name, count(*)::int AS n FROM migrations GROUP BY name HAVING count(*) > 1`)).resolves.toEqual([]);
        await expect(count(server.url, `SELECT count(*)::int AS n FROM migrations`)).resolves.toEqual([{ n: migrations.length }]);
        await expect(count(server.url, `SELECT count(*)::int AS n FROM settings WHERE key = 'signing_key'`)).resolves.toEqual([{ n: 1 }]);
        // Both sign with that one key: a token made by one verifies on the other.
        const token = apps[0].get(SigningKey).sign('test', 'payload');
        expect(apps[1].get(SigningKey).verify('test', token)).toBe('payload');
        // The demo at boot, on both at once: seeded and run once.
        const seeded = await Promise.all(apps.map((app) => runDemoIfEmpty(app.app, app.config)));
        expect(seeded.sort()).toEqual([false, true]);
        await expect(count(server.url, `SELECT count(*)::int AS n FROM issues`)).resolves.toEqual([{ n: 1 }]);
        // The demo owner account, made by each start-up banner at once: created once, and neither start fails.
        const banners = await Promise.allSettled(apps.map((app) => editorSignInLines(app.app)));
        expect(banners.map((b) => (b.status === 'rejected' ? String(b.reason) : 'ok'))).toEqual(['ok', 'ok']);
        await expect(count(server.url, `SELECT count(*)::int AS n FROM admin_users`)).resolves.toEqual([{ n: 1 }]);
      } finally {
        for (const app of apps) await app.close();
      }
    } finally {
      await server.drop();
    }
  }, 240_000);
});
