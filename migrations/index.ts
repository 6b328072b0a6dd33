import { CreateSchema1764200000000 } from './1764200000000-CreateSchema';
import { CreateAdminAccounts1764350000000 } from './1764350000000-CreateAdminAccounts';

/** The one chain of migrations, in order, for both the embedded database and a PostgreSQL server. */
export const migrations = [CreateSchema1764200000000, CreateAdminAccounts1764350000000];
