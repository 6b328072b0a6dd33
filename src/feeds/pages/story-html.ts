import { html, httpUrl, type SafeHtml } from '../../kernel/web/html';
import { type CitedRecord, type StoryView } from './views';

const PLATFORM_NAMES: Record<string, string> = {
  reddit: 'Reddit',
  hackernews: 'Hacker News',
  bluesky: 'Bluesky',
  mastodon: 'Mastodon',
  news: 'News',
  blog: 'Blog',
};

const DATE = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' });

export function platformName(platform: string): string {
  return PLATFORM_NAMES[platform] ?? platform;
}

export function formatDate(date: Date): string {
  return DATE.format(date);
}

export function dateTag(date: Date | null): SafeHtml {
  return date ? html`<time datetime="${date.toISOString()}">${formatDate(date)}</time>` : html``;
}

/** The first `max` characters of a text (whole code points), cut at a word when one is near. */
export function excerpt(text: string, max = 200): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  const chars = Array.from(flat);
  if (chars.length <= max) return flat;
  const cut = chars.slice(0, max).join('');
  const space = cut.lastIndexOf(' ');
  return `${(space > max * 0.6 ? cut.slice(0, space) : cut).replace(/[\s.,;:!?-]+$/, '')}…`;
}

/** `<sup>` markers after a run of text; `href(n)` decides where `[n]` points. */
export function citeMarkers(cites: readonly number[], href: (n: number) => string): SafeHtml {
  return html`${cites.map((n) => html`<sup class="cite"><a href="${href(n)}">[${n}]</a></sup>`)}`;
}

/** The story's paragraphs with citation markers. */
export function storyParagraphs(story: StoryView, citeHref: (n: number) => string): SafeHtml {
  return html`${story.paragraphs.map(
    (paragraph) => html`<p>${paragraph.map((segment) => html`${segment.text}${citeMarkers(segment.cites, citeHref)}`)}</p>\n`,
  )}`;
}

function sourceLabel(record: CitedRecord): string {
  const title = record.title.trim();
  return title ? title : excerpt(record.text);
}

/** The numbered "Sources" list, one `<li id="cite-N">` per citation, with links only to http(s) URLs. */
export function sourcesList(story: StoryView): SafeHtml {
  if (story.citations.length === 0) return html``;
  const citations = [...story.citations].sort((a, b) => a.number - b.number);
  return html`<section class="sources" aria-labelledby="sources-heading">
<h2 id="sources-heading">Sources</h2>
<ol>
${citations.map(({ number, record }) => {
  const url = httpUrl(record.url);
  const label = sourceLabel(record);
  return html`<li id="cite-${number}" value="${number}"><span class="src-meta">${platformName(record.platform)}${record.author.trim() && html` · ${record.author.trim()}`} · ${dateTag(record.publishedAt)}</span><br>${
    url ? html`<a href="${url}" rel="nofollow noopener ugc">${label}</a>` : html`<span>${label}</span>`
  }</li>\n`;
})}</ol>
</section>`;
}

export function disclosureLine(story: StoryView): SafeHtml {
  return html`<p class="disclosure">${story.disclosure}</p>`;
}

/** Full story body for the story page and for feed content: paragraphs, sources, disclosure. */
export function storyBody(story: StoryView, options: { citeHref?: (n: number) => string } = {}): SafeHtml {
  const citeHref = options.citeHref ?? ((n: number) => `#cite-${n}`);
  return html`<div class="story-text">
${storyParagraphs(story, citeHref)}</div>
${sourcesList(story)}
${disclosureLine(story)}`;
}
