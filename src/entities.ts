import { Beat } from './narratives/beat.entity';
import { Narrative, NarrativeCitation, NarrativeRun, NarrativeVersion } from './narratives/narrative.entity';
import { Storyline, StorylineRecord } from './narratives/storyline.entity';
import { DiscourseRecord } from './sources/discourse-record.entity';
import { Source } from './sources/source.entity';
import { SourcePoll } from './sources/source-poll.entity';
import { Issue, IssueEntry } from './issues/issue.entity';
import { Subscriber } from './subscribers/subscriber.entity';
import { DeliveryBatch, Recipient, Send } from './delivery/delivery.entities';

/** Every entity, for the DataSource. */
export const entities = [Source, SourcePoll, DiscourseRecord, Beat, Storyline, StorylineRecord, Narrative, NarrativeVersion, NarrativeCitation, NarrativeRun, Issue, IssueEntry, Subscriber, Send, DeliveryBatch, Recipient];
