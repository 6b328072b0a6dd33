import escapeHtml from 'escape-html';
import { type IssueView } from '../issues/issues.service';
import { type AppConfig } from '../kernel/config/config';
import { type EmailTemplates } from '../kernel/templates/email-templates';
import { preferencesUrlForUnsubscribeUrl } from '../subscribers/subscribers.service';
import { conversationSummary } from './digest-summary';

/** A URL-shaped placeholder: it survives MJML untouched and is replaced per recipient. */
export const UNSUBSCRIBE_SENTINEL = 'https://broadsheet.invalid/unsubscribe-link';
/**
 * The preferences link's placeholder. Its URL is derived from the recipient's unsubscribe link (the subscribers
 * module's rule), so a batch's payload stays a function of the links stored on its recipients.
 */
export const PREFERENCES_SENTINEL = 'https://broadsheet.invalid/preferences-link';

export interface RenderedDigest {
  subject: string;
  /** The inbox preview line (also the hidden preheader of the HTML part). */
  preheader: string;
  html: string;
  text: string;
}

const PLATFORM_NAMES: Record<string, string> = {
  reddit: 'Reddit',
  hackernews: 'Hacker News',
  bluesky: 'Bluesky',
  mastodon: 'Mastodon',
  news: 'News',
  blog: 'Blog',
};

function platformName(platform: string): string {
  return PLATFORM_NAMES[platform] ?? platform;
}

function clip(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (flat.length <= max) return flat;
  const cut = flat.slice(0, max);
  return `${cut.slice(0, Math.max(cut.lastIndexOf(' '), max * 0.6)).replace(/[\s.,;:!?-]+$/, '')}…`;
}

/** Only absolute http(s) links from records ever become hrefs. */
function httpUrl(value: string): string | null {
  try {
    const url = new URL(value.trim());
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.toString() : null;
  } catch {
    return null;
  }
}

type Issue = IssueView & { subject?: string | null; preheader?: string | null };

/**
 * The subject: the editor's when set, else the lead story's headline with the site and issue number after a dash
 * (one colon at most, the headline's own). Stored subjects are trimmed and never empty.
 */
export function digestSubject(issue: Issue, siteTitle: string): string {
  const stored = issue.subject?.trim();
  if (stored) return stored;
  const lead = issue.stories[0]?.headline.trim();
  return lead ? `${lead} — ${siteTitle} No. ${issue.number}` : `${siteTitle} No. ${issue.number} — ${issue.title}`;
}

/** The preheader: the editor's when set, else the lead's dek and the next headlines, about 140 characters. */
export function digestPreheader(issue: Issue): string {
  const stored = issue.preheader?.trim();
  if (stored) return stored;
  const [lead, ...rest] = issue.stories;
  if (!lead) return clip(issue.intro, 140);
  const also = rest.slice(0, 2).map((s) => s.headline.trim());
  return clip(`${lead.dek.trim()}${also.length ? ` Also: ${also.join('; ')}.` : ''}`, 150);
}

/**
 * Each story's disclosure line, said once and in its own words (the words of the story page and the feed entry):
 * when every story of the issue has the same line, it is the footer's; otherwise each story carries its own
 * under its summary and the footer says none.
 */
export function digestDisclosures(issue: IssueView): { footer: string | null; perStory: boolean } {
  const lines = [...new Set(issue.stories.map((s) => s.disclosure))];
  return lines.length === 1 ? { footer: lines[0], perStory: false } : { footer: null, perStory: lines.length > 1 };
}

/** Renders an issue's digest once, with the unsubscribe sentinel in place of every per-recipient link. */
export async function renderDigest(issue: Issue, templates: EmailTemplates, config: AppConfig): Promise<RenderedDigest> {
  const base = config.server.publicUrl;
  const disclosures = digestDisclosures(issue);
  const stories = issue.stories.map((story, index) => {
    const url = `${base}/stories/${encodeURIComponent(story.slug)}`;
    const summary = conversationSummary(story).map((sentence) => ({
      text: sentence.text,
      sources: sentence.sources
        .map((s) => ({ label: `${platformName(s.platform)}${s.author.trim() ? ` · ${clip(s.author, 40)}` : ''}`, url: httpUrl(s.url) }))
        .filter((s): s is { label: string; url: string } => s.url !== null),
    }));
    return {
      anchor: `story-${index + 1}`,
      beat: story.beat.name,
      headline: story.headline,
      dek: story.dek,
      url,
      summary,
      citationCount: story.citations.length,
      disclosure: disclosures.perStory ? story.disclosure : null,
      sources: summary.flatMap((s) => s.sources).filter((s, i, list) => list.findIndex((o) => o.url === s.url) === i),
    };
  });
  const beats: Array<{ beat: string; stories: typeof stories }> = [];
  for (const story of stories) {
    const group = beats.find((b) => b.beat === story.beat);
    if (group) group.stories.push(story);
    else beats.push({ beat: story.beat, stories: [story] });
  }
  const subject = digestSubject(issue, config.site.title);
  const preheader = digestPreheader(issue);
  const { html, text } = await templates.render('digest', {
    title: subject,
    preview: preheader,
    site: { title: config.site.title, url: base },
    masthead: `No. ${issue.number} · ${issue.title}`,
    issueTitle: issue.title,
    issueNumber: issue.number,
    issueUrl: `${base}/issues/${issue.number}`,
    intro: issue.intro,
    contents: beats,
    stories,
    disclosure: disclosures.footer,
    footer: `You receive this because you subscribed to ${config.site.title}.`,
    unsubscribeUrl: UNSUBSCRIBE_SENTINEL,
    preferencesUrl: PREFERENCES_SENTINEL,
    archiveUrl: `${base}/issues`,
  });
  return { subject, preheader, html, text };
}

/**
 * A rendered digest cut once at its per-recipient links: `html` and `text` alternate literal text (even indexes)
 * and a sentinel (odd indexes). Personalising a recipient's copy is then joining the pieces with their links.
 */
export interface DigestTemplate {
  html: readonly string[];
  text: readonly string[];
}

const SENTINELS = /(https:\/\/broadsheet\.invalid\/(?:unsubscribe|preferences)-link)/;

/** Cuts a rendered digest at its sentinels, once per send. */
export function digestTemplate(digest: { html: string; text: string }): DigestTemplate {
  return { html: digest.html.split(SENTINELS), text: digest.text.split(SENTINELS) };
}

function fill(parts: readonly string[], unsubscribe: string, preferences: string): string {
  let out = parts[0] ?? '';
  for (let i = 1; i < parts.length; i += 2) out += (parts[i] === UNSUBSCRIBE_SENTINEL ? unsubscribe : preferences) + (parts[i + 1] ?? '');
  return out;
}

/** A recipient's links as they are spliced in: raw for the text part, escaped for HTML attributes. */
export interface RecipientLinks {
  unsubscribe: string;
  preferences: string;
  unsubscribeHtml: string;
  preferencesHtml: string;
}

/** The links for one recipient's unsubscribe link (the preferences link is derived from it). */
export function recipientLinks(unsubscribeUrl: string): RecipientLinks {
  const preferences = preferencesUrlForUnsubscribeUrl(unsubscribeUrl);
  return { unsubscribe: unsubscribeUrl, preferences, unsubscribeHtml: escapeHtml(unsubscribeUrl), preferencesHtml: escapeHtml(preferences) };
}

/**
 * One recipient's HTML part. The pieces are joined, not copied: the result shares the template's text until it is
 * serialised.
 */
export function personaliseHtml(template: DigestTemplate, links: RecipientLinks): string {
  return fill(template.html, links.unsubscribeHtml, links.preferencesHtml);
}

/** One recipient's text part (links raw). */
export function personaliseText(template: DigestTemplate, links: RecipientLinks): string {
  return fill(template.text, links.unsubscribe, links.preferences);
}

/** One recipient's copy: their links spliced into the template, escaped for their context. */
export function personaliseTemplate(template: DigestTemplate, unsubscribeUrl: string): { html: string; text: string } {
  const links = recipientLinks(unsubscribeUrl);
  return { html: personaliseHtml(template, links), text: personaliseText(template, links) };
}

/** Substitutes one recipient's links in a rendered digest (for one-off sends; a send cuts its template once). */
export function personalise(digest: { html: string; text: string }, unsubscribeUrl: string): { html: string; text: string } {
  return personaliseTemplate(digestTemplate(digest), unsubscribeUrl);
}
