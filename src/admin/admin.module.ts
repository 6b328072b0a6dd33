import { Module } from '@nestjs/common';
import { DeliveryModule } from '../delivery/delivery.module';
import { IssuesModule } from '../issues/issues.module';
import { NarrativesModule } from '../narratives/narratives.module';
import { SourcesModule } from '../sources/sources.module';
import { SubscribersModule } from '../subscribers/subscribers.module';
import { DemoSeeder } from './demo-seeder';
import { PipelineService } from './pipeline.service';

/** Thin for now: the pipeline's schedules and one-shot run, and the demo seeder. */
@Module({
  imports: [SourcesModule, NarrativesModule, IssuesModule, SubscribersModule, DeliveryModule],
  providers: [PipelineService, DemoSeeder],
  exports: [PipelineService, DemoSeeder],
})
export class AdminModule {}
