import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

export enum SendKind {
  Issue = 'issue',
  /** To given addresses, for editors; kept out of every statistic. */
  Test = 'test',
}

export enum SendStatus {
  /** Queued (maybe for later): the audience is frozen when it starts. */
  Scheduled = 'scheduled',
  Sending = 'sending',
  /** Stopped by an editor, or by the provider's daily/monthly quota until `resume_at`. */
  Paused = 'paused',
  /** Every other batch is final; some batch needs an editor (outcome unknown). */
  Held = 'held',
  Sent = 'sent',
  Cancelled = 'cancelled',
}

export enum BatchStatus {
  Pending = 'pending',
  Submitting = 'submitting',
  Sent = 'sent',
  Failed = 'failed',
  /** Outcome unknown: never re-sent without an editor. */
  Held = 'held',
  Cancelled = 'cancelled',
}

export enum RecipientStatus {
  Pending = 'pending',
  Accepted = 'accepted',
  Suppressed = 'suppressed',
  Failed = 'failed',
  Skipped = 'skipped',
  /** In a held batch: the provider may or may not have it. */
  Held = 'held',
}

/** One delivery of an issue (the first, a catch-up, or a test): the rendered digest (once) and its accounting. */
@Entity('sends')
export class Send {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('uuid') issueId: string;
  @Column('text') kind: SendKind;
  /** 1 for an issue's first send, 2 for its first catch-up, … (part of every idempotency key). */
  @Column('int') number: number;
  @Column('text') status: SendStatus;
  @Column('text') provider: string;
  @Column('text') subject: string;
  @Column('text') html: string;
  @Column('text') text: string;
  /** EMAIL_FROM when the send started: a later change cannot alter a batch's payload. */
  @Column('text') fromAddress: string;
  @Column('int') audience: number;
  @Column('int') accepted: number;
  @Column('int') suppressed: number;
  @Column('int') failed: number;
  @Column('int') skipped: number;
  @Column('int') held: number;
  /** Recipients released by a cancel before anything was sent to them (no longer in `audience`). */
  @Column('int') cancelled: number;
  @Column('timestamptz', { nullable: true }) scheduledAt: Date | null;
  @Column('text', { nullable: true }) pauseReason: string | null;
  /** When a quota pause lifts by itself; null for an editor's pause. */
  @Column('timestamptz', { nullable: true }) resumeAt: Date | null;
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
  /** The current claim's fencing token: only its holder may record an outcome. */
  @Column('uuid', { nullable: true }) leaseToken: string | null;
  @Column('timestamptz', { nullable: true }) firstAttemptAt: Date | null;
  /** sha256 of the exact request body sent under `idempotencyKey`, fixed before the first request. */
  @Column('text', { nullable: true }) payloadHash: string | null;
  @Column('timestamptz', { nullable: true }) preparedAt: Date | null;
  /** Recipient id → unsubscribe link, stored with `payloadHash` (batches prepared before it: on the recipients' rows). */
  @Column('jsonb', { nullable: true }) links: Record<string, string> | null;
  /** A request under this key may have reached the provider: the payload may never change again. */
  @Column('boolean') keyUsed: boolean;
  /** Bumped when an editor re-sends a held batch under a new key. */
  @Column('int') generation: number;
  @Column('text', { nullable: true }) lastError: string | null;
  @Column('text', { nullable: true }) releaseNote: string | null;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updatedAt: Date;
}

/** Exactly one row per (issue, subscriber), fixed to one batch of one send when that send starts. */
@Entity('recipients')
export class Recipient {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('uuid') sendId: string;
  @Column('uuid') issueId: string;
  /** Null only for a test send's addresses. */
  @Column('uuid', { nullable: true }) subscriberId: string | null;
  @Column('int', { nullable: true }) batchNumber: number | null;
  @Column('text') email: string;
  @Column('text') status: RecipientStatus;
  /** The link frozen into this recipient's message before its batch's first request. */
  @Column('text', { nullable: true }) unsubscribeUrl: string | null;
  @Column('text', { nullable: true }) providerMessageId: string | null;
  @Column('text', { nullable: true }) error: string | null;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updatedAt: Date;
}

/** A provider webhook event, once per event id. */
@Entity('delivery_events')
export class DeliveryEvent {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('text', { unique: true }) eventId: string;
  @Column('text') type: string;
  @Column('text', { nullable: true }) providerMessageId: string | null;
  @Column('uuid', { nullable: true }) recipientId: string | null;
  @Column('uuid', { nullable: true }) sendId: string | null;
  @Column('timestamptz', { nullable: true }) occurredAt: Date | null;
  @Column('jsonb') payload: unknown;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updatedAt: Date;
}
