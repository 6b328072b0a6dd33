import { Module, RequestMethod, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { DeliveryModule } from '../delivery/delivery.module';
import { IssuesModule } from '../issues/issues.module';
import { NarrativesModule } from '../narratives/narratives.module';
import { SourcesModule } from '../sources/sources.module';
import { SubscribersModule } from '../subscribers/subscribers.module';
import { AdminRepository } from './admin.repository';
import { AuditService } from './audit/audit.service';
import { AccountsService } from './auth/accounts.service';
import { AdminAuthGuard } from './auth/admin-auth.guard';
import { TokensService } from './auth/tokens.service';
import { DemoOwner } from './demo-owner';
import { DemoSeeder } from './demo-seeder';
import { PipelineService } from './pipeline.service';
import { ApiController } from './api/api.controller';
import { CurationApiController } from './api/curation-api.controller';
import { CurationService } from './curation.service';
import { CurationController } from './web/curation.controller';
import { CsvUploadMiddleware } from './web/csv-upload.middleware';
import { AdminPageFilter } from './web/admin-page.filter';
import { AuthController } from './web/auth.controller';
import { WorkspaceController } from './web/workspace.controller';
import { WorkspaceService } from './workspace.service';

/** Editors: accounts, sessions, API tokens, the audit log, the /admin workspace and the /api/v1 API; the pipeline's schedules. */
@Module({
  imports: [SourcesModule, NarrativesModule, IssuesModule, SubscribersModule, DeliveryModule],
  controllers: [AuthController, WorkspaceController, CurationController, ApiController, CurationApiController],
  providers: [
    PipelineService,
    DemoSeeder,
    DemoOwner,
    AdminRepository,
    AuditService,
    AccountsService,
    TokensService,
    WorkspaceService,
    CurationService,
    AdminPageFilter,
    { provide: APP_GUARD, useClass: AdminAuthGuard },
  ],
  exports: [PipelineService, DemoSeeder, DemoOwner, AccountsService, TokensService, AuditService],
})
export class AdminModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer
      .apply(CsvUploadMiddleware)
      .forRoutes({ path: 'admin/subscribers/import', method: RequestMethod.POST }, { path: 'api/v1/subscribers/import', method: RequestMethod.POST });
  }
}
