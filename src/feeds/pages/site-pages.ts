import { weekLabel } from '../../kernel/clock/week';
import { html, raw, type SafeHtml } from '../../kernel/web/html';
import { layout, siteAlternates, type Alternate } from './layout';
import { dateTag, excerpt, storyBody, storyParagraphs, disclosureLine } from './story-html';
import { relativeLinks, type BeatSummary, type IssueSummary, type IssueWithStories, type Links, type SiteInfo, type StoryView } from './views';

const links = relativeLinks();

function storyMeta(story: StoryView, l: Links): SafeHtml {
  return html`<p class="meta"><a href="${l.beat(story.beat.slug)}">${story.beat.name}</a> · ${dateTag(story.publishedAt)}</p>`;
}

function storyList(stories: readonly StoryView[], heading: 'h2' | 'h3' = 'h2'): SafeHtml {
  if (stories.length === 0) return html`<p class="notice">No stories have been published yet. Check back soon.</p>`;
  const h = heading === 'h2' ? { open: raw('<h2>'), close: raw('</h2>') } : { open: raw('<h3>'), close: raw('</h3>') };
  return html`<ul class="story-list">
${stories.map(
  (story) => html`<li>
${storyMeta(story, links)}
${h.open}<a href="${links.story(story.slug)}">${story.headline}</a>${h.close}
<p class="dek">${story.dek}</p>
</li>
`,
)}</ul>`;
}

/** Shown when the browser runs no scripts: the form's proof of work can't be solved without one. */
export const challengeNotice = html`<noscript><p class="notice" role="alert">This form needs JavaScript: it solves a small puzzle in your browser that keeps robots from signing people up. Please turn JavaScript on to subscribe.</p></noscript>`;

/** The sign-up form; with `challenge`, the proof-of-work script (/subscribe/challenge.js) solves it on submit. */
export function subscribeForm(email = '', challenge = false): SafeHtml {
  return html`<form method="post" action="/subscribe"${challenge && html` data-challenge="pow"`}>
<label for="email">Email address</label>
<div class="inline"><input type="email" id="email" name="email" value="${email}" required maxlength="254" autocomplete="email" placeholder="you@example.com"><button type="submit">Subscribe</button></div>
${challenge && challengeNotice}</form>`;
}

function subscribePanel(site: SiteInfo): SafeHtml {
  return html`<section class="panel" id="subscribe">
<h2>Get the weekly issue</h2>
<p>One email a week with the best of ${site.title}. We send a confirmation link first; every issue has a one-click unsubscribe.</p>
${subscribeForm('', Boolean(site.signupChallenge))}
${site.signupChallenge && html`<script src="/subscribe/challenge.js" defer></script>`}
</section>`;
}

function feedsPanel(site: SiteInfo, beats: readonly BeatSummary[]): SafeHtml {
  return html`<section class="panel feeds" id="feeds">
<h2>Follow in a feed reader</h2>
<p>Stories: <a href="/feed.xml">RSS</a> · <a href="/atom.xml">Atom</a> · <a href="/feed.json">JSON Feed</a><br>Weekly issues: <a href="/issues/feed.xml">RSS</a> · <a href="/issues">web archive</a></p>
${beats.length > 0 && html`<p>By beat: ${beats.map((beat, i) => html`${i > 0 && ' · '}<a href="${links.beat(beat.slug)}">${beat.name}</a> (<a href="${links.beat(beat.slug)}/feed.xml">RSS</a>)`)}</p>`}
</section>`;
}

export interface Paging {
  page: number;
  pages: number;
}

/** "Newer" / "Older" links between pages of a list; nothing when there is one page. */
function pager(path: string, paging: Paging | undefined): SafeHtml {
  if (!paging || paging.pages <= 1) return html``;
  const href = (n: number) => (n === 1 ? path : `${path}?page=${n}`);
  return html`<nav class="pager" aria-label="Pages">${paging.page > 1 ? html`<a href="${href(paging.page - 1)}" rel="prev">← Newer</a>` : html`<span></span>`}<span>Page ${paging.page} of ${paging.pages}</span>${
    paging.page < paging.pages ? html`<a href="${href(paging.page + 1)}" rel="next">Older →</a>` : html`<span></span>`
  }</nav>`;
}

/** The first paragraph of a story as plain text, for the lead. */
function leadExcerpt(story: StoryView, max = 320): string {
  return excerpt(story.paragraphs.map((p) => p.map((s) => s.text).join('')).join(' '), max);
}

export function homePage(site: SiteInfo, input: { stories: readonly StoryView[]; beats: readonly BeatSummary[]; latestIssue?: IssueSummary | null }): SafeHtml {
  const [lead, ...rest] = input.stories;
  const sections = input.beats
    .map((beat) => ({ beat, stories: rest.filter((s) => s.beat.slug === beat.slug).slice(0, 4) }))
    .filter((section) => section.stories.length > 0);
  const issue = input.latestIssue;
  return layout(site, {
    canonicalPath: '/',
    body: html`<h1 class="visually-hidden">${site.title}: latest stories</h1>
${
  lead
    ? html`<article class="lead">
${storyMeta(lead, links)}
<h2><a href="${links.story(lead.slug)}">${lead.headline}</a></h2>
<p class="dek">${lead.dek}</p>
<p class="excerpt">${leadExcerpt(lead)} <a href="${links.story(lead.slug)}">Read the story</a></p>
</article>`
    : html`<p class="notice">No stories have been published yet. Check back soon.</p>`
}
${sections.map(
  ({ beat, stories }) => html`<section aria-labelledby="beat-${beat.slug}">
<div class="section-head"><h2 id="beat-${beat.slug}"><a href="${links.beat(beat.slug)}">${beat.name}</a></h2><a class="more" href="${links.beat(beat.slug)}">All ${beat.name} stories</a></div>
${storyList(stories, 'h3')}
</section>
`,
)}${
      issue &&
      html`<section class="panel" aria-labelledby="latest-issue">
<h2 id="latest-issue">The latest issue</h2>
<p class="meta">No. ${issue.number} · ${issueWeek(issue)}</p>
<p><a href="${links.issue(issue.number)}"><strong>${issue.title}</strong></a></p>
<p>${excerpt(issue.intro, 220)}</p>
<p class="sans"><a href="/issues">Every past issue</a></p>
</section>`
    }
${subscribePanel(site)}
${feedsPanel(site, input.beats)}`,
  });
}

export interface StoryExtras {
  related?: readonly StoryView[];
  more?: readonly StoryView[];
  issues?: readonly IssueSummary[];
  previous?: StoryView | null;
  next?: StoryView | null;
}

function compactList(stories: readonly StoryView[]): SafeHtml {
  return html`<ul class="compact">${stories.map((s) => html`<li><a href="${links.story(s.slug)}">${s.headline}</a><br><span class="meta">${s.beat.name} · ${dateTag(s.publishedAt)}</span></li>`)}</ul>`;
}

export function storyPage(site: SiteInfo, story: StoryView, extras: StoryExtras = {}): SafeHtml {
  const issues = extras.issues ?? [];
  return layout(site, {
    title: story.headline,
    description: story.dek,
    canonicalPath: links.story(story.slug),
    ogType: 'article',
    published: story.publishedAt,
    alternates: [
      { type: 'application/rss+xml', title: `${site.title}: ${story.beat.name} (RSS)`, href: `${site.publicUrl}${links.beat(story.beat.slug)}/feed.xml` },
      ...siteAlternates(site),
    ],
    body: html`<article>
${storyMeta(story, links)}
<h1>${story.headline}</h1>
<p class="dek">${story.dek}</p>
${storyBody(story)}
${issues.length > 0 && html`<p class="sans">In ${issues.map((i, n) => html`${n > 0 && ', '}<a href="${links.issue(i.number)}">issue No. ${i.number}</a>`)}.</p>`}
</article>
${
  (extras.previous || extras.next) &&
  html`<nav class="story-nav" aria-label="More in ${story.beat.name}">${extras.previous ? html`<a class="prev" href="${links.story(extras.previous.slug)}" rel="prev"><span>Previous in ${story.beat.name}</span>${extras.previous.headline}</a>` : html`<span></span>`}${
    extras.next
      ? html`<a class="next" href="${links.story(extras.next.slug)}" rel="next"><span>Next in ${story.beat.name}</span>${extras.next.headline}</a>`
      : html`<span></span>`
  }</nav>`
}
${(extras.related ?? []).length > 0 && html`<section aria-labelledby="related"><div class="section-head"><h2 id="related">More on ${story.beat.name}</h2><a class="more" href="${links.beat(story.beat.slug)}">All</a></div>${compactList(extras.related!)}</section>`}
${(extras.more ?? []).length > 0 && html`<section aria-labelledby="more-stories"><div class="section-head"><h2 id="more-stories">Elsewhere this week</h2><a class="more" href="/">Front page</a></div>${compactList(extras.more!)}</section>`}
${subscribePanel(site)}`,
  });
}

export function beatPage(site: SiteInfo, beat: BeatSummary, stories: readonly StoryView[], paging?: Paging): SafeHtml {
  const feed: Alternate = {
    type: 'application/rss+xml',
    title: `${site.title}: ${beat.name} (RSS)`,
    href: `${site.publicUrl}${links.beat(beat.slug)}/feed.xml`,
  };
  return layout(site, {
    title: beat.name,
    description: beat.description,
    canonicalPath: links.beat(beat.slug),
    alternates: [
      feed,
      { type: 'application/atom+xml', title: `${site.title}: ${beat.name} (Atom)`, href: `${site.publicUrl}${links.beat(beat.slug)}/atom.xml` },
      { type: 'application/feed+json', title: `${site.title}: ${beat.name} (JSON Feed)`, href: `${site.publicUrl}${links.beat(beat.slug)}/feed.json` },
      ...siteAlternates(site),
    ],
    body: html`<p class="meta">Beat · <a href="${links.beat(beat.slug)}/feed.xml">RSS</a> · <a href="${links.beat(beat.slug)}/atom.xml">Atom</a> · <a href="${links.beat(beat.slug)}/feed.json">JSON Feed</a></p>
<h1>${beat.name}</h1>
<p class="dek">${beat.description}</p>
${storyList(stories)}
${pager(links.beat(beat.slug), paging)}
${subscribePanel(site)}`,
  });
}

function issueWeek(issue: IssueSummary): string {
  return weekLabel({ start: issue.weekStart, end: issue.weekEnd });
}

export function issuesPage(site: SiteInfo, issues: readonly IssueSummary[], paging?: Paging): SafeHtml {
  return layout(site, {
    title: 'Issues',
    description: `Every weekly issue of ${site.title}.`,
    canonicalPath: '/issues',
    body: html`<h1>The archive</h1>
<p class="dek">Every weekly issue, newest first. Also as an <a href="/issues/feed.xml">RSS feed</a>.</p>
${
  issues.length === 0
    ? html`<p class="notice">No issues have been published yet.</p>`
    : html`<ul class="story-list">
${issues.map(
  (issue) => html`<li>
<p class="meta">No. ${issue.number} · ${issueWeek(issue)}</p>
<h2><a href="${links.issue(issue.number)}">${issue.title}</a></h2>
<p class="dek">${excerpt(issue.intro, 220)}</p>
</li>
`,
)}</ul>`
}
${pager('/issues', paging)}
${subscribePanel(site)}`,
  });
}

/** The stories of an issue, markers pointing at each story page's sources; shared by the page and the issues feed. */
export function issueStories(issue: IssueWithStories, l: Links): SafeHtml {
  return html`${issue.stories.map(
    (story) => html`<article class="issue-story">
${storyMeta(story, l)}
<h2><a href="${l.story(story.slug)}">${story.headline}</a></h2>
<p class="dek">${story.dek}</p>
<div class="story-text">
${storyParagraphs(story, (n) => `${l.story(story.slug)}#cite-${n}`)}</div>
<p class="sans"><a href="${l.story(story.slug)}#sources-heading">Sources for this story</a></p>
${disclosureLine(story)}
</article>
`,
  )}`;
}

export function issuePage(site: SiteInfo, issue: IssueWithStories): SafeHtml {
  return layout(site, {
    title: `No. ${issue.number}: ${issue.title}`,
    description: excerpt(issue.intro, 200),
    canonicalPath: links.issue(issue.number),
    body: html`<p class="meta"><a href="/issues">Issue</a> No. ${issue.number} · ${issueWeek(issue)}</p>
<h1>${issue.title}</h1>
<p class="intro">${issue.intro}</p>
${issue.stories.length === 0 ? html`<p class="notice">This issue has no stories.</p>` : issueStories(issue, links)}
${subscribePanel(site)}`,
  });
}

/** A page for an error or a notice: "Page not found", "This link is invalid", … */
export function messagePage(site: SiteInfo, input: { title: string; message: string }): SafeHtml {
  return layout(site, {
    title: input.title,
    noindex: true,
    body: html`<h1>${input.title}</h1>
<p>${input.message}</p>
<p><a href="/">Go to the latest stories</a></p>`,
  });
}

export function notFoundPage(site: SiteInfo, what = 'page'): SafeHtml {
  return messagePage(site, { title: 'Not found', message: `We could not find that ${what}. It may have been moved or withdrawn.` });
}
