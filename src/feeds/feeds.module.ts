import { Module } from '@nestjs/common';
import { IssuesModule } from '../issues/issues.module';
import { NarrativesModule } from '../narratives/narratives.module';
import { SubscribersModule } from '../subscribers/subscribers.module';
import { FeedsController } from './feeds.controller';
import { FeedsService } from './feeds.service';
import { SiteController } from './site.controller';
import { SubscriptionApiController } from './subscription-api.controller';
import { SubscriptionController } from './subscription.controller';

/** The public website and its feeds. FeedsController comes first: `/issues/feed.xml` must win over `/issues/:number`. */
@Module({
  imports: [NarrativesModule, IssuesModule, SubscribersModule],
  controllers: [FeedsController, SiteController, SubscriptionController, SubscriptionApiController],
  providers: [FeedsService],
})
export class FeedsModule {}
