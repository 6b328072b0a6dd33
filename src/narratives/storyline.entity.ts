import { type StorylineSignals } from './storyline-clusterer';
import { Column, CreateDateColumn, Entity, PrimaryColumn, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

/** A cluster of records on one beat in one week, ranked by volume and cross-platform spread. */
@Entity('storylines')
export class Storyline {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('uuid') beatId: string;
  @Column('timestamptz') windowStart: Date;
  @Column('timestamptz') windowEnd: Date;
  /** Stable identity across re-clustering: the id of the storyline's earliest record. */
  @Column('text') key: string;
  @Column('text') label: string;
  @Column('int') recordCount: number;
  @Column('int') platformCount: number;
  @Column('float8') score: number;
  /** Hash of the member record ids: a narrative is rewritten only when this changes. */
  @Column('text') membershipHash: string;
  /** Records that try to instruct the writer (prompt injection), for editors. */
  @Column('jsonb', { default: () => "'[]'::jsonb" }) flaggedRecords: Array<{ recordId: string; excerpt: string }>;
  /** The ranking signals behind `score`. */
  @Column('jsonb', { nullable: true }) signals: StorylineSignals | null;
  /** Last week's storyline this one continues, if any. */
  @Column('uuid', { nullable: true }) previousStorylineId: string | null;
  @Column('text', { nullable: true }) lastWriteError: string | null;
  @Column('timestamptz', { nullable: true }) lastWriteErrorAt: Date | null;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updatedAt: Date;
}

@Entity('storyline_records')
export class StorylineRecord {
  @PrimaryColumn('uuid') storylineId: string;
  @PrimaryColumn('uuid') recordId: string;
}
