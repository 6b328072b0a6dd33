import { Module } from '@nestjs/common';
import { NarrativesModule } from '../narratives/narratives.module';
import { IssueRepository } from './issue.repository';
import { IssuesService } from './issues.service';

@Module({
  imports: [NarrativesModule],
  providers: [IssuesService, IssueRepository],
  exports: [IssuesService],
})
export class IssuesModule {}
