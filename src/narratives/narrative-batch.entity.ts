import { Column, CreateDateColumn, Entity, PrimaryColumn, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

export enum BatchStatus {
  /** Rows written, not yet accepted by the API (a crash here leaves it to be abandoned by a later build). */
  Submitting = 'submitting',
  InProgress = 'in_progress',
  /** Every result saved or recorded as failed. */
  Collected = 'collected',
  /** The API refused the batch, or it was abandoned: its requests are sent again by a later build. */
  Failed = 'failed',
}

export enum BatchItemStatus {
  Pending = 'pending',
  Saved = 'saved',
  Failed = 'failed',
  /** An editor rewrote the narrative after the batch was sent: the older answer is not saved over it. */
  Superseded = 'superseded',
}

/** A Message Batch of narrative requests sent to Anthropic. */
@Entity('narrative_batches')
export class NarrativeBatch {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('text', { nullable: true }) providerBatchId: string | null;
  @Column('text') status: BatchStatus;
  @Column('timestamptz') weekStart: Date;
  @Column('text', { nullable: true }) model: string | null;
  @Column('timestamptz') submittedAt: Date;
  @Column('timestamptz', { nullable: true }) endedAt: Date | null;
  @Column('timestamptz', { nullable: true }) collectedAt: Date | null;
  @Column('jsonb', { nullable: true }) counts: Record<string, number> | null;
  @Column('text', { nullable: true }) error: string | null;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updatedAt: Date;
}

/** The documents one batch request gave the model, exactly (citations point into them by index). */
export interface BatchDocument {
  id: string;
  platform: string;
  author: string;
  outlet: string | null;
  title: string;
  text: string;
  url: string;
  publishedAt: string;
}

/** One narrative request inside a batch. */
@Entity('narrative_batch_items')
export class NarrativeBatchItem {
  @PrimaryColumn('uuid') batchId: string;
  @PrimaryColumn('text') customId: string;
  @Column('uuid') storylineId: string;
  @Column('text') membershipHash: string;
  @Column('jsonb') brief: { beat: { name: string; description: string }; topic: string; previous: { headline: string; dek: string } | null };
  @Column('jsonb') documents: BatchDocument[];
  @Column('text') status: BatchItemStatus;
  @Column('text', { nullable: true }) error: string | null;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updatedAt: Date;
}
