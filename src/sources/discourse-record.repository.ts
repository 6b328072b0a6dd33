import { Injectable } from '@nestjs/common';
import { Between, DataSource, In, type Repository } from 'typeorm';
import { DiscourseRecord } from './discourse-record.entity';

export type NewRecord = Omit<DiscourseRecord, 'id' | 'createdAt' | 'updatedAt'>;

@Injectable()
export class DiscourseRecordRepository {
  private readonly records: Repository<DiscourseRecord>;

  constructor(dataSource: DataSource) {
    this.records = dataSource.getRepository(DiscourseRecord);
  }

  /**
   * Inserts in batches; a record already known by (source, item id) or by canonical URL is skipped.
   * Returns how many were new.
   */
  async insertNew(rows: NewRecord[]): Promise<number> {
    let inserted = 0;
    for (let i = 0; i < rows.length; i += 500) {
      const result = await this.records
        .createQueryBuilder()
        .insert()
        .into(DiscourseRecord)
        .values(rows.slice(i, i + 500))
        .orIgnore()
        .returning(['id'])
        .execute();
      inserted += result.raw.length;
    }
    return inserted;
  }

  publishedBetween(from: Date, to: Date): Promise<DiscourseRecord[]> {
    return this.records.find({ where: { publishedAt: Between(from, new Date(to.getTime() - 1)) }, order: { publishedAt: 'ASC' } });
  }

  getByIds(ids: string[]): Promise<DiscourseRecord[]> {
    return ids.length ? this.records.findBy({ id: In(ids) }) : Promise.resolve([]);
  }

  async latestPublishedAt(): Promise<Date | null> {
    const row = await this.records.createQueryBuilder('r').select('max(r.published_at)', 'max').getRawOne<{ max: Date | null }>();
    return row?.max ? new Date(row.max) : null;
  }

  count(): Promise<number> {
    return this.records.count();
  }
}
