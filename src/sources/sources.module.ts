import { Module } from '@nestjs/common';
import { APP_CONFIG } from '../kernel/config/config.module';
import { type AppConfig } from '../kernel/config/config';
import { DiscourseRecordRepository } from './discourse-record.repository';
import { FeedParsePool } from './parsing/feed-parse-pool';
import { RecordWriter } from './record-writer';
import { SourcePoller } from './source-poller';
import { SourceRepository } from './source.repository';
import { SourcesMetrics } from './sources.metrics';
import { SourcesService } from './sources.service';

@Module({
  providers: [
    SourcesService,
    SourcePoller,
    SourcesMetrics,
    SourceRepository,
    DiscourseRecordRepository,
    RecordWriter,
    { provide: FeedParsePool, inject: [APP_CONFIG], useFactory: (config: AppConfig) => new FeedParsePool(config.sources.parse) },
  ],
  exports: [SourcesService],
})
export class SourcesModule {}
