import { Column, CreateDateColumn, Entity, PrimaryColumn, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

export enum NarrativeStatus {
  Published = 'published',
  /** Below the fidelity threshold: kept for an editor, not published automatically. */
  Held = 'held',
  /** Taken down by an editor: off the site and out of issues until an editor approves it again. */
  Unpublished = 'unpublished',
}

/** A paragraph is a list of runs of text, each followed by its citation numbers. */
export interface NarrativeSegment {
  text: string;
  cites: number[];
}
export type NarrativeParagraph = NarrativeSegment[];

export type { FidelityReport } from './draft-assessment';
import { type FidelityReport } from './draft-assessment';

@Entity('narratives')
export class Narrative {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('uuid', { unique: true }) storylineId: string;
  @Column('uuid') beatId: string;
  @Column('text', { unique: true }) slug: string;
  @Column('text') status: NarrativeStatus;
  @Column('text') headline: string;
  @Column('text') dek: string;
  @Column('jsonb') paragraphs: NarrativeParagraph[];
  @Column('text') writer: string;
  @Column('text', { nullable: true }) model: string | null;
  @Column('float8') fidelity: number;
  @Column('jsonb') fidelityReport: FidelityReport;
  @Column('int') version: number;
  @Column('text') membershipHash: string;
  @Column('timestamptz', { nullable: true }) publishedAt: Date | null;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updatedAt: Date;
}

@Entity('narrative_versions')
export class NarrativeVersion {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('uuid') narrativeId: string;
  @Column('int') version: number;
  @Column('text') headline: string;
  @Column('text') dek: string;
  @Column('jsonb') paragraphs: NarrativeParagraph[];
  @Column('text') writer: string;
  @Column('text', { nullable: true }) model: string | null;
  @Column('float8') fidelity: number;
  @Column('jsonb', { nullable: true }) usage: Record<string, number> | null;
  @Column('jsonb', { nullable: true }) fidelityReport: FidelityReport | null;
  @Column('text', { nullable: true }) status: NarrativeStatus | null;
  /** Who edited this version by hand (null for a writer's version). */
  @Column('text', { nullable: true }) editor: string | null;
  @Column('float8', { nullable: true }) costUsd: number | null;
  @Column('uuid', { nullable: true }) runId: string | null;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updatedAt: Date;
}

@Entity('narrative_citations')
export class NarrativeCitation {
  @PrimaryColumn('uuid') narrativeId: string;
  @PrimaryColumn('int') number: number;
  @Column('uuid') recordId: string;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updatedAt: Date;
}

/** One writing run (a build of narratives): tokens and estimated cost. */
@Entity('narrative_runs')
export class NarrativeRun {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('timestamptz') startedAt: Date;
  @Column('timestamptz', { nullable: true }) finishedAt: Date | null;
  @Column('timestamptz', { nullable: true }) weekStart: Date | null;
  @Column('text') writer: string;
  @Column('text', { nullable: true }) model: string | null;
  @Column('boolean', { default: false }) batch: boolean;
  @Column('int', { default: 0 }) written: number;
  @Column('int', { default: 0 }) failed: number;
  @Column('bigint', { default: 0, transformer: { to: (v: number) => v, from: (v: string | null) => Number(v ?? 0) } }) inputTokens: number;
  @Column('bigint', { default: 0, transformer: { to: (v: number) => v, from: (v: string | null) => Number(v ?? 0) } }) outputTokens: number;
  @Column('bigint', { default: 0, transformer: { to: (v: number) => v, from: (v: string | null) => Number(v ?? 0) } }) cacheReadTokens: number;
  @Column('bigint', { default: 0, transformer: { to: (v: number) => v, from: (v: string | null) => Number(v ?? 0) } }) cacheWriteTokens: number;
  @Column('float8', { default: 0 }) costUsd: number;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updatedAt: Date;
}
