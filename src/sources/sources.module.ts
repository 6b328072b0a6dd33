import { Module } from '@nestjs/common';
import { DiscourseRecordRepository } from './discourse-record.repository';
import { SourceRepository } from './source.repository';
import { SourcesService } from './sources.service';

@Module({
  providers: [SourcesService, SourceRepository, DiscourseRecordRepository],
  exports: [SourcesService],
})
export class SourcesModule {}
