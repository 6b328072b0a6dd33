import { Module } from '@nestjs/common';
import { SourcesModule } from '../sources/sources.module';
import { NarrativesRepository } from './narratives.repository';
import { NarrativesService } from './narratives.service';

@Module({
  imports: [SourcesModule],
  providers: [NarrativesService, NarrativesRepository],
  exports: [NarrativesService],
})
export class NarrativesModule {}
