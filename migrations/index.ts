import { CreateSchema1764200000000 } from './1764200000000-CreateSchema';
import { AddSubscriberLifecycle1764330000000 } from './1764330000000-AddSubscriberLifecycle';

/** The one chain of migrations, in order, for both the embedded database and a PostgreSQL server. */
export const migrations = [CreateSchema1764200000000, AddSubscriberLifecycle1764330000000];
