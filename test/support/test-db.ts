import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DataSource } from 'typeorm';
import { migrations } from '../../migrations';
import { entities } from '../../src/entities';
import { loadConfig, type AppConfig } from '../../src/kernel/config/config';
import { openDatabase } from '../../src/kernel/database/database.module';
import { createServerDatabase } from './test-database';

/** A migrated database without the app: embedded in a temp folder, or a fresh one on the DATABASE_URL server. */
export async function openTestDatabase(): Promise<{ dataSource: DataSource; config: AppConfig; close: () => Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'broadsheet-db-'));
  const server = await createServerDatabase();
  const config = loadConfig({ DATA_DIR: dataDir, ...(server ? { DATABASE_URL: server.url } : {}) });
  const { dataSource, embedded } = await openDatabase(config, { entities, migrations });
  return {
    dataSource,
    config,
    close: async () => {
      if (dataSource.isInitialized) await dataSource.destroy();
      await embedded?.stop();
      await server?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
