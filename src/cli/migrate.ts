import { existsSync } from 'node:fs';
import { ConfigError, loadConfig } from '../kernel/config/config';
import { openDatabase } from '../kernel/database/database.module';
import { migrations } from '../../migrations';
import { entities } from '../entities';

/** `npm run migrate`: applies pending migrations to the configured database (embedded or DATABASE_URL). */
async function main(): Promise<void> {
  // The same .env as `npm start` (variables already set in the environment win).
  if (existsSync('.env')) process.loadEnvFile('.env');
  const config = loadConfig();
  const { dataSource, embedded } = await openDatabase(config, { entities, migrations });
  const [{ count }] = await dataSource.query('SELECT count(*)::int AS count FROM migrations');
  console.log(`database is up to date: ${count} migrations applied (${config.database.url ? 'PostgreSQL server' : `embedded, ${config.database.embeddedDir}`})`);
  await dataSource.destroy();
  await embedded?.stop();
}

main().catch((error) => {
  console.error(error instanceof ConfigError ? error.message : `migrate failed: ${(error as Error).message}`);
  process.exit(1);
});
