import { Controller, Get, Inject, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { type Request, type Response } from 'express';
import { type AppConfig } from '../kernel/config/config';
import { APP_CONFIG } from '../kernel/config/config.module';
import { MAX_SEARCH_QUERY, NarrativesService, normalizeSearchQuery, type SearchResults } from '../narratives/narratives.service';
import { sendFresh } from './fresh-response';
import { notFoundPage } from './pages/site-pages';
import { searchPage, type SearchResultView } from './pages/search-page';
import { siteInfo, type SiteInfo } from './pages/views';
import { PAGE_CACHE_CONTROL } from './public-site';

/** Results per search page. */
export const SEARCH_PAGE_SIZE = 10;

/** `page` as the site's pages take it: a positive whole number, 1 when absent, null for anything else. */
function pageNumber(value: string | null): number | null {
  if (value === null) return 1;
  return /^[1-9]\d{0,5}$/.test(value) ? Number(value) : null;
}

export function searchResultViews(results: SearchResults): SearchResultView[] {
  return results.hits.map((h) => ({ slug: h.story.slug, beat: h.story.beat, publishedAt: h.story.publishedAt, headline: h.headline, snippet: h.snippet }));
}

/**
 * `GET /search?q=…&page=N`: full-text search over the stories, rendered per request (never kept in PublicCache, so
 * made-up queries cannot fill memory), with a strong ETag and the pages' Cache-Control. The query is read from the
 * raw URL (one value, whatever the query parser would make of `q[]=` or `q[a]=`).
 */
@ApiExcludeController()
@Controller()
export class SearchController {
  constructor(
    private readonly narratives: NarrativesService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  private async site(): Promise<SiteInfo> {
    const beats = await this.narratives.listBeats();
    return { ...siteInfo(this.config), beats: beats.map((b) => ({ slug: b.slug, name: b.name, description: b.description })) };
  }

  @Get('search')
  async search(@Req() req: Request, @Res() res: Response): Promise<void> {
    const url = req.originalUrl ?? req.url;
    const params = new URLSearchParams(url.includes('?') ? url.slice(url.indexOf('?') + 1) : '');
    const query = normalizeSearchQuery(params.get('q') ?? '');
    const page = pageNumber(params.get('page'));
    const site = await this.site();
    const send = (status: number, body: string) =>
      sendFresh(req, res, { status, contentType: 'text/html; charset=utf-8', body, cacheControl: PAGE_CACHE_CONTROL });
    if (page === null) return send(404, notFoundPage(site, 'page of results').toString());
    if (query.length > MAX_SEARCH_QUERY) {
      const error = `A search is at most ${MAX_SEARCH_QUERY} characters; this one has ${query.length}. Try a few words.`;
      return send(
        400,
        searchPage(site, { query: query.slice(0, MAX_SEARCH_QUERY), total: 0, page: 1, pages: 1, perPage: SEARCH_PAGE_SIZE, results: [], error }).toString(),
      );
    }
    const results = await this.narratives.search({ query, limit: SEARCH_PAGE_SIZE, offset: (page - 1) * SEARCH_PAGE_SIZE });
    const pages = Math.max(1, Math.ceil(results.total / SEARCH_PAGE_SIZE));
    if (page > pages) return send(404, notFoundPage(site, 'page of results').toString());
    send(200, searchPage(site, { query, total: results.total, page, pages, perPage: SEARCH_PAGE_SIZE, results: searchResultViews(results) }).toString());
  }
}
