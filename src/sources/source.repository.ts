import { Injectable } from '@nestjs/common';
import { DataSource, type Repository } from 'typeorm';
import { Source } from './source.entity';
import { PollStatus, SourcePoll } from './source-poll.entity';

export type SourceDefinition = Pick<Source, 'slug' | 'name' | 'platform' | 'kind' | 'location' | 'beatSlugs'>;

@Injectable()
export class SourceRepository {
  private readonly sources: Repository<Source>;
  private readonly polls: Repository<SourcePoll>;

  constructor(dataSource: DataSource) {
    this.sources = dataSource.getRepository(Source);
    this.polls = dataSource.getRepository(SourcePoll);
  }

  async upsert(definitions: SourceDefinition[]): Promise<void> {
    if (definitions.length === 0) return;
    await this.sources.upsert(
      definitions.map((d) => ({ ...d, enabled: true })),
      { conflictPaths: ['slug'], skipUpdateIfNoValuesChanged: true },
    );
  }

  listEnabled(): Promise<Source[]> {
    return this.sources.find({ where: { enabled: true }, order: { slug: 'ASC' } });
  }

  listAll(): Promise<Source[]> {
    return this.sources.find({ order: { slug: 'ASC' } });
  }

  getBySlug(slug: string): Promise<Source | null> {
    return this.sources.findOneBy({ slug });
  }

  async startPoll(sourceId: string, at: Date): Promise<SourcePoll> {
    return this.polls.save(
      this.polls.create({ sourceId, startedAt: at, status: PollStatus.Running, itemsSeen: 0, itemsNew: 0, itemsDuplicate: 0, itemsInvalid: 0, error: null, finishedAt: null }),
    );
  }

  async finishPoll(poll: SourcePoll, at: Date, result: { error: string | null }): Promise<void> {
    poll.finishedAt = at;
    poll.status = result.error ? PollStatus.Failed : PollStatus.Succeeded;
    poll.error = result.error;
    await this.polls.save(poll);
    await this.sources.update(
      { id: poll.sourceId },
      result.error ? { lastPolledAt: at, lastError: result.error, lastErrorAt: at } : { lastPolledAt: at, lastError: null },
    );
  }
}
