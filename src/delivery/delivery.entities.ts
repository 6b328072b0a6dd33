import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

export enum SendStatus {
  Sending = 'sending',
  Sent = 'sent',
  /** Some batch needs an editor (outcome unknown past the idempotency window). */
  Held = 'held',
}

export enum BatchStatus {
  Pending = 'pending',
  Submitting = 'submitting',
  Sent = 'sent',
  Failed = 'failed',
  /** Outcome unknown and past the provider's 24 h idempotency window: never re-sent blindly. */
  Held = 'held',
}

export enum RecipientStatus {
  Pending = 'pending',
  Accepted = 'accepted',
  Suppressed = 'suppressed',
  Failed = 'failed',
  Skipped = 'skipped',
}

/** One issue's delivery: the rendered digest (once) and its accounting. */
@Entity('sends')
export class Send {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('uuid', { unique: true }) issueId: string;
  @Column('text') status: SendStatus;
  @Column('text') provider: string;
  @Column('text') subject: string;
  @Column('text') html: string;
  @Column('text') text: string;
  @Column('int') audience: number;
  @Column('int') accepted: number;
  @Column('int') suppressed: number;
  @Column('int') failed: number;
  @Column('int') skipped: number;
  @Column('timestamptz', { nullable: true }) startedAt: Date | null;
  @Column('timestamptz', { nullable: true }) finishedAt: Date | null;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updatedAt: Date;
}

@Entity('delivery_batches')
export class DeliveryBatch {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('uuid') sendId: string;
  @Column('int') number: number;
  @Column('text') status: BatchStatus;
  @Column('text', { unique: true }) idempotencyKey: string;
  @Column('int') attempts: number;
  @Column('timestamptz') nextAttemptAt: Date;
  @Column('timestamptz', { nullable: true }) leaseUntil: Date | null;
  @Column('timestamptz', { nullable: true }) firstAttemptAt: Date | null;
  @Column('text', { nullable: true }) lastError: string | null;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updatedAt: Date;
}

/** Exactly one row per (issue, subscriber), fixed to one batch when the send starts. */
@Entity('recipients')
export class Recipient {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('uuid') sendId: string;
  @Column('uuid') issueId: string;
  @Column('uuid') subscriberId: string;
  @Column('uuid', { nullable: true }) batchId: string | null;
  @Column('text') email: string;
  @Column('text') status: RecipientStatus;
  @Column('text', { nullable: true }) providerMessageId: string | null;
  @Column('text', { nullable: true }) error: string | null;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updatedAt: Date;
}
