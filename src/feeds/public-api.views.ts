import { type IssueSummary, type IssueView } from '../issues/issues.service';
import { type BeatView, type NarrativeView, type SearchHit } from '../narratives/narratives.service';
import { absoluteLinks } from './pages/views';

/** The public API's JSON shapes: what a reader may see, nothing of the database or the editors' work. */
export function storySummaryJson(publicUrl: string, s: NarrativeView) {
  return {
    slug: s.slug,
    url: absoluteLinks(publicUrl).story(s.slug),
    headline: s.headline,
    dek: s.dek,
    beat: { slug: s.beat.slug, name: s.beat.name },
    writer: s.writer,
    publishedAt: s.publishedAt?.toISOString() ?? null,
    updatedAt: s.updatedAt.toISOString(),
  };
}

export function storyJson(publicUrl: string, s: NarrativeView) {
  return {
    ...storySummaryJson(publicUrl, s),
    paragraphs: s.paragraphs.map((p) => p.map((segment) => ({ text: segment.text, cites: [...segment.cites] }))),
    citations: s.citations.map((c) => ({
      number: c.number,
      url: c.record.url,
      title: c.record.title,
      author: c.record.author,
      platform: c.record.platform,
      outlet: c.record.outlet,
      publishedAt: c.record.publishedAt.toISOString(),
    })),
    disclosure: s.disclosure,
  };
}

export function issueSummaryJson(publicUrl: string, i: IssueSummary) {
  return {
    number: i.number,
    url: absoluteLinks(publicUrl).issue(i.number),
    title: i.title,
    intro: i.intro,
    weekStart: i.weekStart.toISOString(),
    weekEnd: i.weekEnd.toISOString(),
    publishedAt: i.publishedAt?.toISOString() ?? null,
  };
}

export function issueJson(publicUrl: string, i: IssueView) {
  return { ...issueSummaryJson(publicUrl, i), stories: i.stories.map((s) => storySummaryJson(publicUrl, s)) };
}

export function beatJson(publicUrl: string, b: BeatView, stories: number) {
  const url = absoluteLinks(publicUrl).beat(b.slug);
  return {
    slug: b.slug,
    name: b.name,
    description: b.description,
    url,
    stories,
    feeds: { rss: `${url}/feed.xml`, atom: `${url}/atom.xml`, json: `${url}/feed.json` },
  };
}

export function searchHitJson(publicUrl: string, h: SearchHit) {
  return { story: storySummaryJson(publicUrl, h.story), rank: h.rank, headline: h.headline, snippet: h.snippet };
}

// --- JSON Schemas of the answers, for the OpenAPI document -----------------------------------------------------

const text = { type: 'string' };
const dateTime = { type: 'string', format: 'date-time' };
const runs = {
  type: 'array',
  items: { type: 'object', required: ['text', 'match'], properties: { text, match: { type: 'boolean' } } },
  description: 'Plain text runs; `match` runs are the words found.',
};
export const STORY_SUMMARY_SCHEMA = {
  type: 'object',
  required: ['slug', 'url', 'headline', 'dek', 'beat', 'writer', 'publishedAt', 'updatedAt'],
  properties: {
    slug: text,
    url: { type: 'string', format: 'uri' },
    headline: text,
    dek: text,
    beat: { type: 'object', properties: { slug: text, name: text } },
    writer: { type: 'string', description: '`claude` or `offline`' },
    publishedAt: { type: ['string', 'null'], format: 'date-time' },
    updatedAt: dateTime,
  },
};
export const STORY_SCHEMA = {
  ...STORY_SUMMARY_SCHEMA,
  required: [...STORY_SUMMARY_SCHEMA.required, 'paragraphs', 'citations', 'disclosure'],
  properties: {
    ...STORY_SUMMARY_SCHEMA.properties,
    paragraphs: {
      type: 'array',
      items: { type: 'array', items: { type: 'object', properties: { text, cites: { type: 'array', items: { type: 'integer' } } } } },
      description: 'Each paragraph is runs of text, each followed by the numbers of the citations behind it.',
    },
    citations: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          number: { type: 'integer' },
          url: text,
          title: text,
          author: text,
          platform: text,
          outlet: { type: ['string', 'null'] },
          publishedAt: dateTime,
        },
      },
    },
    disclosure: text,
  },
};
export const ISSUE_SUMMARY_SCHEMA = {
  type: 'object',
  required: ['number', 'url', 'title', 'intro', 'weekStart', 'weekEnd', 'publishedAt'],
  properties: {
    number: { type: 'integer' },
    url: text,
    title: text,
    intro: text,
    weekStart: dateTime,
    weekEnd: dateTime,
    publishedAt: { type: ['string', 'null'], format: 'date-time' },
  },
};
export const ISSUE_SCHEMA = {
  ...ISSUE_SUMMARY_SCHEMA,
  properties: { ...ISSUE_SUMMARY_SCHEMA.properties, stories: { type: 'array', items: STORY_SUMMARY_SCHEMA } },
};
export const BEAT_SCHEMA = {
  type: 'object',
  properties: {
    slug: text,
    name: text,
    description: text,
    url: text,
    stories: { type: 'integer' },
    feeds: { type: 'object', properties: { rss: text, atom: text, json: text } },
  },
};
export const SEARCH_HIT_SCHEMA = { type: 'object', properties: { story: STORY_SUMMARY_SCHEMA, rank: { type: 'number' }, headline: runs, snippet: runs } };

/** A page of a list: the items, where it is, and links to its neighbours. */
export function pageSchema(items: object) {
  return {
    type: 'object',
    required: ['items', 'page', 'perPage', 'total', 'pages', 'links'],
    properties: {
      items: { type: 'array', items },
      page: { type: 'integer' },
      perPage: { type: 'integer' },
      total: { type: 'integer' },
      pages: { type: 'integer' },
      links: { type: 'object', properties: { self: text, next: { type: ['string', 'null'] }, prev: { type: ['string', 'null'] } } },
    },
  };
}

export const PROBLEM_SCHEMA = {
  type: 'object',
  description: 'RFC 9457 problem details (application/problem+json)',
  required: ['type', 'title', 'status', 'detail', 'code'],
  properties: {
    type: text,
    title: text,
    status: { type: 'integer' },
    detail: text,
    code: text,
    errors: { type: 'array', items: { type: 'object', properties: { field: text, message: text } } },
  },
};
