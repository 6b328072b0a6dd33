import { type MiddlewareConsumer, Module, type NestModule, RequestMethod } from '@nestjs/common';
import { IssuesModule } from '../issues/issues.module';
import { NarrativesModule } from '../narratives/narratives.module';
import { SubscribersModule } from '../subscribers/subscribers.module';
import { FeedsService } from './feeds.service';
import { PublicCache } from './public-cache';
import { PublicFastPath } from './public-fast-path';
import { PublicSite } from './public-site';
import { PublicSiteMiddleware } from './public-site.middleware';
import { PublicApiController } from './public-api.controller';
import { SearchController } from './search.controller';
import { SubscriptionApiController } from './subscription-api.controller';
import { SubscriptionController } from './subscription.controller';
import { WebSubPublisher } from './websub.publisher';

/**
 * The public website and its feeds. Every public GET (pages, feeds, robots.txt, sitemap.xml, favicon) is answered by
 * PublicSiteMiddleware from PublicCache before Nest's router, and a cache hit even before express (PublicFastPath);
 * SubscriptionController keeps the form routes.
 */
@Module({
  imports: [NarrativesModule, IssuesModule, SubscribersModule],
  controllers: [SubscriptionController, SubscriptionApiController, SearchController, PublicApiController],
  providers: [FeedsService, PublicCache, PublicSite, PublicSiteMiddleware, PublicFastPath, WebSubPublisher],
  exports: [PublicCache],
})
export class FeedsModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(PublicSiteMiddleware).forRoutes({ path: '{*path}', method: RequestMethod.GET }, { path: '{*path}', method: RequestMethod.HEAD });
  }
}
