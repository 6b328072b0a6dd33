import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { type Platform } from './source.entity';

/** One public post, comment or article, as plain text. */
@Entity('discourse_records')
export class DiscourseRecord {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('uuid') sourceId: string;
  @Column('text') platform: Platform;
  @Column('text') externalId: string;
  @Column('text') url: string;
  @Column('text') canonicalUrl: string;
  @Column('text') title: string;
  @Column('text') author: string;
  @Column('text') text: string;
  @Column('timestamptz') publishedAt: Date;
  /** Score, comments, likes, reposts… as the platform counts them, refreshed on every poll that sees the item. */
  @Column('jsonb', { default: () => "'{}'" }) engagement?: Record<string, number>;
  /** The item as the platform sent it (cleaned, capped at 32 KB). */
  @Column('jsonb', { nullable: true }) raw?: unknown;
  /** Hash of the normalised text, to spot the same text under another URL; null for short texts. */
  @Column('text', { nullable: true }) textFingerprint?: string | null;
  /** MinHash signature of the text's shingles, to spot the same post with small edits; null for short texts. */
  @Column('int', { array: true, nullable: true }) textMinhash?: number[] | null;
  /** LSH band keys of `textMinhash`, band k at position k (each position indexed); null for short texts. */
  @Column('int', { array: true, nullable: true }) textBands?: number[] | null;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updatedAt: Date;
}
