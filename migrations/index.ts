import { CreateSchema1764200000000 } from './1764200000000-CreateSchema';
import { AddNarrativeGroundingAndCosts1764320000000 } from './1764320000000-AddNarrativeGroundingAndCosts';

/** The one chain of migrations, in order, for both the embedded database and a PostgreSQL server. */
export const migrations = [CreateSchema1764200000000, AddNarrativeGroundingAndCosts1764320000000];
