import { type SubscriberStatus, type SuppressionReason } from './subscriber.entity';

/** What the editors' workspace and the CLI see of one subscriber. */
export interface SubscriberView {
  id: string;
  email: string;
  name: string | null;
  status: SubscriberStatus;
  /** Only these beats, or every beat when null. */
  beats: string[] | null;
  consentSource: string;
  consentAt: Date;
  createdAt: Date;
  confirmedAt: Date | null;
  unsubscribedAt: Date | null;
  suppressedAt: Date | null;
  suppressionReason: SuppressionReason | null;
  pausedUntil: Date | null;
}

/** One member of a send's audience (what delivery reads). */
export interface AudienceMember {
  id: string;
  email: string;
  beatSlugs: string[] | null;
}

/** The latest issue that went out, as the welcome email links it. */
export interface LatestIssueLink {
  number: number;
  title: string;
  url: string;
}

export interface SubscriberListQuery {
  status?: SubscriberStatus;
  beat?: string;
  /** Part of the address, case-insensitive. */
  search?: string;
  createdFrom?: Date;
  createdTo?: Date;
  limit?: number;
  /** The `nextCursor` of the previous page. */
  cursor?: string;
}

export interface SubscriberPage {
  items: SubscriberView[];
  nextCursor: string | null;
}

export type StatusCounts = Record<SubscriberStatus, number>;

/** Subscribers in each status at the end of each day (UTC). Deleted people are counted, anonymously. */
export interface StatusHistoryPoint {
  day: string;
  counts: StatusCounts;
}

/** What the preferences page shows. */
export interface PreferencesView {
  email: string;
  status: SubscriberStatus;
  beats: string[] | null;
  pausedUntil: Date | null;
  pendingEmail: string | null;
  suppressionReason: SuppressionReason | null;
}

/** A subscriber's own data, as they download it. */
export interface SubscriberDataExport {
  subscriber: Omit<SubscriberView, 'id'> & { id: string; pendingEmail: string | null };
  consents: Array<{ kind: string; at: Date; source: string; formText: string | null; ipHash: string | null }>;
  statusChanges: Array<{ from: string | null; to: string; at: Date }>;
  emails: Array<{ kind: string; status: string; createdAt: Date; sentAt: Date | null }>;
  exportedAt: Date;
}
