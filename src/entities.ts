import { Beat } from './narratives/beat.entity';
import { Narrative, NarrativeCitation, NarrativeRun, NarrativeVersion } from './narratives/narrative.entity';
import { NarrativeBatch, NarrativeBatchItem } from './narratives/narrative-batch.entity';
import { Storyline, StorylineRecord } from './narratives/storyline.entity';
import { DiscourseRecord } from './sources/discourse-record.entity';
import { Source, SourceHostBackoff } from './sources/source.entity';
import { SourcePoll } from './sources/source-poll.entity';
import { Issue, IssueEntry } from './issues/issue.entity';
import { Subscriber } from './subscribers/subscriber.entity';
import { DeliveryBatch, DeliveryEvent, Recipient, Send } from './delivery/delivery.entities';
import { adminEntities } from './admin/admin.entities';

/** Every entity, for the DataSource. One per line: `.gitattributes` merges this file as a union. */
export const entities = [
  Source,
  SourceHostBackoff,
  SourcePoll,
  DiscourseRecord,
  Beat,
  Storyline,
  StorylineRecord,
  Narrative,
  NarrativeVersion,
  NarrativeCitation,
  NarrativeRun,
  NarrativeBatch,
  NarrativeBatchItem,
  Issue,
  IssueEntry,
  Subscriber,
  Send,
  DeliveryBatch,
  Recipient,
  DeliveryEvent,
  ...adminEntities,
];
