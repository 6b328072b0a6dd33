import { Injectable } from '@nestjs/common';
import { DataSource, type Repository } from 'typeorm';
import { Subscriber, SubscriberStatus } from './subscriber.entity';

@Injectable()
export class SubscriberRepository {
  private readonly repo: Repository<Subscriber>;

  constructor(private readonly dataSource: DataSource) {
    this.repo = dataSource.getRepository(Subscriber);
  }

  getByEmail(email: string): Promise<Subscriber | null> {
    return this.repo.createQueryBuilder('s').where('lower(s.email) = lower(:email)', { email }).getOne();
  }

  getById(id: string): Promise<Subscriber | null> {
    return this.repo.findOneBy({ id });
  }

  /** Inserts a pending subscriber unless the address exists; returns the row either way. */
  async insertIfAbsent(row: Omit<Subscriber, 'id' | 'createdAt' | 'updatedAt'>): Promise<{ subscriber: Subscriber; created: boolean }> {
    const result = await this.dataSource.query(
      `INSERT INTO subscribers (email, status, beat_slugs, consent_at, consent_source, consent_ip, confirmed_at, unsubscribed_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT ((lower(email))) DO NOTHING RETURNING id`,
      [row.email, row.status, row.beatSlugs, row.consentAt, row.consentSource, row.consentIp, row.confirmedAt, row.unsubscribedAt],
    );
    const subscriber = await this.getByEmail(row.email);
    return { subscriber: subscriber!, created: result.length === 1 };
  }

  async countByStatus(): Promise<Record<string, number>> {
    const rows = await this.repo.createQueryBuilder('s').select('s.status', 'status').addSelect('count(*)::int', 'count').groupBy('s.status').getRawMany<{ status: string; count: number }>();
    return Object.fromEntries(rows.map((r) => [r.status, Number(r.count)]));
  }

  save(subscriber: Subscriber): Promise<Subscriber> {
    return this.repo.save(subscriber);
  }

  /** Active subscribers after `afterId` in id order, for freezing a send's audience page by page. */
  getActiveAfter(afterId: string | null, limit: number): Promise<Subscriber[]> {
    const query = this.repo.createQueryBuilder('s').where('s.status = :status', { status: SubscriberStatus.Active });
    if (afterId) query.andWhere('s.id > :afterId', { afterId });
    return query.orderBy('s.id', 'ASC').take(limit).getMany();
  }

  /** SQL selecting (id, email, beat_slugs) of every subscriber who may be mailed an issue now. */
  audienceSql(): string {
    return `SELECT id, email, beat_slugs FROM subscribers WHERE status = '${SubscriberStatus.Active}'`;
  }

  async activeIds(ids: string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows = await this.repo.createQueryBuilder('s').select('s.id', 'id').where('s.id IN (:...ids)', { ids }).andWhere('s.status = :status', { status: SubscriberStatus.Active }).getRawMany<{ id: string }>();
    return new Set(rows.map((r) => r.id));
  }
}
