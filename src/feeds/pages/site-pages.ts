import { weekLabel } from '../../kernel/clock/week';
import { html, type SafeHtml } from './html';
import { layout, siteAlternates, type Alternate } from './layout';
import { dateTag, excerpt, storyBody, storyParagraphs, disclosureLine } from './story-html';
import { relativeLinks, type BeatSummary, type IssueSummary, type IssueWithStories, type Links, type SiteInfo, type StoryView } from './views';

const links = relativeLinks();

function writerBadge(story: StoryView): SafeHtml {
  return story.writer === 'offline' ? html`<span class="badge" title="Composed from the posts without a language model">Offline draft</span>` : html``;
}

function storyMeta(story: StoryView, l: Links): SafeHtml {
  return html`<p class="meta"><a href="${l.beat(story.beat.slug)}">${story.beat.name}</a> · ${dateTag(story.publishedAt)}${writerBadge(story)}</p>`;
}

function storyList(stories: readonly StoryView[]): SafeHtml {
  if (stories.length === 0) return html`<p class="notice">No stories have been published yet. Check back soon.</p>`;
  return html`<ul class="story-list">
${stories.map(
  (story) => html`<li>
${storyMeta(story, links)}
<h2><a href="${links.story(story.slug)}">${story.headline}</a></h2>
<p class="dek">${story.dek}</p>
</li>
`,
)}</ul>`;
}

export function subscribeForm(email = ''): SafeHtml {
  return html`<form method="post" action="/subscribe">
<label for="email">Email address</label>
<div class="inline"><input type="email" id="email" name="email" value="${email}" required maxlength="254" autocomplete="email" placeholder="you@example.com"><button type="submit">Subscribe</button></div>
</form>`;
}

function subscribePanel(site: SiteInfo): SafeHtml {
  return html`<section class="panel" id="subscribe">
<h2>Get the weekly issue</h2>
<p>One email a week with the best of ${site.title}. We send a confirmation link first; every issue has a one-click unsubscribe.</p>
${subscribeForm()}
</section>`;
}

function feedsPanel(site: SiteInfo, beats: readonly BeatSummary[]): SafeHtml {
  return html`<section class="panel feeds" id="feeds">
<h2>Follow in a feed reader</h2>
<p>Stories: <a href="/feed.xml">RSS</a> · <a href="/atom.xml">Atom</a> · <a href="/feed.json">JSON Feed</a><br>Weekly issues: <a href="/issues/feed.xml">RSS</a> · <a href="/issues">web archive</a></p>
${beats.length > 0 && html`<p>By beat: ${beats.map((beat, i) => html`${i > 0 && ' · '}<a href="${links.beat(beat.slug)}">${beat.name}</a> (<a href="${links.beat(beat.slug)}/feed.xml">RSS</a>)`)}</p>`}
</section>`;
}

export function homePage(site: SiteInfo, input: { stories: readonly StoryView[]; beats: readonly BeatSummary[] }): SafeHtml {
  return layout(site, {
    canonicalPath: '/',
    body: html`<h1 class="meta">Latest stories</h1>
${storyList(input.stories)}
${subscribePanel(site)}
${feedsPanel(site, input.beats)}`,
  });
}

export function storyPage(site: SiteInfo, story: StoryView): SafeHtml {
  return layout(site, {
    title: story.headline,
    description: story.dek,
    canonicalPath: links.story(story.slug),
    body: html`<article>
${storyMeta(story, links)}
<h1>${story.headline}</h1>
<p class="dek">${story.dek}</p>
${storyBody(story)}
</article>
${subscribePanel(site)}`,
  });
}

export function beatPage(site: SiteInfo, beat: BeatSummary, stories: readonly StoryView[]): SafeHtml {
  const feed: Alternate = { type: 'application/rss+xml', title: `${site.title}: ${beat.name} (RSS)`, href: `${site.publicUrl}${links.beat(beat.slug)}/feed.xml` };
  return layout(site, {
    title: beat.name,
    description: beat.description,
    canonicalPath: links.beat(beat.slug),
    alternates: [feed, ...siteAlternates(site)],
    body: html`<p class="meta">Beat · <a href="${links.beat(beat.slug)}/feed.xml">RSS feed</a></p>
<h1>${beat.name}</h1>
<p class="dek">${beat.description}</p>
${storyList(stories)}
${subscribePanel(site)}`,
  });
}

function issueWeek(issue: IssueSummary): string {
  return weekLabel({ start: issue.weekStart, end: issue.weekEnd });
}

export function issuesPage(site: SiteInfo, issues: readonly IssueSummary[]): SafeHtml {
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
