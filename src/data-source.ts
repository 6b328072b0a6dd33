import { DataSource } from 'typeorm';
import { migrations } from '../migrations';
import { entities } from './entities';
import { dataSourceOptions } from './kernel/database/database.module';

/** For the TypeORM CLI against a server (`DATABASE_URL`); the app itself opens the database in DatabaseModule. */
export default new DataSource(dataSourceOptions(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/broadsheet', 1, { entities, migrations }));
