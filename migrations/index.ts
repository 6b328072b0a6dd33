import { CreateSchema1764200000000 } from './1764200000000-CreateSchema';
import { RebuildDelivery1764300000000 } from './1764300000000-RebuildDelivery';

/** The one chain of migrations, in order, for both the embedded database and a PostgreSQL server. */
export const migrations = [CreateSchema1764200000000, RebuildDelivery1764300000000];
