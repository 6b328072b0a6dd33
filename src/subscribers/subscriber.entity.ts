import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

export enum SubscriberStatus {
  Pending = 'pending',
  Active = 'active',
  Unsubscribed = 'unsubscribed',
}

@Entity('subscribers')
export class Subscriber {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('text') email: string;
  @Column('text') status: SubscriberStatus;
  /** Only these beats, or every beat when null. */
  @Column('text', { array: true, nullable: true }) beatSlugs: string[] | null;
  @Column('timestamptz') consentAt: Date;
  /** Where consent was given: "web-form", "demo-seed", "admin-import". */
  @Column('text') consentSource: string;
  @Column('text', { nullable: true }) consentIp: string | null;
  @Column('timestamptz', { nullable: true }) confirmedAt: Date | null;
  @Column('timestamptz', { nullable: true }) unsubscribedAt: Date | null;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updatedAt: Date;
}
