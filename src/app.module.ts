import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import { migrations } from '../migrations';
import { AdminModule } from './admin/admin.module';
import { entities } from './entities';
import { DeliveryModule } from './delivery/delivery.module';
import { FeedsModule } from './feeds/feeds.module';
import { SiteErrorPages } from './feeds/site-error-pages';
import { IssuesModule } from './issues/issues.module';
import { type AppConfig } from './kernel/config/config';
import { ConfigModule } from './kernel/config/config.module';
import { DatabaseModule } from './kernel/database/database.module';
import { ErrorPages } from './kernel/errors/error-pages.port';
import { ProblemDetailsFilter } from './kernel/errors/problem-details.filter';
import { HealthController } from './kernel/health.controller';
import { KernelModule } from './kernel/kernel.module';
import { MetricsController } from './kernel/metrics/metrics.controller';
import { NarrativesModule } from './narratives/narratives.module';
import { SourcesModule } from './sources/sources.module';
import { SubscribersModule } from './subscribers/subscribers.module';

@Module({})
export class AppModule {
  /** `commandLine`: a CLI command's application (it may reach the embedded database through a running server). */
  static forRoot(config: AppConfig, options: { commandLine?: boolean } = {}): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        DatabaseModule.forRoot({ entities, migrations, viaRunningServer: options.commandLine }),
        ScheduleModule.forRoot(),
        KernelModule,
        SourcesModule,
        NarrativesModule,
        IssuesModule,
        SubscribersModule,
        DeliveryModule,
        FeedsModule,
        AdminModule,
      ],
      controllers: [HealthController, MetricsController],
      providers: [
        { provide: ErrorPages, useClass: SiteErrorPages },
        { provide: APP_FILTER, useClass: ProblemDetailsFilter },
      ],
    };
  }
}
