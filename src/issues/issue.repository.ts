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
        m.getRepository(Issue).create({
          number: Number(next),
          weekStart: input.weekStart,
          weekEnd: input.weekEnd,
          title: input.title,
          intro: input.intro,
          subject: null,
          preheader: null,
          status: IssueStatus.Draft,
          approvedAt: null,
          publishedAt: null,
        }),
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

  /**
   * Replaces the issue's entries with `narrativeIds` in that order, only while the issue has status `onlyIf`
   * (checked under a row lock, so a send that starts meanwhile never sees a half-written list).
   */
  setEntries(issueId: string, narrativeIds: string[], onlyIf: IssueStatus): Promise<boolean> {
    return this.dataSource.transaction(async (m) => {
      const rows: Array<{ status: string }> = await m.query(`SELECT status FROM issues WHERE id = $1 FOR UPDATE`, [issueId]);
      if (rows[0]?.status !== onlyIf) return false;
      await m.getRepository(IssueEntry).delete({ issueId });
      if (narrativeIds.length) await m.getRepository(IssueEntry).insert(narrativeIds.map((narrativeId, position) => ({ issueId, narrativeId, position })));
      await m.getRepository(Issue).update({ id: issueId }, { updatedAt: new Date() });
      return true;
    });
  }

  async updateCopy(issueId: string, changes: Partial<Pick<Issue, 'title' | 'intro' | 'subject' | 'preheader'>>, onlyIf: IssueStatus): Promise<boolean> {
    const result = await this.dataSource.getRepository(Issue).update({ id: issueId, status: onlyIf }, changes);
    return (result.affected ?? 0) > 0;
  }

  listPublic(limit: number, offset = 0): Promise<Issue[]> {
    return this.dataSource.getRepository(Issue).find({
      where: { status: In([IssueStatus.Approved, IssueStatus.Sent]) },
      order: { number: 'DESC' },
      take: limit,
      skip: offset,
    });
  }

  /** Public issues that carry a narrative, newest first. */
  publicContaining(narrativeId: string): Promise<Issue[]> {
    return this.dataSource
      .getRepository(Issue)
      .createQueryBuilder('i')
      .innerJoin(IssueEntry, 'e', 'e.issue_id = i.id')
      .where('e.narrative_id = :narrativeId', { narrativeId })
      .andWhere('i.status IN (:...statuses)', { statuses: [IssueStatus.Approved, IssueStatus.Sent] })
      .orderBy('i.number', 'DESC')
      .getMany();
  }

  countPublic(): Promise<number> {
    return this.dataSource.getRepository(Issue).countBy({ status: In([IssueStatus.Approved, IssueStatus.Sent]) });
  }

  /** A cheap fingerprint of issues and their entries: it moves whenever one is written or removed. */
  async changeMarker(): Promise<string> {
    const [row] = await this.dataSource.query(
      `SELECT (SELECT count(*) || '/' || coalesce(max(updated_at)::text, '') FROM issues) AS i,
              (SELECT count(*) || '/' || coalesce(max(updated_at)::text, '') FROM issue_entries) AS e`,
    );
    return `${row.i}|${row.e}`;
  }

  /** Every issue, drafts included, newest first. */
  list(limit: number): Promise<Issue[]> {
    return this.dataSource.getRepository(Issue).find({ order: { number: 'DESC' }, take: limit });
  }

  listByStatus(status: IssueStatus): Promise<Issue[]> {
    return this.dataSource.getRepository(Issue).find({ where: { status }, order: { number: 'ASC' } });
  }
}
