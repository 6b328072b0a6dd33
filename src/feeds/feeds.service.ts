import { Inject, Injectable } from '@nestjs/common';
import { type AppConfig } from '../kernel/config/config';
import { APP_CONFIG } from '../kernel/config/config.module';
import { IssuesService } from '../issues/issues.service';
import { NarrativesService } from '../narratives/narratives.service';
import { strongEtag } from './conditional-get';
import { buildIssuesFeed, buildStoriesFeed, type FeedDocument, type FeedFormat } from './feed-builder';
import { siteInfo, type SiteInfo } from './pages/views';

/** Stories per feed. */
export const FEED_STORY_LIMIT = 50;
/** Issues in the issues feed (each is read with its stories). */
export const FEED_ISSUE_LIMIT = 20;

export interface ServedFeed extends FeedDocument {
  etag: string;
}

/** Reads what the feeds show and builds the documents; the controller adds the HTTP caching. */
@Injectable()
export class FeedsService {
  constructor(
    private readonly narratives: NarrativesService,
    private readonly issues: IssuesService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  get site(): SiteInfo {
    return siteInfo(this.config);
  }

  async storiesFeed(format: FeedFormat): Promise<ServedFeed> {
    const stories = await this.narratives.latest(FEED_STORY_LIMIT);
    const site = this.site;
    return served(
      buildStoriesFeed(
        format,
        site,
        {
          title: site.title,
          description: site.description,
          homePath: '/',
          feedPaths: { rss: '/feed.xml', atom: '/atom.xml', json: '/feed.json' },
        },
        stories,
      ),
    );
  }

  /** RSS of one beat; null when there is no such beat. */
  async beatFeed(slug: string): Promise<ServedFeed | null> {
    const beat = (await this.narratives.listBeats()).find((b) => b.slug === slug);
    if (!beat) return null;
    const stories = await this.narratives.latest(FEED_STORY_LIMIT, beat.slug);
    const site = this.site;
    const path = `/beats/${encodeURIComponent(beat.slug)}`;
    return served(
      buildStoriesFeed('rss', site, { title: `${site.title}: ${beat.name}`, description: beat.description, homePath: path, feedPaths: { rss: `${path}/feed.xml` } }, stories),
    );
  }

  async issuesFeed(): Promise<ServedFeed> {
    return served(buildIssuesFeed(this.site, await this.issues.listPublicWithStories(FEED_ISSUE_LIMIT)));
  }
}

function served(document: FeedDocument): ServedFeed {
  return { ...document, etag: strongEtag(document.body) };
}
