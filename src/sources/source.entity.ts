import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

export enum SourceKind {
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
  /** For `file` sources: a path inside SOURCES_IMPORT_DIR. */
  @Column('text') location: string;
  /** The beats this source may feed; records are matched to one of them by keywords. */
  @Column('text', { array: true }) beatSlugs: string[];
  @Column('boolean') enabled: boolean;
  @Column('timestamptz', { nullable: true }) lastPolledAt: Date | null;
  @Column('text', { nullable: true }) lastError: string | null;
  @Column('timestamptz', { nullable: true }) lastErrorAt: Date | null;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updatedAt: Date;
}
