import { Inject, Injectable } from '@nestjs/common';
import { z } from 'zod';
import { DeliveryService } from '../delivery/delivery.service';
// A pure function of the delivery module, used until DeliveryService offers a preview of its own.
import { personalise, renderDigest } from '../delivery/digest-renderer';
import { APP_CONFIG } from '../kernel/config/config.module';
import { type AppConfig } from '../kernel/config/config';
import { EmailSender } from '../kernel/email/email-sender.port';
import { ValidationError } from '../kernel/errors/domain-error';
import { EmailTemplates } from '../kernel/templates/email-templates';
import { IssuesService, type IssueSummary, type IssueView } from '../issues/issues.service';
import { NarrativesService } from '../narratives/narratives.service';
import { type Actor } from './auth/actor';
import { Role, roleAtLeast } from './auth/role';
import { html, when, type SafeHtml } from './web/html';
import { csrfField } from './web/layout';

/** Gmail clips a message whose HTML is over about 102 kB. */
export const GMAIL_CLIP_BYTES = 102 * 1024;
const MAX_TEST_RECIPIENTS = 10;

export interface EmailPreview {
  subject: string;
  preheader: string;
  html: string;
  text: string;
  bytes: number;
}

export interface SendProgress {
  issue: number;
  status: string;
  audience: number;
  accepted: number;
  failed: number;
  suppressed: number;
  skipped: number;
  done: number;
  startedAt: Date | null;
  finishedAt: Date | null;
}

/**
 * The workspace's read models, gathered from the other modules' services (only through them). Panels whose
 * module does not offer the needed method yet say so plainly instead of pretending.
 */
@Injectable()
export class WorkspaceService {
  constructor(
    private readonly issues: IssuesService,
    private readonly narratives: NarrativesService,
    private readonly delivery: DeliveryService,
    private readonly templates: EmailTemplates,
    private readonly email: EmailSender,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** The issue's email exactly as subscribers would get it (links to the unsubscribe page left as the placeholder). */
  async preview(number: number): Promise<EmailPreview> {
    const issue = await this.issues.getByNumber(number);
    const digest = await renderDigest(issue, this.templates, this.config);
    return { subject: digest.subject, preheader: issue.preheader ?? issue.intro, html: digest.html, text: digest.text, bytes: Buffer.byteLength(digest.html, 'utf8') };
  }

  /** Sends the rendered issue to up to ten given addresses, marked as a test; subscribers are not involved. */
  async sendTest(number: number, addresses: string): Promise<{ to: string[]; accepted: number }> {
    const list = addresses.split(/[\s,;]+/).filter(Boolean);
    const parsed = z.array(z.string().email()).min(1).max(MAX_TEST_RECIPIENTS).safeParse(list);
    if (!parsed.success) throw new ValidationError(`Give 1 to ${MAX_TEST_RECIPIENTS} email addresses, separated by commas or spaces.`, [{ field: 'to', message: `1 to ${MAX_TEST_RECIPIENTS} email addresses` }]);
    const preview = await this.preview(number);
    // A test copy's unsubscribe link points at the archive: it must never unsubscribe anyone.
    const body = personalise(preview, `${this.config.server.publicUrl}/issues`);
    const outcome = await this.email.sendBatch(
      parsed.data.map((to) => ({ from: this.config.email.from, to, subject: `[Test] ${preview.subject}`, html: body.html, text: body.text, headers: {} })),
      { idempotencyKey: `test-${number}-${Date.now()}-${Math.random().toString(36).slice(2)}` },
    );
    const accepted = outcome.kind === 'accepted' ? outcome.messages.filter((m) => m.status === 'accepted').length : 0;
    if (accepted === 0) throw new ValidationError(`The test was not sent: ${outcome.kind === 'accepted' ? 'every address was refused' : outcome.error}`, []);
    return { to: parsed.data, accepted };
  }

  /** Approves (if still a draft) and freezes the audience now; the delivery job sends the batches. */
  async sendNow(number: number): Promise<SendProgress> {
    const issue = await this.issues.getByNumber(number);
    if (issue.status === 'draft') await this.issues.approve(issue.id);
    if (!(await this.delivery.getSendForIssue(issue.id))) await this.delivery.startSend(issue.id);
    return this.progress(number);
  }

  async progress(number: number): Promise<SendProgress> {
    const issue = await this.issues.getByNumber(number);
    const send = await this.delivery.getSendForIssue(issue.id);
    if (!send) return { issue: number, status: 'not_started', audience: 0, accepted: 0, failed: 0, suppressed: 0, skipped: 0, done: 0, startedAt: null, finishedAt: null };
    const done = send.accepted + send.failed + send.suppressed + send.skipped;
    return { issue: number, status: send.status, audience: send.audience, accepted: send.accepted, failed: send.failed, suppressed: send.suppressed, skipped: send.skipped, done, startedAt: send.startedAt, finishedAt: send.finishedAt };
  }

  async dashboard(): Promise<{ issues: IssueSummary[]; storyCount: number; sources: SafeHtml; sends: SafeHtml; subscribers: SafeHtml }> {
    const issues = await this.issues.list(10);
    const sends: SafeHtml[] = [];
    for (const issue of issues.slice(0, 5)) {
      const send = await this.delivery.getSendForIssue(issue.id);
      if (send) sends.push(html`<li>#${issue.number}: ${send.status}, ${send.accepted} accepted, ${send.failed} failed, ${send.suppressed} suppressed, ${send.skipped} skipped of ${send.audience} <span class="muted">${when(send.startedAt)}</span></li>`);
    }
    return {
      issues,
      storyCount: await this.narratives.count(),
      sources: html`<p class="muted">Source health appears here once the sources module offers a list.</p>`,
      sends: sends.length ? html`<ul>${sends}</ul>` : html`<p>No sends yet.</p>`,
      subscribers: html`<p class="muted">The subscriber chart appears here once the subscribers module offers counts over time.</p>`,
    };
  }

  async deliveryPanel(issue: IssueView, actor: Actor): Promise<SafeHtml> {
    const p = await this.progress(issue.number);
    const editor = roleAtLeast(actor.role, Role.Editor);
    const testForm = editor
      ? html`<form method="post" action="/admin/issues/${issue.number}/test">${csrfField(actor)}<label for="test-to">Send a test to (up to ${MAX_TEST_RECIPIENTS} addresses)</label><input id="test-to" name="to" type="text" inputmode="email" autocomplete="email" required><p><button type="submit" class="secondary">Send test</button></p></form>`
      : '';
    const sendForm =
      editor && p.status === 'not_started'
        ? html`<form method="post" action="/admin/issues/${issue.number}/send">${csrfField(actor)}<p>${issue.status === 'draft' ? 'Sending approves the issue first. ' : ''}The audience is frozen when you press the button; the delivery job sends the batches.</p><button type="submit">Send to subscribers now</button></form>
<p class="muted">Scheduling a send for later needs the delivery module's scheduler, which has not landed yet.</p>`
        : '';
    const progress = html`<div id="progress" data-issue="${issue.number}" data-status="${p.status}" aria-live="polite">
${p.status === 'not_started' ? html`<p>Not sent yet.</p>` : html`<p>Send <strong data-field="status">${p.status}</strong>: <span data-field="done">${p.done}</span> of <span data-field="audience">${p.audience}</span> recipients final.</p>
<progress max="${Math.max(1, p.audience)}" value="${p.done}" aria-label="Recipients final"></progress>
<p><span data-field="accepted">${p.accepted}</span> accepted · <span data-field="failed">${p.failed}</span> failed · <span data-field="suppressed">${p.suppressed}</span> suppressed · <span data-field="skipped">${p.skipped}</span> skipped</p>`}</div>`;
    return html`${testForm}${sendForm}${progress}`;
  }

  async previewPanel(issue: IssueView): Promise<SafeHtml> {
    const p = await this.preview(issue.number);
    const kb = (p.bytes / 1024).toFixed(1);
    const over = p.bytes > GMAIL_CLIP_BYTES;
    return html`<p><strong>Subject:</strong> ${p.subject}<br><strong>Preheader:</strong> ${p.preheader.slice(0, 140)}</p>
<p id="email-size" class="${over ? 'notice error' : ''}">Email HTML: <strong>${kb} kB</strong> of Gmail's 102 kB clipping limit${over ? ' — Gmail will clip it: drop a story or shorten the intro.' : '.'}</p>
<p class="row"><a class="button secondary" href="/admin/issues/${issue.number}/preview/web" target="_blank" rel="noopener">Preview as the web page</a><a class="button secondary" href="/admin/issues/${issue.number}/preview/email" target="_blank" rel="noopener">Open the email on its own</a></p>
<div class="previews"><figure><figcaption>Desktop (600 px)</figcaption><iframe id="preview-desktop" title="Email preview at desktop width" sandbox src="/admin/issues/${issue.number}/preview/email" width="600"></iframe></figure>
<figure><figcaption>Phone (375 px)</figcaption><iframe id="preview-phone" title="Email preview at phone width" sandbox src="/admin/issues/${issue.number}/preview/email" width="375"></iframe></figure></div>`;
  }

  async storiesPanel(): Promise<SafeHtml> {
    const stories = await this.narratives.latest(50);
    return html`<div class="table-wrap"><table><thead><tr><th scope="col">Story</th><th scope="col">Beat</th><th scope="col">Fidelity</th><th scope="col">Citations</th><th scope="col">Published</th></tr></thead><tbody>
${stories.map((s) => html`<tr><td><a href="/stories/${s.slug}">${s.headline}</a><br><span class="muted">${s.dek}</span></td><td>${s.beat.name}</td><td>${s.fidelity.toFixed(2)}</td><td>${s.citations.length}</td><td>${when(s.publishedAt)}</td></tr>`)}
</tbody></table></div>`;
  }

  async sourcesPanel(): Promise<SafeHtml> {
    return html`<p class="muted">The sources module does not offer a list yet.</p>`;
  }

  async subscribersPanel(): Promise<SafeHtml> {
    return html`<p class="muted">The subscribers module does not offer search or counts yet.</p>`;
  }
}
