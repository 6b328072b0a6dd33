import { Injectable } from '@nestjs/common';
import { z } from 'zod';
import { DeliveryService, type IssueDeliveryStatus } from '../delivery/delivery.service';
import { ValidationError } from '../kernel/errors/domain-error';
import { IssuesService, type IssueSummary, type IssueView } from '../issues/issues.service';
import { NarrativesService } from '../narratives/narratives.service';
import { SourcesService } from '../sources/sources.service';
import { SubscribersService } from '../subscribers/subscribers.service';
import { type Actor } from './auth/actor';
import { Role, roleAtLeast } from './auth/role';
import { html, when, type SafeHtml } from '../kernel/web/html';
import { subscribersChart } from './web/curation-pages';
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

type SendTimes = Pick<IssueDeliveryStatus['sends'][number], 'scheduledAt' | 'startedAt' | 'finishedAt'>;

/** The figures of `issues status N` (delivery's own view type), plus how many recipients are final and the latest send's times. */
export type SendProgress = Pick<IssueDeliveryStatus, 'issue' | 'status' | 'audience' | 'accepted' | 'failed' | 'suppressed' | 'skipped' | 'held' | 'pending'> &
  SendTimes & { done: number };

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
    private readonly sources: SourcesService,
    private readonly subscribers: SubscribersService,
  ) {}

  /** The issue's email exactly as subscribers would get it (links to the unsubscribe page left as the placeholder). */
  async preview(number: number): Promise<EmailPreview> {
    const digest = await this.delivery.previewDigest(number);
    return { ...digest, bytes: Buffer.byteLength(digest.html, 'utf8') };
  }

  /** Sends the rendered issue, marked as a test, to up to ten given addresses (the delivery module's test send). */
  async sendTest(number: number, addresses: string): Promise<{ to: string[]; accepted: number }> {
    const list = addresses.split(/[\s,;]+/).filter(Boolean);
    const parsed = z.array(z.string().email()).min(1).max(MAX_TEST_RECIPIENTS).safeParse(list);
    if (!parsed.success)
      throw new ValidationError(`Give 1 to ${MAX_TEST_RECIPIENTS} email addresses, separated by commas or spaces.`, [
        { field: 'to', message: `1 to ${MAX_TEST_RECIPIENTS} email addresses` },
      ]);
    const send = await this.delivery.testSend(number, parsed.data);
    if (send.accepted === 0) throw new ValidationError('The test was not sent: the provider refused every address.', []);
    return { to: parsed.data, accepted: send.accepted };
  }

  /**
   * Approves (if still a draft) and queues the send now or at `at`: the audience is frozen when it starts and the
   * delivery job sends the batches.
   */
  async send(number: number, at?: Date): Promise<SendProgress> {
    const issue = await this.issues.getByNumber(number);
    if (issue.status === 'draft') await this.issues.approve(issue.id);
    await this.delivery.send(number, { at });
    return this.progress(number);
  }

  async pause(number: number): Promise<SendProgress> {
    await this.delivery.pause(number);
    return this.progress(number);
  }

  async resume(number: number): Promise<SendProgress> {
    await this.delivery.resume(number);
    return this.progress(number);
  }

  async cancel(number: number): Promise<SendProgress> {
    await this.delivery.cancel(number);
    return this.progress(number);
  }

  /** The figures of `issues status N`; `not_started` before any send. */
  async progress(number: number): Promise<SendProgress> {
    const s = await this.delivery.issueStatus(number);
    const latest = s.sends[s.sends.length - 1];
    if (!latest)
      return {
        issue: number,
        status: 'not_started',
        audience: 0,
        accepted: 0,
        failed: 0,
        suppressed: 0,
        skipped: 0,
        held: 0,
        pending: 0,
        done: 0,
        scheduledAt: null,
        startedAt: null,
        finishedAt: null,
      };
    return {
      issue: number,
      status: latest.status,
      audience: s.audience,
      accepted: s.accepted,
      failed: s.failed,
      suppressed: s.suppressed,
      skipped: s.skipped,
      held: s.held,
      pending: s.pending,
      done: s.accepted + s.failed + s.suppressed + s.skipped,
      scheduledAt: latest.scheduledAt,
      startedAt: latest.startedAt,
      finishedAt: latest.finishedAt,
    };
  }

  async dashboard(): Promise<{ issues: IssueSummary[]; storyCount: number; sources: SafeHtml; sends: SafeHtml; subscribers: SafeHtml }> {
    const issues = await this.issues.list(10);
    const sends: SafeHtml[] = [];
    for (const issue of issues.slice(0, 5)) {
      const send = await this.delivery.getSendForIssue(issue.id);
      if (send)
        sends.push(
          html`<li>#${issue.number}: ${send.status}, ${send.accepted} accepted, ${send.failed} failed, ${send.suppressed} suppressed, ${send.skipped} skipped of ${send.audience} <span class="muted">${when(send.startedAt)}</span></li>`,
        );
    }
    const sources = await this.sources.list();
    const failing = sources.filter((src) => src.lastError);
    const counts = await this.subscribers.countByStatus();
    const history = await this.subscribers.statusHistory(30);
    return {
      issues,
      storyCount: await this.narratives.count(),
      sources: html`<p>${sources.length} sources: ${sources.filter((src) => src.status === 'active').length} active, ${failing.length} with errors.</p>${failing.length ? html`<ul>${failing.slice(0, 5).map((src) => html`<li><strong>${src.name}</strong>: ${src.lastError}</li>`)}</ul>` : ''}<p><a href="/admin/sources">All sources</a></p>`,
      sends: sends.length ? html`<ul>${sends}</ul>` : html`<p>No sends yet.</p>`,
      subscribers: html`<p>${counts.byStatus.active ?? 0} active · ${counts.byStatus.pending ?? 0} pending · ${counts.byStatus.unsubscribed ?? 0} unsubscribed (${counts.total} in all).</p>${subscribersChart(history)}<p><a href="/admin/subscribers">Search, import and export</a></p>`,
    };
  }

  async deliveryPanel(issue: IssueView, actor: Actor): Promise<SafeHtml> {
    const p = await this.progress(issue.number);
    const editor = roleAtLeast(actor.role, Role.Editor);
    const testForm = editor
      ? html`<form method="post" action="/admin/issues/${issue.number}/test">${csrfField(actor)}<label for="test-to">Send a test to (up to ${MAX_TEST_RECIPIENTS} addresses)</label><input id="test-to" name="to" type="text" inputmode="email" autocomplete="email" required><p><button type="submit" class="secondary">Send test</button></p></form>`
      : '';
    const form = (action: string, label: string, cls = 'secondary') =>
      html`<form method="post" action="/admin/issues/${issue.number}/${action}" class="inline">${csrfField(actor)}<button type="submit" class="${cls}">${label}</button></form>`;
    const live = ['scheduled', 'sending', 'paused'].includes(p.status);
    const sendForm = !editor
      ? ''
      : live
        ? html`<p class="row">${p.status === 'paused' ? form('resume', 'Resume') : form('pause', 'Pause')}${form('cancel', 'Cancel the send', 'danger')}</p>`
        : html`<form method="post" action="/admin/issues/${issue.number}/send">${csrfField(actor)}<p>${issue.status === 'draft' ? 'Sending approves the issue first. ' : ''}${p.status === 'sent' ? 'Sending again reaches only subscribers who have no copy yet. ' : ''}The audience is frozen when the send starts; the delivery job sends the batches.</p>
<label for="send-at">Send at (UTC; empty: now)</label><input id="send-at" name="at" type="datetime-local" step="1">
<p class="row"><button type="submit" name="when" value="now">Send to subscribers now</button><button type="submit" name="when" value="at" class="secondary">Schedule</button></p></form>`;
    const progress = html`<div id="progress" data-issue="${issue.number}" data-status="${p.status}" aria-live="polite">
${
  p.status === 'not_started'
    ? html`<p>Not sent yet.</p>`
    : html`${p.scheduledAt && p.status === 'scheduled' ? html`<p>Scheduled for ${p.scheduledAt.replace('T', ' ').slice(0, 19)} UTC.</p>` : ''}<p>Send <strong data-field="status">${p.status}</strong>: <span data-field="done">${p.done}</span> of <span data-field="audience">${p.audience}</span> recipients final.</p>
<progress max="${Math.max(1, p.audience)}" value="${p.done}" aria-label="Recipients final"></progress>
<p><span data-field="accepted">${p.accepted}</span> accepted · <span data-field="failed">${p.failed}</span> failed · <span data-field="suppressed">${p.suppressed}</span> suppressed · <span data-field="skipped">${p.skipped}</span> skipped · <span data-field="held">${p.held}</span> held · <span data-field="pending">${p.pending}</span> pending</p>`
}</div>`;
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
}
