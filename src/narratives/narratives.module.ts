import { Module } from '@nestjs/common';
import { SourcesModule } from '../sources/sources.module';
import { NarrativesRepository } from './narratives.repository';
import { NarrativesService } from './narratives.service';
import { DraftSaver } from './draft-saver';
import { NarrativeBatchRunner } from './narrative-batches';

@Module({
  imports: [SourcesModule],
  providers: [NarrativesService, NarrativesRepository, DraftSaver, NarrativeBatchRunner],
  exports: [NarrativesService],
})
export class NarrativesModule {}
