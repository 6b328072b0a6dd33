import { CreateSchema1764200000000 } from './1764200000000-CreateSchema';
import { AddSourcePolling1764310000000 } from './1764310000000-AddSourcePolling';

/** The one chain of migrations, in order, for both the embedded database and a PostgreSQL server. */
export const migrations = [CreateSchema1764200000000, AddSourcePolling1764310000000];
