import { DataSource } from 'typeorm';
import { migrations } from '../migrations';
import { entities } from './entities';
import { loadConfig, loadEnvironment } from './kernel/config/config';
import { dataSourceOptions } from './kernel/database/database.module';

/**
 * For the TypeORM CLI against a server; the app itself opens the database in DatabaseModule. The configuration
 * comes from kernel/config like everything else (`.env`, then DATABASE_URL), with a local server as the fallback.
 */
loadEnvironment();
const config = loadConfig();
export default new DataSource(dataSourceOptions(config.database.url ?? 'postgres://postgres@127.0.0.1:5432/broadsheet', 1, { entities, migrations }));
