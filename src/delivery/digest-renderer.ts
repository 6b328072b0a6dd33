import escapeHtml from 'escape-html';
import { type IssueView } from '../issues/issues.service';
import { type AppConfig } from '../kernel/config/config';
import { type EmailTemplates } from '../kernel/templates/email-templates';
import { DISCLOSURE } from '../narratives/narratives.service';

/** A URL-shaped placeholder: it survives MJML untouched and is replaced per recipient. */
export const UNSUBSCRIBE_SENTINEL = 'https://broadsheet.invalid/unsubscribe-link';

/** Paragraphs of each story shown in the email; the rest is one click away (keeps the digest far below Gmail's 102 kB clip). */
const PARAGRAPHS_PER_STORY = 2;

export interface RenderedDigest {
  subject: string;
  html: string;
  text: string;
}

/** Renders an issue's digest once, with the unsubscribe sentinel in place of every per-recipient link. */
export async function renderDigest(issue: IssueView, templates: EmailTemplates, config: AppConfig): Promise<RenderedDigest> {
  const base = config.server.publicUrl;
  const stories = issue.stories.map((story) => {
    const url = `${base}/stories/${encodeURIComponent(story.slug)}`;
    return {
      beat: story.beat.name,
      headline: story.headline,
      dek: story.dek,
      url,
      citationCount: story.citations.length,
      paragraphs: story.paragraphs.slice(0, PARAGRAPHS_PER_STORY).map((segments) =>
        segments.map((s) => ({ text: s.text, cites: s.cites.map((n) => ({ n, href: `${url}#cite-${n}` })) })),
      ),
    };
  });
  const { html, text } = await templates.render('digest', {
    title: `${config.site.title}: ${issue.title}`,
    preview: issue.preheader ?? issue.intro,
    site: { title: config.site.title, url: base },
    masthead: `Issue ${issue.number}`,
    issueTitle: issue.title,
    issueUrl: `${base}/issues/${issue.number}`,
    intro: issue.intro,
    stories,
    disclosure: issue.stories.some((s) => s.writer === 'offline')
      ? 'Stories marked as offline drafts were composed from public posts without a language model; the others were generated using Claude. All are based on public discourse and may contain inaccuracies.'
      : DISCLOSURE,
    footer: `You receive this because you subscribed to ${config.site.title}.`,
    unsubscribeUrl: UNSUBSCRIBE_SENTINEL,
    archiveUrl: `${base}/issues`,
  });
  const lead = issue.stories[0]?.headline;
  return { subject: issue.subject ?? `${config.site.title} #${issue.number}: ${lead ?? issue.title}`, html, text };
}

/** Substitutes one recipient's links, escaped for their context (HTML attribute vs plain text). */
export function personalise(digest: { html: string; text: string }, unsubscribeUrl: string): { html: string; text: string } {
  return {
    html: digest.html.split(UNSUBSCRIBE_SENTINEL).join(escapeHtml(unsubscribeUrl)),
    text: digest.text.split(UNSUBSCRIBE_SENTINEL).join(unsubscribeUrl),
  };
}
