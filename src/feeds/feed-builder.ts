import escapeHtml from 'escape-html';
import { sanitizeContent } from './sanitize';
import { issueStories } from './pages/site-pages';
import { storyBody } from './pages/story-html';
import { absoluteLinks, type IssueWithStories, type SiteInfo, type StoryView } from './pages/views';
import { element, emptyElement, escapeXml, stripXmlInvalid, textElement } from './xml';

export type FeedFormat = 'rss' | 'atom' | 'json';
export const FEED_FORMATS: readonly FeedFormat[] = ['rss', 'atom', 'json'];

export const FEED_CONTENT_TYPES: Record<FeedFormat, string> = {
  rss: 'application/rss+xml; charset=utf-8',
  atom: 'application/atom+xml; charset=utf-8',
  json: 'application/feed+json; charset=utf-8',
};

/** The file name of each format under a feed's folder: `/feed.xml`, `/atom.xml`, `/feed.json`. */
export const FEED_FILES: Record<FeedFormat, string> = { rss: 'feed.xml', atom: 'atom.xml', json: 'feed.json' };

export interface FeedDocument {
  format: FeedFormat;
  contentType: string;
  body: string;
  /** The newest item's update time (or the channel's fallback date for an empty feed). */
  lastModified: Date | null;
}

export interface FeedAuthor {
  name: string;
  url?: string;
}

/** One entry of any feed, whatever the format. */
export interface FeedEntry {
  /** Never changes once published: the entry's permanent URL. */
  id: string;
  url: string;
  /** Plain text. */
  title: string;
  /** Plain text. */
  summary: string;
  /** Sanitized HTML. */
  contentHtml: string;
  published: Date;
  updated: Date;
  authors: FeedAuthor[];
  categories: Array<{ term: string; label: string }>;
}

/** What one feed is about; URLs are absolute. */
export interface FeedChannel {
  title: string;
  description: string;
  /** The HTML page this feed mirrors. */
  homeUrl: string;
  /** Page 1 of this feed in each format. */
  feedUrls: Record<FeedFormat, string>;
  /** Where beat categories live (`<publicUrl>/beats/`). */
  categoryScheme: string;
  authors: FeedAuthor[];
  language: string;
  /** A WebSub hub, when configured. */
  hub?: string;
  /** RFC 5005 paging: this page and how many there are (at least 1). */
  page: number;
  pages: number;
  /** The date an empty feed reports (the site's last change); entries' newest update wins otherwise. */
  emptyUpdated: Date;
}

/** The URL of one page of a feed: page 1 is the subscription URL itself. */
export function feedPageUrl(feedUrl: string, page: number): string {
  return page <= 1 ? feedUrl : `${feedUrl}?page=${page}`;
}

function newest(dates: Date[]): Date | null {
  return dates.reduce<Date | null>((max, d) => (!max || d > max ? d : max), null);
}

/** RFC 5005 §3 paging links (first, last, previous, next) for one format. */
function pagingLinks(channel: FeedChannel, format: FeedFormat): Array<{ rel: string; href: string }> {
  if (channel.pages <= 1) return [];
  const url = (n: number) => feedPageUrl(channel.feedUrls[format], n);
  const links = [
    { rel: 'first', href: url(1) },
    { rel: 'last', href: url(channel.pages) },
  ];
  if (channel.page > 1) links.push({ rel: 'previous', href: url(channel.page - 1) });
  if (channel.page < channel.pages) links.push({ rel: 'next', href: url(channel.page + 1) });
  return links;
}

export function buildFeed(format: FeedFormat, channel: FeedChannel, entries: readonly FeedEntry[]): FeedDocument {
  const lastModified = newest(entries.map((e) => e.updated)) ?? channel.emptyUpdated;
  const body = format === 'rss' ? rss(channel, entries, lastModified) : format === 'atom' ? atom(channel, entries, lastModified) : jsonFeed(channel, entries);
  return { format, contentType: FEED_CONTENT_TYPES[format], body, lastModified };
}

function rss(channel: FeedChannel, entries: readonly FeedEntry[], updated: Date): string {
  const self = feedPageUrl(channel.feedUrls.rss, channel.page);
  const items = entries.map((entry) =>
    element('item', [
      textElement('title', entry.title),
      textElement('link', entry.url),
      textElement('guid', entry.id, { isPermaLink: 'true' }),
      textElement('pubDate', entry.published.toUTCString()),
      // RSS descriptions are HTML by convention: the plain-text summary is HTML-escaped, then XML-escaped.
      textElement('description', escapeHtml(entry.summary)),
      textElement('content:encoded', entry.contentHtml),
      ...entry.authors.map((a) => textElement('dc:creator', a.name)),
      ...entry.categories.map((c) => textElement('category', c.label, { domain: channel.categoryScheme })),
    ]),
  );
  const channelXml = element('channel', [
    textElement('title', channel.title),
    textElement('link', channel.homeUrl),
    textElement('description', channel.description),
    textElement('language', channel.language),
    textElement('lastBuildDate', updated.toUTCString()),
    textElement('generator', 'Broadsheet'),
    textElement('docs', 'https://www.rssboard.org/rss-specification'),
    ...channel.authors.map((a) => textElement('dc:creator', a.name)),
    emptyElement('atom:link', { rel: 'self', type: 'application/rss+xml', href: self }),
    channel.hub && emptyElement('atom:link', { rel: 'hub', href: channel.hub }),
    ...pagingLinks(channel, 'rss').map((l) => emptyElement('atom:link', { rel: l.rel, type: 'application/rss+xml', href: l.href })),
    ...items,
  ]);
  return `<?xml version="1.0" encoding="utf-8"?>\n${element('rss', [channelXml], {
    version: '2.0',
    'xmlns:atom': 'http://www.w3.org/2005/Atom',
    'xmlns:content': 'http://purl.org/rss/1.0/modules/content/',
    'xmlns:dc': 'http://purl.org/dc/elements/1.1/',
  })}\n`;
}

function atomAuthor(author: FeedAuthor): string {
  return element('author', [textElement('name', author.name), author.url && textElement('uri', author.url)]);
}

function atom(channel: FeedChannel, entries: readonly FeedEntry[], updated: Date): string {
  const self = feedPageUrl(channel.feedUrls.atom, channel.page);
  const entriesXml = entries.map((entry) =>
    element('entry', [
      textElement('id', entry.id),
      // Titles and summaries are plain text: type="text" makes every reader show them exactly.
      textElement('title', entry.title, { type: 'text' }),
      emptyElement('link', { rel: 'alternate', type: 'text/html', href: entry.url }),
      textElement('published', entry.published.toISOString()),
      textElement('updated', entry.updated.toISOString()),
      ...entry.authors.map(atomAuthor),
      ...entry.categories.map((c) => emptyElement('category', { term: c.term, label: c.label, scheme: channel.categoryScheme })),
      textElement('summary', entry.summary, { type: 'text' }),
      textElement('content', entry.contentHtml, { type: 'html' }),
    ]),
  );
  return `<?xml version="1.0" encoding="utf-8"?>\n${element(
    'feed',
    [
      textElement('id', channel.feedUrls.atom),
      textElement('title', channel.title, { type: 'text' }),
      textElement('subtitle', channel.description, { type: 'text' }),
      textElement('updated', updated.toISOString()),
      emptyElement('link', { rel: 'alternate', type: 'text/html', href: channel.homeUrl }),
      emptyElement('link', { rel: 'self', type: 'application/atom+xml', href: self }),
      channel.hub && emptyElement('link', { rel: 'hub', href: channel.hub }),
      ...pagingLinks(channel, 'atom').map((l) => emptyElement('link', { rel: l.rel, type: 'application/atom+xml', href: l.href })),
      ...channel.authors.map(atomAuthor),
      textElement('generator', 'Broadsheet'),
      ...entriesXml,
    ],
    { xmlns: 'http://www.w3.org/2005/Atom', 'xml:lang': channel.language },
  )}\n`;
}

/** JSON Feed 1.1 (https://www.jsonfeed.org/version/1.1/): `authors` and `language` on the feed and every item. */
function jsonFeed(channel: FeedChannel, entries: readonly FeedEntry[]): string {
  const clean = (text: string) => stripXmlInvalid(text);
  const authors = (list: FeedAuthor[]) => list.map((a) => ({ name: clean(a.name), ...(a.url ? { url: a.url } : {}) }));
  const next = channel.page < channel.pages ? feedPageUrl(channel.feedUrls.json, channel.page + 1) : undefined;
  const document = {
    version: 'https://jsonfeed.org/version/1.1',
    title: clean(channel.title),
    home_page_url: channel.homeUrl,
    feed_url: feedPageUrl(channel.feedUrls.json, channel.page),
    ...(next ? { next_url: next } : {}),
    description: clean(channel.description),
    language: channel.language,
    authors: authors(channel.authors),
    ...(channel.hub ? { hubs: [{ type: 'WebSub', url: channel.hub }] } : {}),
    items: entries.map((entry) => ({
      id: entry.id,
      url: entry.url,
      title: clean(entry.title),
      summary: clean(entry.summary),
      content_html: entry.contentHtml,
      date_published: entry.published.toISOString(),
      date_modified: entry.updated.toISOString(),
      authors: authors(entry.authors),
      tags: entry.categories.map((c) => clean(c.label)),
      language: channel.language,
    })),
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}

export function storyEntry(site: SiteInfo, story: StoryView): FeedEntry {
  const url = absoluteLinks(site.publicUrl).story(story.slug);
  return {
    id: url,
    url,
    title: story.headline,
    summary: story.dek,
    contentHtml: sanitizeContent(storyBody(story, { citeHref: (n) => `${url}#cite-${n}` }).toString()),
    published: story.publishedAt ?? story.updatedAt,
    updated: story.updatedAt,
    authors: [{ name: site.title, url: `${site.publicUrl}/` }],
    categories: [{ term: story.beat.slug, label: story.beat.name }],
  };
}

export function issueUpdated(issue: IssueWithStories): Date {
  return newest([issue.updatedAt, ...issue.stories.map((s) => s.updatedAt)])!;
}

export function issueEntry(site: SiteInfo, issue: IssueWithStories): FeedEntry {
  const links = absoluteLinks(site.publicUrl);
  const url = links.issue(issue.number);
  const beats = new Map(issue.stories.map((s) => [s.beat.slug, s.beat.name]));
  return {
    id: url,
    url,
    title: `No. ${issue.number}: ${issue.title}`,
    summary: issue.intro,
    contentHtml: sanitizeContent(`<p>${escapeHtml(issue.intro)}</p>\n${issueStories(issue, links).toString()}`),
    published: issue.publishedAt ?? issue.updatedAt,
    updated: issueUpdated(issue),
    authors: [{ name: site.title, url: `${site.publicUrl}/` }],
    categories: [...beats].map(([term, label]) => ({ term, label })),
  };
}
