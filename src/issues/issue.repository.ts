import { Injectable } from '@nestjs/common';
import { DataSource, In } from 'typeorm';
import { Issue, IssueEntry, IssueStatus } from './issue.entity';

@Injectable()
export class IssueRepository {
  constructor(private readonly dataSource: DataSource) {}

  getByWeek(weekStart: Date): Promise<Issue | null> {
    return this.dataSource.getRepository(Issue).findOneBy({ weekStart });
  }

  getById(id: string): Promise<Issue | null> {
    return this.dataSource.getRepository(Issue).findOneBy({ id });
  }

  getByNumber(number: number): Promise<Issue | null> {
    return this.dataSource.getRepository(Issue).findOneBy({ number });
  }

  /** Creates the issue and its entries in one transaction; the number is the next free one. */
  create(input: { weekStart: Date; weekEnd: Date; title: string; intro: string; narrativeIds: string[] }): Promise<Issue> {
    return this.dataSource.transaction(async (m) => {
      // Serialise numbering across instances; the unique week_start stops a second issue for the week.
      await m.query(`SELECT pg_advisory_xact_lock(hashtext('broadsheet:issue-number'))`);
      const [{ next }] = await m.query(`SELECT coalesce(max(number), 0) + 1 AS next FROM issues`);
      const issue = await m.getRepository(Issue).save(
        m.getRepository(Issue).create({ number: Number(next), weekStart: input.weekStart, weekEnd: input.weekEnd, title: input.title, intro: input.intro, status: IssueStatus.Draft, approvedAt: null, publishedAt: null }),
      );
      await m.getRepository(IssueEntry).insert(input.narrativeIds.map((narrativeId, position) => ({ issueId: issue.id, narrativeId, position })));
      return issue;
    });
  }

  async entries(issueId: string): Promise<string[]> {
    const rows = await this.dataSource.getRepository(IssueEntry).find({ where: { issueId }, order: { position: 'ASC' } });
    return rows.map((r) => r.narrativeId);
  }

  async setStatus(id: string, from: IssueStatus[], to: IssueStatus, at: Date): Promise<boolean> {
    const changes: Partial<Issue> = { status: to };
    if (to === IssueStatus.Approved) Object.assign(changes, { approvedAt: at, publishedAt: at });
    const result = await this.dataSource.getRepository(Issue).update({ id, status: In(from) }, changes);
    return (result.affected ?? 0) > 0;
  }

  listPublic(limit: number): Promise<Issue[]> {
    return this.dataSource.getRepository(Issue).find({
      where: { status: In([IssueStatus.Approved, IssueStatus.Sent]) },
      order: { number: 'DESC' },
      take: limit,
    });
  }

  /** Every issue, drafts included, newest first. */
  list(limit: number): Promise<Issue[]> {
    return this.dataSource.getRepository(Issue).find({ order: { number: 'DESC' }, take: limit });
  }

  listByStatus(status: IssueStatus): Promise<Issue[]> {
    return this.dataSource.getRepository(Issue).find({ where: { status }, order: { number: 'ASC' } });
  }
}
