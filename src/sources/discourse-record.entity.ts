import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { type Platform } from './source.entity';

/** One public post, comment or article, as plain text. */
@Entity('discourse_records')
export class DiscourseRecord {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('uuid') sourceId: string;
  @Column('text') platform: Platform;
  @Column('text') externalId: string;
  @Column('text') url: string;
  @Column('text') canonicalUrl: string;
  @Column('text') title: string;
  @Column('text') author: string;
  @Column('text') text: string;
  @Column('timestamptz') publishedAt: Date;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updatedAt: Date;
}
