import { Column, CreateDateColumn, Entity, PrimaryColumn, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

export enum NarrativeStatus {
  Published = 'published',
  /** Below the fidelity threshold: kept for an editor, not published automatically. */
  Held = 'held',
}

/** A paragraph is a list of runs of text, each followed by its citation numbers. */
export interface NarrativeSegment {
  text: string;
  cites: number[];
}
export type NarrativeParagraph = NarrativeSegment[];

export interface FidelityReport {
  checks: number;
  failed: Array<{ kind: 'quote' | 'number' | 'name'; value: string; where: string }>;
}

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
