import { escapeXml } from '../xml';
import { relativeLinks, type BeatSummary, type IssueSummary, type SiteInfo, type StoryView } from './views';

export function robotsTxt(site: SiteInfo): string {
  return `User-agent: *\nDisallow: /admin\nDisallow: /api/\nDisallow: /subscribe/confirm\nDisallow: /unsubscribe\nDisallow: /search\nAllow: /\n\nSitemap: ${site.publicUrl}/sitemap.xml\n`;
}

/** sitemaps.org 0.9: the home page, beats, the archive, every issue and the newest stories. */
export function sitemapXml(site: SiteInfo, input: { stories: readonly StoryView[]; issues: readonly IssueSummary[]; beats: readonly BeatSummary[] }): string {
  const links = relativeLinks();
  const url = (path: string, lastmod?: Date) =>
    `<url><loc>${escapeXml(site.publicUrl + path)}</loc>${lastmod ? `<lastmod>${lastmod.toISOString()}</lastmod>` : ''}</url>`;
  const rows = [
    url('/', input.stories[0]?.updatedAt),
    url('/issues', input.issues[0]?.updatedAt),
    ...input.beats.map((b) => url(links.beat(b.slug))),
    ...input.issues.map((i) => url(links.issue(i.number), i.updatedAt)),
    ...input.stories.map((s) => url(links.story(s.slug), s.updatedAt)),
  ];
  return `<?xml version="1.0" encoding="utf-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n${rows.join('\n')}\n</urlset>\n`;
}
