import { CreateSchema1764200000000 } from './1764200000000-CreateSchema';
import { AddIssueSubjectPreheader1764340000000 } from './1764340000000-AddIssueSubjectPreheader';

/** The one chain of migrations, in order, for both the embedded database and a PostgreSQL server. */
export const migrations = [CreateSchema1764200000000, AddIssueSubjectPreheader1764340000000];
