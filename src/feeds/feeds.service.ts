import { Inject, Injectable } from '@nestjs/common';
import { type AppConfig } from '../kernel/config/config';
import { APP_CONFIG } from '../kernel/config/config.module';
import { IssuesService } from '../issues/issues.service';
import { NarrativesService } from '../narratives/narratives.service';
import { buildFeed, FEED_FILES, FEED_FORMATS, feedPageUrl, issueEntry, storyEntry, type FeedChannel, type FeedDocument, type FeedFormat } from './feed-builder';
import { siteInfo, type SiteInfo } from './pages/views';

/** Stories per feed page. */
export const FEED_STORY_LIMIT = 50;
/** Issues per page of the issues feed (each is read with its stories). */
export const FEED_ISSUE_LIMIT = 20;

/** What a feed follows: every story, the weekly issues, or one beat's stories. */
export type FeedTopic = { kind: 'stories' } | { kind: 'issues' } | { kind: 'beat'; slug: string };

export interface ServedFeed extends FeedDocument {
  /** Extra `Link` header values (self, hub). */
  links: string[];
}

/** The folder a topic's feeds live under: `` for stories (`/feed.xml`), `/issues`, `/beats/<slug>`. */
export function topicPath(topic: FeedTopic): string {
  return topic.kind === 'stories' ? '' : topic.kind === 'issues' ? '/issues' : `/beats/${encodeURIComponent(topic.slug)}`;
}

/** Reads what the feeds show and builds the documents; the public cache adds HTTP caching around them. */
@Injectable()
export class FeedsService {
  /** What an empty site reports as its last change when it has no beat either (constant for this process). */
  private readonly bootTime = new Date(Math.floor(Date.now() / 1000) * 1000);

  constructor(
    private readonly narratives: NarrativesService,
    private readonly issues: IssuesService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  get site(): SiteInfo {
    return siteInfo(this.config);
  }

  /** Absolute URL of page 1 of a topic's feed in one format (what WebSub topics and autodiscovery name). */
  feedUrl(topic: FeedTopic, format: FeedFormat): string {
    return `${this.site.publicUrl}${topicPath(topic)}/${FEED_FILES[format]}`;
  }

  /** Every feed topic there is: stories, issues and one per beat. */
  async topics(): Promise<FeedTopic[]> {
    const beats = await this.narratives.listBeats();
    return [{ kind: 'stories' }, { kind: 'issues' }, ...beats.map((b) => ({ kind: 'beat' as const, slug: b.slug }))];
  }

  /** Changes whenever anything a feed or page shows changes (one small query per module). */
  async changeMarker(): Promise<string> {
    return `${await this.narratives.changeMarker()}#${await this.issues.changeMarker()}`;
  }

  /** One page of a feed; null when the beat does not exist or the page is past the last one. */
  async feed(topic: FeedTopic, format: FeedFormat, page = 1): Promise<ServedFeed | null> {
    const site = this.site;
    const beats = await this.narratives.listBeats();
    const emptyUpdated = beats.reduce<Date | null>((max, b) => (!max || b.updatedAt > max ? b.updatedAt : max), null) ?? this.bootTime;
    const feedUrls = Object.fromEntries(FEED_FORMATS.map((f) => [f, this.feedUrl(topic, f)])) as Record<FeedFormat, string>;
    const base: Omit<FeedChannel, 'title' | 'description' | 'homeUrl' | 'page' | 'pages'> = {
      feedUrls,
      categoryScheme: `${site.publicUrl}/beats/`,
      authors: [{ name: site.title, url: `${site.publicUrl}/` }],
      language: 'en',
      hub: this.config.websub.hubUrl,
      emptyUpdated,
    };
    let document: FeedDocument;
    if (topic.kind === 'issues') {
      const pages = Math.max(1, Math.ceil((await this.issues.countPublic()) / FEED_ISSUE_LIMIT));
      if (page > pages) return null;
      const issues = await this.issues.listPublicWithStories(FEED_ISSUE_LIMIT, (page - 1) * FEED_ISSUE_LIMIT);
      const channel: FeedChannel = {
        ...base,
        title: `${site.title}: weekly issues`,
        description: `Every weekly issue of ${site.title}. ${site.description}`,
        homeUrl: `${site.publicUrl}/issues`,
        page,
        pages,
      };
      document = buildFeed(
        format,
        channel,
        issues.map((issue) => issueEntry(site, issue)),
      );
    } else {
      const beat = topic.kind === 'beat' ? beats.find((b) => b.slug === topic.slug) : undefined;
      if (topic.kind === 'beat' && !beat) return null;
      const pages = Math.max(1, Math.ceil((await this.narratives.countPublished(beat?.slug)) / FEED_STORY_LIMIT));
      if (page > pages) return null;
      const stories = await this.narratives.latest(FEED_STORY_LIMIT, beat?.slug, (page - 1) * FEED_STORY_LIMIT);
      const channel: FeedChannel = {
        ...base,
        title: beat ? `${site.title}: ${beat.name}` : site.title,
        description: beat ? beat.description : site.description,
        homeUrl: `${site.publicUrl}${topicPath(topic) || '/'}`,
        page,
        pages,
      };
      document = buildFeed(
        format,
        channel,
        stories.map((story) => storyEntry(site, story)),
      );
    }
    const links = [`<${feedPageUrl(feedUrls[format], page)}>; rel="self"`];
    if (this.config.websub.hubUrl) links.push(`<${this.config.websub.hubUrl}>; rel="hub"`);
    return { ...document, links };
  }
}
