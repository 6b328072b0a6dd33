import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

/** How a source is read (DESIGN.md "Source kinds and targets"). */
export enum SourceKind {
  Rss = 'rss',
  Reddit = 'reddit',
  HackerNews = 'hackernews',
  Bluesky = 'bluesky',
  Mastodon = 'mastodon',
  File = 'file',
}

export enum Platform {
  Reddit = 'reddit',
  HackerNews = 'hackernews',
  Bluesky = 'bluesky',
  Mastodon = 'mastodon',
  News = 'news',
  Blog = 'blog',
}

@Entity('sources')
export class Source {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('text', { unique: true }) slug: string;
  @Column('text') name: string;
  @Column('text') platform: Platform;
  @Column('text') kind: SourceKind;
  /** The target: a URL, `r/<sub>`, `front`, `search:<q>`, a handle, or (for `file`) a path inside SOURCES_IMPORT_DIR. */
  @Column('text') location: string;
  /** The beats this source may feed; records are matched to one of them by keywords. */
  @Column('text', { array: true }) beatSlugs: string[];
  @Column('boolean') enabled: boolean;
  @Column('int', { default: 1800 }) intervalSeconds: number;
  @Column('timestamptz', { default: () => 'now()' }) nextPollAt: Date;
  @Column('timestamptz', { nullable: true }) leaseUntil: Date | null;
  @Column('text', { nullable: true }) etag: string | null;
  @Column('text', { nullable: true }) lastModified: string | null;
  @Column('timestamptz', { nullable: true }) lastPolledAt: Date | null;
  @Column('timestamptz', { nullable: true }) lastSuccessAt: Date | null;
  @Column('text', { nullable: true }) lastError: string | null;
  @Column('timestamptz', { nullable: true }) lastErrorAt: Date | null;
  @Column('int', { default: 0 }) consecutiveFailures: number;
  @Column('int', { nullable: true }) lastItems: number | null;
  @Column('int', { nullable: true }) lastResponseMs: number | null;
  /** Why the source is paused (by an editor, or automatically after repeated failures). */
  @Column('text', { nullable: true }) pausedReason: string | null;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updatedAt: Date;
}

/** A host that told us to slow down (429/403/503 with or without Retry-After): no source on it is fetched before `until`. */
@Entity('source_host_backoffs')
export class SourceHostBackoff {
  @Column('text', { primary: true }) host: string;
  @Column('timestamptz') until: Date;
  @Column('text') reason: string;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updatedAt: Date;
}
