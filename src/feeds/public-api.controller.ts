import { Controller, Get, Inject, Param, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import { type Request, type Response } from 'express';
import { z } from 'zod';
import { IssuesService } from '../issues/issues.service';
import { type AppConfig } from '../kernel/config/config';
import { APP_CONFIG } from '../kernel/config/config.module';
import { NotFoundError, ValidationError } from '../kernel/errors/domain-error';
import { parseOrThrow } from '../kernel/errors/parse-or-throw';
import { MAX_SEARCH_QUERY, NarrativesService, normalizeSearchQuery } from '../narratives/narratives.service';
import { sendFresh } from './fresh-response';
import {
  BEAT_SCHEMA,
  beatJson,
  ISSUE_SCHEMA,
  ISSUE_SUMMARY_SCHEMA,
  issueJson,
  issueSummaryJson,
  pageSchema,
  PROBLEM_SCHEMA,
  SEARCH_HIT_SCHEMA,
  searchHitJson,
  STORY_SCHEMA,
  STORY_SUMMARY_SCHEMA,
  storyJson,
  storySummaryJson,
} from './public-api.views';
import { PublicCache } from './public-cache';
import { chooseEncoding, notModified } from './public-site.middleware';

export const API_CACHE_CONTROL = 'public, max-age=60, stale-while-revalidate=600, stale-if-error=86400';
const JSON_TYPE = 'application/json; charset=utf-8';
/** Anyone may read the public API from any origin; it carries no credentials. */
const API_HEADERS = { 'Access-Control-Allow-Origin': '*', 'Cross-Origin-Resource-Policy': 'cross-origin', 'X-Content-Type-Options': 'nosniff' };

const positive = (max: number, what: string) =>
  z
    .string()
    .regex(/^[1-9]\d{0,5}$/, `${what}: a whole number from 1`)
    .transform(Number)
    .refine((n) => n <= max, `${what}: at most ${max}`);
const listQuery = z.object({ page: positive(999_999, 'page').optional(), perPage: positive(100, 'perPage').optional() }).strict();
const storiesQuery = listQuery
  .extend({
    beat: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{0,199}$/, 'a beat slug (lower-case letters, digits and hyphens)')
      .optional(),
  })
  .strict();
const searchQuery = listQuery
  .extend({
    q: z
      .string()
      .transform(normalizeSearchQuery)
      .refine((q) => q.length > 0, 'what to search for')
      .refine((q) => q.length <= MAX_SEARCH_QUERY, `at most ${MAX_SEARCH_QUERY} characters`),
  })
  .strict();
const SLUG = /^[a-z0-9][a-z0-9-]{0,199}$/;
const issueNumber = z.string().regex(/^[1-9]\d{0,8}$/, 'an issue number: a whole number from 1');

/** The query string parsed by `schema`; a parameter it does not name is an error that names it (never ignored). */
function parseQuery<S extends z.ZodObject>(schema: S, query: unknown): z.output<S> {
  const unknown = Object.keys((query as object) ?? {}).filter((key) => !Object.hasOwn(schema.shape, key));
  if (unknown.length) {
    const names = unknown.map((key) => (key.length > 40 ? `${key.slice(0, 40)}…` : key));
    const known = Object.keys(schema.shape);
    throw new ValidationError(
      `Unknown parameter${names.length > 1 ? 's' : ''}: ${names.join(', ')}. This endpoint takes ${known.length ? known.join(', ') : 'no parameters'}.`,
      names.map((field) => ({ field, message: 'not a parameter of this endpoint' })),
    );
  }
  return parseOrThrow(schema, query);
}

const PAGE_QUERIES = [
  ApiQuery({ name: 'page', required: false, schema: { type: 'integer', minimum: 1, default: 1 } }),
  ApiQuery({ name: 'perPage', required: false, schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 } }),
];
const BAD_REQUEST = ApiResponse({
  status: 400,
  description: 'A parameter is not valid (problem details, `errors` per parameter)',
  content: { 'application/problem+json': { schema: PROBLEM_SCHEMA } },
});
const NOT_FOUND = ApiResponse({
  status: 404,
  description: 'Nothing there, or a page past the last (problem details)',
  content: { 'application/problem+json': { schema: PROBLEM_SCHEMA } },
});
const NOT_MODIFIED = ApiResponse({ status: 304, description: 'The `If-None-Match` tag is current: no body' });

function applyAll(...decorators: MethodDecorator[]): MethodDecorator {
  return (target, key, descriptor) => {
    for (const d of decorators) d(target, key, descriptor);
  };
}

interface Page<T> {
  items: T[];
  page: number;
  perPage: number;
  total: number;
  pages: number;
  links: { self: string; next: string | null; prev: string | null };
}

/**
 * The public read API: stories, issues, beats and search, as JSON, for anyone (no sign-in, GET only). Lists are paged
 * (`page`, `perPage` up to 100) and say where their neighbours are; unknown or malformed parameters are a 400 problem
 * document naming each one; anything missing (or a page past the last) a 404 one. Answers other than search live in
 * the public cache (so they do no database work until content changes), with strong ETags, 304s, gzip and brotli;
 * search answers are rendered per request with a strong ETag.
 */
@ApiTags('public')
@Controller('api/v1/public')
export class PublicApiController {
  constructor(
    private readonly narratives: NarrativesService,
    private readonly issues: IssuesService,
    private readonly cache: PublicCache,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  private get publicUrl(): string {
    return this.config.server.publicUrl;
  }

  @Get('stories')
  @ApiOperation({ summary: 'Published stories, newest first (optionally of one beat)' })
  @applyAll(
    ...PAGE_QUERIES,
    ApiQuery({ name: 'beat', required: false, schema: { type: 'string', pattern: SLUG.source } }),
    BAD_REQUEST,
    NOT_FOUND,
    NOT_MODIFIED,
  )
  @ApiOkResponse({ schema: pageSchema(STORY_SUMMARY_SCHEMA) })
  async stories(@Req() req: Request, @Res() res: Response): Promise<void> {
    const query = parseQuery(storiesQuery, req.query);
    const { page, perPage } = { page: query.page ?? 1, perPage: query.perPage ?? 20 };
    const missing = { detail: `Page ${page} is past the last one.` };
    await this.cached(req, res, `api:stories?beat=${query.beat ?? ''}&page=${page}&perPage=${perPage}`, missing, async () => {
      if (query.beat && !(await this.narratives.listBeats()).some((b) => b.slug === query.beat)) {
        missing.detail = 'There is no beat with this slug.';
        return null;
      }
      const total = await this.narratives.countPublished(query.beat);
      const stories = await this.narratives.latest(perPage, query.beat, (page - 1) * perPage);
      return this.page(
        '/stories',
        { beat: query.beat },
        { page, perPage, total },
        stories.map((s) => storySummaryJson(this.publicUrl, s)),
      );
    });
  }

  @Get('stories/:slug')
  @ApiOperation({ summary: 'One published story: its paragraphs with citation numbers, its citations and its disclosure' })
  @ApiParam({ name: 'slug', schema: { type: 'string', pattern: SLUG.source } })
  @applyAll(NOT_FOUND, NOT_MODIFIED)
  @ApiOkResponse({ schema: STORY_SCHEMA })
  async story(@Param('slug') slug: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    if (!SLUG.test(slug)) throw new NotFoundError('There is no story with this slug.');
    await this.cached(req, res, `api:story:${slug}`, { detail: 'There is no published story with this slug.' }, async () => {
      const story = await this.narratives.getBySlug(slug);
      return story ? storyJson(this.publicUrl, story) : null;
    });
  }

  @Get('issues')
  @ApiOperation({ summary: 'Published weekly issues, newest first' })
  @applyAll(...PAGE_QUERIES, BAD_REQUEST, NOT_FOUND, NOT_MODIFIED)
  @ApiOkResponse({ schema: pageSchema(ISSUE_SUMMARY_SCHEMA) })
  async issueList(@Req() req: Request, @Res() res: Response): Promise<void> {
    const query = parseQuery(listQuery, req.query);
    const { page, perPage } = { page: query.page ?? 1, perPage: query.perPage ?? 20 };
    await this.cached(req, res, `api:issues?page=${page}&perPage=${perPage}`, { detail: `Page ${page} is past the last one.` }, async () => {
      const total = await this.issues.countPublic();
      const issues = await this.issues.listPublic(perPage, (page - 1) * perPage);
      return this.page(
        '/issues',
        {},
        { page, perPage, total },
        issues.map((i) => issueSummaryJson(this.publicUrl, i)),
      );
    });
  }

  @Get('issues/:number')
  @ApiOperation({ summary: 'One published issue with its stories in order' })
  @ApiParam({ name: 'number', schema: { type: 'integer', minimum: 1 } })
  @applyAll(BAD_REQUEST, NOT_FOUND, NOT_MODIFIED)
  @ApiOkResponse({ schema: ISSUE_SCHEMA })
  async issue(@Param('number') raw: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    const number = Number(parseOrThrow(z.object({ number: issueNumber }), { number: raw }).number);
    await this.cached(req, res, `api:issue:${number}`, { detail: `There is no published issue No. ${number}.` }, async () => {
      const issue = await this.issues.getPublicByNumber(number);
      return issue ? issueJson(this.publicUrl, issue) : null;
    });
  }

  @Get('beats')
  @ApiOperation({ summary: 'Every beat, with its number of stories and its feeds' })
  @applyAll(NOT_MODIFIED)
  @ApiOkResponse({ schema: { type: 'object', properties: { items: { type: 'array', items: BEAT_SCHEMA } } } })
  async beats(@Req() req: Request, @Res() res: Response): Promise<void> {
    parseQuery(z.object({}), req.query);
    await this.cached(req, res, 'api:beats', { detail: 'There are no beats.' }, async () => {
      const beats = await this.narratives.listBeats();
      const items = [];
      for (const b of beats) items.push(beatJson(this.publicUrl, b, await this.narratives.countPublished(b.slug)));
      return { items };
    });
  }

  @Get('beats/:slug')
  @ApiOperation({ summary: 'One beat (its stories: GET /api/v1/public/stories?beat=…)' })
  @ApiParam({ name: 'slug', schema: { type: 'string', pattern: SLUG.source } })
  @applyAll(NOT_FOUND, NOT_MODIFIED)
  @ApiOkResponse({ schema: BEAT_SCHEMA })
  async beat(@Param('slug') slug: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    if (!SLUG.test(slug)) throw new NotFoundError('There is no beat with this slug.');
    await this.cached(req, res, `api:beat:${slug}`, { detail: 'There is no beat with this slug.' }, async () => {
      const beat = (await this.narratives.listBeats()).find((b) => b.slug === slug);
      return beat ? beatJson(this.publicUrl, beat, await this.narratives.countPublished(slug)) : null;
    });
  }

  @Get('search')
  @ApiOperation({
    summary: 'Full-text search over published stories, best match first, with the words found marked in the headline and a snippet',
    description: 'The query is web-search style (PostgreSQL `websearch_to_tsquery`): words, `"a phrase"`, `-excluded`, `or`.',
  })
  @applyAll(
    ApiQuery({ name: 'q', required: true, schema: { type: 'string', minLength: 1, maxLength: MAX_SEARCH_QUERY } }),
    ...PAGE_QUERIES,
    BAD_REQUEST,
    NOT_FOUND,
    NOT_MODIFIED,
  )
  @ApiOkResponse({ schema: { ...pageSchema(SEARCH_HIT_SCHEMA), properties: { ...pageSchema(SEARCH_HIT_SCHEMA).properties, query: { type: 'string' } } } })
  async search(@Req() req: Request, @Res() res: Response): Promise<void> {
    const query = parseQuery(searchQuery, req.query);
    const { page, perPage } = { page: query.page ?? 1, perPage: query.perPage ?? 20 };
    const results = await this.narratives.search({ query: query.q, limit: perPage, offset: (page - 1) * perPage });
    const body = this.page(
      '/search',
      { q: results.query },
      { page, perPage, total: results.total },
      results.hits.map((h) => searchHitJson(this.publicUrl, h)),
    );
    if (!body) throw new NotFoundError(`There are ${results.total} results: page ${page} is past the last.`);
    sendFresh(req, res, {
      status: 200,
      contentType: JSON_TYPE,
      body: JSON.stringify({ query: results.query, ...body }),
      cacheControl: API_CACHE_CONTROL,
      headers: API_HEADERS,
    });
  }

  /** A page of a list, or null past the last page (page 1 always exists, empty when there is nothing). */
  private page<T>(path: string, params: Record<string, string | undefined>, at: { page: number; perPage: number; total: number }, items: T[]): Page<T> | null {
    const pages = Math.max(1, Math.ceil(at.total / at.perPage));
    if (at.page > pages) return null;
    const href = (page: number) => {
      const search = new URLSearchParams(Object.entries(params).filter((e): e is [string, string] => Boolean(e[1])));
      if (page > 1) search.set('page', String(page));
      if (at.perPage !== 20) search.set('perPage', String(at.perPage));
      const qs = search.toString();
      return `${this.publicUrl}/api/v1/public${path}${qs ? `?${qs}` : ''}`;
    };
    return {
      items,
      page: at.page,
      perPage: at.perPage,
      total: at.total,
      pages,
      links: { self: href(at.page), next: at.page < pages ? href(at.page + 1) : null, prev: at.page > 1 ? href(at.page - 1) : null },
    };
  }

  /** Answers from the public cache (rendered once per content change); `render` gives null for a 404. */
  private async cached(req: Request, res: Response, key: string, missing: { detail: string }, render: () => Promise<object | null>): Promise<void> {
    await this.cache.beforeRequest();
    const entry = await this.cache.get(key, async () => {
      const body = await render();
      return body ? { contentType: JSON_TYPE, body: JSON.stringify(body), lastModified: null, cacheControl: API_CACHE_CONTROL, headers: API_HEADERS } : null;
    });
    if (!entry) throw new NotFoundError(missing.detail);
    const encoding = chooseEncoding(req.headers['accept-encoding']);
    if (notModified(req, entry)) {
      res.writeHead(304, entry.notModified[encoding]).end();
      return;
    }
    res.writeHead(200, entry.headers[encoding]).end(req.method === 'HEAD' ? undefined : entry.bodies[encoding]);
  }
}
