import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

export enum SubscriberStatus {
  /** Asked to subscribe, never confirmed. */
  Pending = 'pending',
  Active = 'active',
  Unsubscribed = 'unsubscribed',
  /** Hard bounce, complaint or an editor's decision: never mailed until a fresh confirmation. */
  Suppressed = 'suppressed',
  /** Personal data removed at the subscriber's or an editor's request; the row stays for anonymous counts. */
  Deleted = 'deleted',
}

export type SuppressionReason = 'bounced' | 'complained' | 'manual';

@Entity('subscribers')
export class Subscriber {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('text') email: string;
  @Column('text', { nullable: true }) name: string | null;
  @Column('text') status: SubscriberStatus;
  /** Only these beats, or every beat when null. */
  @Column('text', { array: true, nullable: true }) beatSlugs: string[] | null;
  @Column('timestamptz') consentAt: Date;
  /** Where consent was given: "web-form", "api", "demo-seed", "import", "import-attested". */
  @Column('text') consentSource: string;
  /** Legacy: raw IPs are no longer stored (see consentIpHash). */
  @Column('text', { nullable: true }) consentIp: string | null;
  /** The words of the form the consent was given on. */
  @Column('text', { nullable: true }) consentText: string | null;
  /** HMAC of the client's network (IPv4 address, IPv6 /64) under the signing key: comparable, not reversible. */
  @Column('text', { nullable: true }) consentIpHash: string | null;
  /** When the current confirmation link was issued; older links and re-sends within the interval are void. */
  @Column('timestamptz', { nullable: true }) confirmRequestedAt: Date | null;
  @Column('timestamptz', { nullable: true }) confirmedAt: Date | null;
  @Column('timestamptz', { nullable: true }) unsubscribedAt: Date | null;
  @Column('timestamptz', { nullable: true }) suppressedAt: Date | null;
  @Column('text', { nullable: true }) suppressionReason: SuppressionReason | null;
  @Column('text', { nullable: true }) suppressionDetail: string | null;
  @Column('timestamptz', { nullable: true }) pausedUntil: Date | null;
  /** A new address waiting for its own confirmation; the subscription moves only once it is confirmed. */
  @Column('text', { nullable: true }) pendingEmail: string | null;
  @Column('timestamptz', { nullable: true }) pendingEmailRequestedAt: Date | null;
  @Column('timestamptz', { nullable: true }) deletedAt: Date | null;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updatedAt: Date;
}
