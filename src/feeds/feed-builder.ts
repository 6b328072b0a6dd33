import escapeHtml from 'escape-html';
import { Feed, type Item } from 'feed';
import { generateJsonFeed } from 'feedsmith';
import { issueStories } from './pages/site-pages';
import { storyBody } from './pages/story-html';
import { absoluteLinks, type IssueWithStories, type SiteInfo, type StoryView } from './pages/views';

export type FeedFormat = 'rss' | 'atom' | 'json';

export const FEED_CONTENT_TYPES: Record<FeedFormat, string> = {
  rss: 'application/rss+xml; charset=utf-8',
  atom: 'application/atom+xml; charset=utf-8',
  json: 'application/feed+json; charset=utf-8',
};

export interface FeedDocument {
  format: FeedFormat;
  contentType: string;
  body: string;
  /** The newest item's update time; null for an empty feed. */
  lastModified: Date | null;
}

/** What one stories feed is about: the whole site or one beat. Paths are relative to the public URL. */
export interface StoriesChannel {
  title: string;
  description: string;
  /** The HTML page this feed mirrors, e.g. `/` or `/beats/ai`. */
  homePath: string;
  feedPaths: Partial<Record<FeedFormat, string>>;
}

/*
 * What feed 6.0.0 actually writes (read from its source, checked by the specs below and by feedparser/newsboat):
 * - Atom entry titles, summaries and contents are `type="html"` in CDATA. Titles are swapped for `type="text"`
 *   ones afterwards (see withTextAtomTitles), since feedparser returns html titles still escaped.
 * - RSS item titles are CDATA too; RSS titles are plain text to feedparser and newsboat, so the headline goes in
 *   as it is. RSS descriptions and content:encoded are HTML by convention.
 * - Its CDATA writer splits only the FIRST "]]>"; `cdata()` pre-splits every later one (see there).
 * - `_text` values collapse a literal "&amp;" to "&" before escaping: only our own config strings (site title,
 *   beat names) reach text nodes; untrusted text only ever goes into CDATA.
 * - Attribute values get only `"` (and, via feed, `&`) escaped: a `<` would make the XML invalid, so a beat name
 *   with `<` is left out of the Atom category label (the term is the slug).
 * - Item `author` becomes RSS `<author>` with a bare name (validators want an email there): we write
 *   `dc:creator` instead, and put the author on the Atom feed, which every entry inherits.
 * - `json1()` writes JSON Feed 1.0: JSON Feed 1.1 is generated with feedsmith instead.
 */

const CDATA_END = ']]>';

/**
 * Escapes text for an HTML or XML text node: `&`, `<` and `>` only. Quotes need no escaping outside attributes, and
 * leaving them alone keeps an Atom title like `Readers' "vibes"` readable to software that skips HTML decoding.
 */
export function escapeHtmlText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Makes text safe for feed 6's CDATA writer, which replaces only the first "]]>" with
 * "]]]]><![CDATA[>". We split every later occurrence ourselves and leave the first to feed.
 */
export function cdata(text: string): string {
  const first = text.indexOf(CDATA_END);
  if (first < 0) return text;
  const cut = first + CDATA_END.length;
  return text.slice(0, cut) + text.slice(cut).replaceAll(CDATA_END, ']]]]><![CDATA[>');
}

/** Characters XML 1.0 forbids anywhere (C0 controls except tab/LF/CR, lone surrogates, U+FFFE/U+FFFF). */
const XML_INVALID = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

export function stripXmlInvalid(xml: string): string {
  return xml.replace(XML_INVALID, '');
}

function newest(dates: Date[]): Date | null {
  return dates.reduce<Date | null>((max, d) => (!max || d > max ? d : max), null);
}

/** Fixed, so an empty feed's body (and so its ETag) does not change on every request. */
const EPOCH = new Date(0);

function newFeed(site: SiteInfo, channel: StoriesChannel, updated: Date | null): Feed {
  const abs = (path?: string) => (path ? site.publicUrl + path : undefined);
  return new Feed({
    id: abs(channel.feedPaths.atom ?? channel.feedPaths.rss),
    title: channel.title,
    description: channel.description,
    link: site.publicUrl + channel.homePath,
    language: 'en',
    updated: updated ?? EPOCH,
    generator: 'Broadsheet',
    feedLinks: { rss: abs(channel.feedPaths.rss), atom: abs(channel.feedPaths.atom) },
    author: { name: site.title, link: `${site.publicUrl}/` },
  });
}

function creator(site: SiteInfo): Item['extensions'] {
  return [{ name: 'dc:creator', objects: { _cdata: cdata(site.title) } }];
}

/**
 * feed 6 writes every Atom entry title as `type="html"`, which feedparser hands to programs still HTML-escaped
 * (`&amp;`). Headlines are plain text, so each entry title is written as a placeholder and then swapped for a
 * `type="text"` title: every reader gets `Devs & "agents" <weekly>` back exactly.
 */
function atomTitlePlaceholder(index: number): string {
  return `broadsheet-atom-title-${index}`;
}

function withTextAtomTitles(xml: string, headlines: readonly string[]): string {
  return headlines.reduce(
    (out, headline, index) => out.replace(`<title type="html"><![CDATA[${atomTitlePlaceholder(index)}]]></title>`, () => `<title type="text">${escapeHtmlText(headline)}</title>`),
    xml,
  );
}

function storyItem(site: SiteInfo, story: StoryView, format: 'rss' | 'atom', index: number): Item {
  const links = absoluteLinks(site.publicUrl);
  const url = links.story(story.slug);
  const content = storyBody(story, { citeHref: (n) => `${url}#cite-${n}` }).toString();
  const beatName = story.beat.name;
  return {
    // No id/guid: feed then writes the link as an RSS permalink guid and as the Atom id.
    title: format === 'atom' ? atomTitlePlaceholder(index) : cdata(story.headline),
    link: url,
    date: story.updatedAt,
    published: story.publishedAt ?? story.updatedAt,
    description: cdata(escapeHtml(story.dek)),
    content: cdata(content),
    category:
      format === 'atom'
        ? [{ term: story.beat.slug, ...(beatName.includes('<') ? {} : { name: beatName }) }]
        : [{ name: beatName }],
    extensions: format === 'rss' ? creator(site) : undefined,
  };
}

export function buildStoriesFeed(format: FeedFormat, site: SiteInfo, channel: StoriesChannel, stories: readonly StoryView[]): FeedDocument {
  const lastModified = newest(stories.map((s) => s.updatedAt));
  if (format === 'json') {
    return { format, contentType: FEED_CONTENT_TYPES.json, body: storiesJsonFeed(site, channel, stories), lastModified };
  }
  const feed = newFeed(site, channel, lastModified);
  stories.forEach((story, index) => feed.addItem(storyItem(site, story, format, index)));
  const body = stripXmlInvalid(format === 'rss' ? feed.rss2() : withTextAtomTitles(feed.atom1(), stories.map((s) => s.headline)));
  return { format, contentType: FEED_CONTENT_TYPES[format], body, lastModified };
}

function storiesJsonFeed(site: SiteInfo, channel: StoriesChannel, stories: readonly StoryView[]): string {
  const links = absoluteLinks(site.publicUrl);
  const document = generateJsonFeed({
    title: channel.title,
    home_page_url: site.publicUrl + channel.homePath,
    feed_url: channel.feedPaths.json ? site.publicUrl + channel.feedPaths.json : undefined,
    description: channel.description,
    language: 'en',
    authors: [{ name: site.title, url: `${site.publicUrl}/` }],
    items: stories.map((story) => {
      const url = links.story(story.slug);
      return {
        id: url,
        url,
        // JSON Feed titles and summaries are plain text; JSON.stringify does all the escaping.
        title: story.headline,
        summary: story.dek,
        content_html: storyBody(story, { citeHref: (n) => `${url}#cite-${n}` }).toString(),
        date_published: story.publishedAt ?? story.updatedAt,
        date_modified: story.updatedAt,
        tags: [story.beat.name],
        language: 'en',
      };
    }),
  });
  return `${JSON.stringify(document, null, 2)}\n`;
}

/** RSS of the weekly issues: each item is the web version of the issue. */
export function buildIssuesFeed(site: SiteInfo, issues: readonly IssueWithStories[]): FeedDocument {
  const links = absoluteLinks(site.publicUrl);
  const updatedOf = (issue: IssueWithStories) => newest([issue.updatedAt, ...issue.stories.map((s) => s.updatedAt)])!;
  const lastModified = newest(issues.map(updatedOf));
  const feed = newFeed(
    site,
    {
      title: `${site.title}: weekly issues`,
      description: `Every weekly issue of ${site.title}. ${site.description}`,
      homePath: '/issues',
      feedPaths: { rss: '/issues/feed.xml' },
    },
    lastModified,
  );
  for (const issue of issues) {
    const url = links.issue(issue.number);
    const content = `<p>${escapeHtml(issue.intro)}</p>\n${issueStories(issue, links).toString()}`;
    feed.addItem({
      title: cdata(`No. ${issue.number}: ${issue.title}`),
      link: url,
      date: updatedOf(issue),
      published: issue.publishedAt ?? issue.updatedAt,
      description: cdata(escapeHtml(issue.intro)),
      content: cdata(content),
      extensions: creator(site),
    });
  }
  return { format: 'rss', contentType: FEED_CONTENT_TYPES.rss, body: stripXmlInvalid(feed.rss2()), lastModified };
}
