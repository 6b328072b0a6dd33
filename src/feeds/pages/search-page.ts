import { html, type SafeHtml } from '../../kernel/web/html';
import { layout } from './layout';
import { dateTag } from './story-html';
import { relativeLinks, type SiteInfo } from './views';

const links = relativeLinks();

/** A run of a highlighted headline or snippet (plain text; `match` is what the query found). */
export interface MarkedRun {
  text: string;
  match: boolean;
}

export interface SearchResultView {
  slug: string;
  beat: { slug: string; name: string };
  publishedAt: Date | null;
  headline: readonly MarkedRun[];
  snippet: readonly MarkedRun[];
}

export interface SearchPageInput {
  query: string;
  total: number;
  page: number;
  pages: number;
  /** Results per page (for the list's numbering). */
  perPage: number;
  results: readonly SearchResultView[];
  /** Why the query was refused (too long), shown instead of results. */
  error?: string;
}

/** Matches in `<mark>`; every run is escaped by the template, so a story's text can never become markup. */
function marked(runs: readonly MarkedRun[]): SafeHtml {
  return html`${runs.map((run) => (run.match ? html`<mark>${run.text}</mark>` : html`${run.text}`))}`;
}

export function searchHref(query: string, page = 1): string {
  const params = new URLSearchParams({ q: query });
  if (page > 1) params.set('page', String(page));
  return `/search?${params.toString()}`;
}

function searchPager(input: SearchPageInput): SafeHtml {
  if (input.pages <= 1) return html``;
  return html`<nav class="pager" aria-label="Result pages">${
    input.page > 1 ? html`<a href="${searchHref(input.query, input.page - 1)}" rel="prev">← Previous</a>` : html`<span></span>`
  }<span>Page ${input.page} of ${input.pages}</span>${input.page < input.pages ? html`<a href="${searchHref(input.query, input.page + 1)}" rel="next">Next →</a>` : html`<span></span>`}</nav>`;
}

function summary(input: SearchPageInput): SafeHtml {
  if (input.error) return html`<p class="notice" role="alert">${input.error}</p>`;
  if (!input.query)
    return html`<p>Search every story by its words: <code>licence</code>, <code>"open weights"</code>, <code>rust -async</code>, <code>gpu or tpu</code>.</p>`;
  if (input.total === 0) return html`<p class="notice" role="status">No stories match <strong>${input.query}</strong>. Try fewer or other words.</p>`;
  return html`<p class="meta" role="status">${input.total} ${input.total === 1 ? 'story matches' : 'stories match'} <strong>${input.query}</strong></p>`;
}

/** The search page: the query, ranked results with highlighted headlines and snippets, and pages. Not indexed. */
export function searchPage(site: SiteInfo, input: SearchPageInput): SafeHtml {
  return layout(site, {
    title: input.query ? `Search: ${input.query}` : 'Search',
    description: `Search the stories of ${site.title}.`,
    noindex: true,
    query: input.query,
    body: html`<h1>Search</h1>
${summary(input)}
${
  input.results.length > 0 &&
  html`<ol class="results" start="${(input.page - 1) * input.perPage + 1}">
${input.results.map(
  (r) => html`<li>
<p class="meta"><a href="${links.beat(r.beat.slug)}">${r.beat.name}</a> · ${dateTag(r.publishedAt)}</p>
<h2><a href="${links.story(r.slug)}">${marked(r.headline)}</a></h2>
<p class="snippet">${marked(r.snippet)}</p>
</li>
`,
)}</ol>`
}
${searchPager(input)}`,
  });
}
