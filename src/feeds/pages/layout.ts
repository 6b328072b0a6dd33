import { html, raw, type SafeHtml } from '../../kernel/web/html';
import { type SiteInfo } from './views';

/** One stylesheet for every page: serif body, a 40rem column, dark ink on cream. No external assets. */
const STYLE = raw(`
:root{--ink:#221f1a;--muted:#6a6257;--paper:#fbf7ee;--card:#fffdf8;--rule:#e2d9c6;--accent:#8b2e1f}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{margin:0;background:var(--paper);color:var(--ink);font:1.125rem/1.65 Charter,"Bitstream Charter","Sitka Text",Cambria,Georgia,"Times New Roman",serif;font-kerning:normal;text-rendering:optimizeLegibility}
.wrap{max-width:40rem;margin:0 auto;padding:1.75rem 1.25rem 3rem}
a{color:var(--accent);text-decoration-thickness:1px;text-underline-offset:.15em}
a:hover{text-decoration-thickness:2px}
:focus-visible{outline:2px solid var(--accent);outline-offset:2px}
.masthead{text-align:center;border-bottom:3px double var(--ink);padding-bottom:.9rem;margin-bottom:2rem}
.masthead .name{display:inline-block;font-size:2.5rem;line-height:1.1;font-weight:700;letter-spacing:-.01em;color:var(--ink);text-decoration:none;font-variant:small-caps}
.masthead .tagline{margin:.35rem 0 .6rem;color:var(--muted);font-style:italic;font-size:1rem}
.sans,.masthead nav,.meta,.src-meta,button,label,footer{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
.masthead nav{font-size:.78rem;letter-spacing:.1em;text-transform:uppercase}
.masthead nav a{color:var(--ink);text-decoration:none;margin:0 .6rem;display:inline-block;padding:.35rem 0}
.masthead nav a:hover{color:var(--accent)}
h1,h2,h3{line-height:1.2;font-weight:700;letter-spacing:-.005em}
h1{font-size:2.15rem;margin:.3rem 0 .6rem}
h2{font-size:1.4rem;margin:2rem 0 .5rem}
.dek{font-size:1.25rem;line-height:1.45;color:var(--muted);font-style:italic;margin:0 0 1rem}
.meta{font-size:.76rem;letter-spacing:.08em;text-transform:uppercase;color:var(--muted);margin:0}
.meta a{color:var(--muted)}
.story-text p{margin:0 0 1.1rem;hyphens:auto}
sup.cite{line-height:0;font-size:.68em;font-family:system-ui,sans-serif}
sup.cite a{text-decoration:none;padding:0 .05em}
.sources{margin-top:2.25rem;border-top:1px solid var(--rule);font-size:.95rem}
.sources h2{font-size:1rem;text-transform:uppercase;letter-spacing:.1em;margin:1.25rem 0 .5rem}
.sources ol{padding-left:1.6rem;margin:0}
.sources li{margin:.55rem 0;overflow-wrap:anywhere}
.sources li:target{background:#f3e6c4;outline:4px solid #f3e6c4}
.src-meta{font-size:.78rem;color:var(--muted)}
.disclosure{margin-top:2rem;padding-top:.8rem;border-top:1px solid var(--rule);font-size:.88rem;color:var(--muted);font-style:italic}
.story-list{list-style:none;padding:0;margin:0}
.story-list>li{padding:1.2rem 0;border-bottom:1px solid var(--rule)}
.story-list>li:first-child{padding-top:0}
.story-list h2,.story-list h3{font-size:1.45rem;margin:.25rem 0 .35rem}
.story-list h2 a,.story-list h3 a{color:var(--ink);text-decoration:none}
.story-list h2 a:hover,.story-list h3 a:hover{color:var(--accent)}
.story-list .dek{font-size:1.05rem;margin:0}
.issue-story{border-top:1px solid var(--rule);margin-top:2rem;padding-top:1rem}
.issue-story h2{margin-top:.3rem}
.issue-story h2 a{color:var(--ink);text-decoration:none}
.issue-story h2 a:hover{color:var(--accent)}
.issue-story .disclosure{margin-top:1rem}
p.sans{font-size:.85rem}
h1.meta{margin-bottom:1.1rem}
.intro{font-size:1.15rem}
.panel{background:var(--card);border:1px solid var(--rule);border-radius:6px;padding:1.1rem 1.25rem;margin:2.25rem 0}
.panel h2{margin-top:0;font-size:1.2rem}
.panel p{margin:.25rem 0 .8rem}
.inline{display:flex;flex-wrap:wrap;gap:.5rem;align-items:stretch}
label{display:block;font-size:.8rem;color:var(--muted);margin-bottom:.3rem}
input[type=email]{flex:1 1 14rem;min-width:0;font:inherit;font-size:1rem;padding:.55rem .7rem;border:1px solid #b8ad97;border-radius:4px;background:#fff;color:var(--ink)}
button{font-size:.95rem;padding:.6rem 1.1rem;border:0;border-radius:4px;background:var(--ink);color:var(--paper);cursor:pointer}
button:hover{background:var(--accent)}
.notice{border-left:4px solid var(--accent);background:var(--card);padding:.75rem 1rem;margin:1rem 0}
.feeds{font-size:.9rem}
footer{margin-top:3rem;padding-top:1rem;border-top:3px double var(--ink);font-size:.8rem;color:var(--muted);text-align:center}
footer a{color:var(--muted)}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.lead{padding-bottom:1.4rem;border-bottom:3px double var(--ink);margin-bottom:1.5rem}
.lead h2{font-size:2rem;margin:.3rem 0 .5rem}
.lead h2 a{color:var(--ink);text-decoration:none}
.lead .excerpt{margin:.6rem 0 0}
.section-head{display:flex;justify-content:space-between;align-items:baseline;border-bottom:1px solid var(--ink);margin:2.2rem 0 .9rem}
.section-head h2{margin:0 0 .25rem;font-size:1rem;text-transform:uppercase;letter-spacing:.12em;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
.section-head h2 a{color:var(--ink);text-decoration:none}
.section-head a.more{font-size:.8rem;font-family:system-ui,sans-serif}
.pager{display:flex;justify-content:space-between;gap:1rem;margin:1.5rem 0;font-family:system-ui,sans-serif;font-size:.9rem}
.story-nav{display:grid;grid-template-columns:1fr 1fr;gap:1rem;margin:2rem 0;font-size:.95rem}
.story-nav .next{text-align:right}
.story-nav span{display:block;font-family:system-ui,sans-serif;font-size:.72rem;text-transform:uppercase;letter-spacing:.08em;color:var(--muted)}
.compact{list-style:none;padding:0;margin:0}
.compact li{padding:.5rem 0;border-bottom:1px solid var(--rule)}
.compact a{color:var(--ink);text-decoration:none;font-weight:700}
.compact a:hover{color:var(--accent)}
.search{display:flex;justify-content:center;gap:.4rem;margin:.6rem auto 0;max-width:24rem}
.search input[type=search]{flex:1 1 auto;min-width:0;font:inherit;font-size:.95rem;padding:.4rem .6rem;border:1px solid #b8ad97;border-radius:4px;background:#fff;color:var(--ink)}
.search button{padding:.4rem .8rem;font-size:.85rem}
.results{list-style:none;padding:0;margin:0}
.results>li{padding:1.1rem 0;border-bottom:1px solid var(--rule)}
.results h2{font-size:1.35rem;margin:.25rem 0 .35rem}
.results h2 a{color:var(--ink);text-decoration:none}
.results .snippet{margin:.2rem 0 0;font-size:1rem}
mark{background:#f3e6c4;color:inherit;padding:0 .08em;border-radius:2px}
@media (max-width:32rem){body{font-size:1.05rem}.masthead .name{font-size:2rem}h1{font-size:1.75rem}.masthead nav a{margin:0 .35rem}}
@media print{.masthead nav,.panel,footer{display:none}body{background:#fff}}
`);

export interface Alternate {
  type: 'application/rss+xml' | 'application/atom+xml' | 'application/feed+json';
  title: string;
  href: string;
}

export function siteAlternates(site: SiteInfo): Alternate[] {
  return [
    { type: 'application/rss+xml', title: `${site.title} (RSS)`, href: `${site.publicUrl}/feed.xml` },
    { type: 'application/atom+xml', title: `${site.title} (Atom)`, href: `${site.publicUrl}/atom.xml` },
    { type: 'application/feed+json', title: `${site.title} (JSON Feed)`, href: `${site.publicUrl}/feed.json` },
    { type: 'application/rss+xml', title: `${site.title}: weekly issues (RSS)`, href: `${site.publicUrl}/issues/feed.xml` },
  ];
}

export interface PageOptions {
  /** The page's own title; the site title is appended. Omit for the home page. */
  title?: string;
  description?: string;
  /** Path of the canonical URL, e.g. `/stories/x`. */
  canonicalPath?: string;
  alternates?: Alternate[];
  /** Pages reached with a token: keep them out of search engines. */
  noindex?: boolean;
  /** The search box's current query (the search page). */
  query?: string;
  /** Open Graph type: `article` for stories and issues. */
  ogType?: 'website' | 'article';
  /** For articles: when it was published. */
  published?: Date | null;
  body: SafeHtml;
}

/** A complete HTML5 document around `body`. */
export function layout(site: SiteInfo, page: PageOptions): SafeHtml {
  const title = page.title ? `${page.title} — ${site.title}` : site.title;
  const alternates = page.alternates ?? siteAlternates(site);
  const description = page.description ?? site.description;
  const url = site.publicUrl + (page.canonicalPath ?? '/');
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<meta name="description" content="${description}">
<meta name="color-scheme" content="light">
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<link rel="icon" href="/favicon.ico" sizes="16x16">
<meta property="og:site_name" content="${site.title}">
<meta property="og:type" content="${page.ogType ?? 'website'}">
<meta property="og:title" content="${page.title ?? site.title}">
<meta property="og:description" content="${description}">
<meta property="og:url" content="${url}">
<meta property="og:locale" content="en_GB">
${
  page.published &&
  html`<meta property="article:published_time" content="${page.published.toISOString()}">
`
}<meta name="twitter:card" content="summary">
<meta name="twitter:title" content="${page.title ?? site.title}">
<meta name="twitter:description" content="${description}">
${page.noindex && html`<meta name="robots" content="noindex">\n`}${page.canonicalPath && html`<link rel="canonical" href="${site.publicUrl + page.canonicalPath}">\n`}${alternates.map(
    (a) => html`<link rel="alternate" type="${a.type}" title="${a.title}" href="${a.href}">\n`,
  )}<style>${STYLE}</style>
</head>
<body>
<div class="wrap">
<header class="masthead">
<a class="name" href="/">${site.title}</a>
<p class="tagline">${site.description}</p>
<nav aria-label="Site"><a href="/">Latest</a>${(site.beats ?? []).map((b) => html`<a href="/beats/${encodeURIComponent(b.slug)}">${b.name}</a>`)}<a href="/issues">Issues</a><a href="/subscribe">Subscribe</a><a href="/#feeds">Feeds</a></nav>
<form class="search" role="search" method="get" action="/search"><label class="visually-hidden" for="site-search">Search stories</label><input type="search" id="site-search" name="q" value="${page.query ?? ''}" maxlength="200" placeholder="Search stories" enterkeyhint="search"><button type="submit">Search</button></form>
</header>
<main>
${page.body}
</main>
<footer>
<p>${site.title} publishes short narratives about what online communities are saying, composed from public posts, each claim linked to its sources. Every story says at its end how it was written. They may contain mistakes.</p>
<p><a href="/feed.xml">RSS</a> · <a href="/atom.xml">Atom</a> · <a href="/feed.json">JSON Feed</a> · <a href="/issues/feed.xml">Issues RSS</a> · <a href="/issues">Archive</a></p>
</footer>
</div>
</body>
</html>
`;
}
