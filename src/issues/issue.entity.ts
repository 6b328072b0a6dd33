import { Column, CreateDateColumn, Entity, PrimaryColumn, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

export enum IssueStatus {
  Draft = 'draft',
  /** Approved by an editor (or automatically in the demo): public on the site and ready to send. */
  Approved = 'approved',
  Sent = 'sent',
}

@Entity('issues')
export class Issue {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('int', { unique: true }) number: number;
  @Column('timestamptz', { unique: true }) weekStart: Date;
  @Column('timestamptz') weekEnd: Date;
  @Column('text') title: string;
  @Column('text') intro: string;
  /** The digest's subject when an editor set it; null: derived from the lead story. */
  @Column('text', { nullable: true }) subject: string | null;
  /** The inbox preview text after the subject when an editor set it; null: derived from the lead story. */
  @Column('text', { nullable: true }) preheader: string | null;
  @Column('text') status: IssueStatus;
  @Column('timestamptz', { nullable: true }) approvedAt: Date | null;
  @Column('timestamptz', { nullable: true }) publishedAt: Date | null;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updatedAt: Date;
}

@Entity('issue_entries')
export class IssueEntry {
  @PrimaryColumn('uuid') issueId: string;
  @PrimaryColumn('uuid') narrativeId: string;
  @Column('int') position: number;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updatedAt: Date;
}
