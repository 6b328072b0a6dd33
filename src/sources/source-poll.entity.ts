import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

export enum PollStatus {
  Running = 'running',
  Succeeded = 'succeeded',
  Failed = 'failed',
}

/** One poll of one source: what it saw and, if it failed, why (kept for editors). */
@Entity('source_polls')
export class SourcePoll {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('uuid') sourceId: string;
  @Column('timestamptz') startedAt: Date;
  @Column('timestamptz', { nullable: true }) finishedAt: Date | null;
  @Column('text') status: PollStatus;
  @Column('int') itemsSeen: number;
  @Column('int') itemsNew: number;
  @Column('int', { default: 0 }) itemsUpdated: number;
  @Column('int') itemsDuplicate: number;
  @Column('int') itemsInvalid: number;
  @Column('int', { default: 0 }) itemsOverCap: number;
  @Column('int', { nullable: true }) httpStatus: number | null;
  @Column('int', { nullable: true }) responseMs: number | null;
  @Column('boolean', { default: false }) notModified: boolean;
  /** The first rejected items and why ({index, reason}). */
  @Column('jsonb', { default: () => "'[]'" }) rejected: Array<{ index: number; reason: string }>;
  @Column('text', { nullable: true }) error: string | null;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updatedAt: Date;
}
