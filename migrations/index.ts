import { CreateSchema1764200000000 } from './1764200000000-CreateSchema';
import { AddNarrativeGroundingAndCosts1764320000000 } from './1764320000000-AddNarrativeGroundingAndCosts';
import { RebuildDelivery1764300000000 } from './1764300000000-RebuildDelivery';
import { AddSourcePolling1764310000000 } from './1764310000000-AddSourcePolling';
import { AddSubscriberLifecycle1764330000000 } from './1764330000000-AddSubscriberLifecycle';
import { CreateAdminAccounts1764350000000 } from './1764350000000-CreateAdminAccounts';
import { AddNearDuplicateSignatures1764410000000 } from './1764410000000-AddNearDuplicateSignatures';
import { IndexSubscriberConfirmations1764430000000 } from './1764430000000-IndexSubscriberConfirmations';
import { AddStorySearch1764440000000 } from './1764440000000-AddStorySearch';
import { AddNarrativeBatches1764420000000 } from './1764420000000-AddNarrativeBatches';
import { MoveNearDuplicateBandsIntoRecords1764610000000 } from './1764610000000-MoveNearDuplicateBandsIntoRecords';
import { CreateDeliveryRateBudget1764605000000 } from './1764605000000-CreateDeliveryRateBudget';
import { StoreBatchLinks1764771480312 } from './1764771480312-StoreBatchLinks';

/**
 * The one chain of migrations for both the embedded database and a PostgreSQL server, sorted by timestamp
 * (TypeORM orders them by it). One per line: `.gitattributes` merges this file as a union.
 */
export const migrations = [
  CreateSchema1764200000000,
  RebuildDelivery1764300000000,
  AddSourcePolling1764310000000,
  AddSubscriberLifecycle1764330000000,
  CreateAdminAccounts1764350000000,
  AddNarrativeGroundingAndCosts1764320000000,
  AddNearDuplicateSignatures1764410000000,
  IndexSubscriberConfirmations1764430000000,
  AddStorySearch1764440000000,
  AddNarrativeBatches1764420000000,
  MoveNearDuplicateBandsIntoRecords1764610000000,
  CreateDeliveryRateBudget1764605000000,
  StoreBatchLinks1764771480312,
];
