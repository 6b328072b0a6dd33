// The sources module's view types: what its service returns and what other modules may import (never its entities).
import { type Platform } from './source.entity';

/** A discourse record as other modules read it (narratives: clustering, writing, citations). */
export interface DiscourseRecordView {
  id: string;
  sourceId: string;
  platform: Platform;
  /** The platform's own id for the item (guid, post URI, `t3_…`), unique within its source. */
  providerId: string;
  url: string;
  /** The URL with tracking parameters, `www.` and fragments dropped: the cross-source dedupe key. */
  canonicalUrl: string;
  author: string;
  title: string;
  text: string;
  publishedAt: Date;
  /** Score, comments, likes, reposts… as the platform counts them, refreshed on every poll that sees the item. */
  engagement: Record<string, number>;
  /** The beats the record's source feeds. */
  beatSlugs: string[];
  firstSeenAt: Date;
  updatedAt: Date;
  /** @deprecated the same as `providerId`; kept until narratives reads `providerId`. */
  externalId: string;
  /** @deprecated the same as `firstSeenAt`; kept until narratives reads `firstSeenAt`. */
  createdAt: Date;
}

/** A record together with the beats its source may feed (what the narratives module needs). */
export type RecordWithBeats = DiscourseRecordView;

export type SourceStatus = 'active' | 'failing' | 'paused';

/** A source as editors, the CLI and the API see it (DESIGN.md: `sources list --json`). */
export interface SourceView {
  id: string;
  slug: string;
  name: string;
  kind: string;
  target: string;
  platform: string;
  beats: string[];
  /** Seconds between polls. */
  everySeconds: number;
  status: SourceStatus;
  pausedReason: string | null;
  records: number;
  lastPolledAt: string | null;
  lastSuccessAt: string | null;
  lastError: string | null;
  lastErrorAt: string | null;
  consecutiveFailures: number;
  itemsLastPoll: number | null;
  responseMsLastPoll: number | null;
  nextPollAt: string | null;
}

export interface SourceDetail extends SourceView {
  recentPolls: Array<{
    startedAt: string;
    status: string;
    seen: number;
    new: number;
    updated: number;
    duplicate: number;
    invalid: number;
    overCap: number;
    notModified: boolean;
    httpStatus: number | null;
    responseMs: number | null;
    error: string | null;
    rejected: Array<{ index: number; reason: string }>;
  }>;
}

/** What `sources test` shows: what would be imported, without importing. */
export interface SourceTestResult {
  kind: string;
  target: string;
  platform: string;
  httpStatus: number | null;
  responseMs: number;
  notModified: boolean;
  items: number;
  rejected: number;
  overCap: number;
  rejectedReasons: Array<{ index: number; reason: string }>;
  preview: Array<{ title: string; author: string; url: string; publishedAt: string; engagement: Record<string, number>; text: string }>;
}
