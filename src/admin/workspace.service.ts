import { Injectable } from '@nestjs/common';
import { DeliveryService } from '../delivery/delivery.service';
import { IssuesService, type IssueSummary, type IssueView } from '../issues/issues.service';
import { NarrativesService } from '../narratives/narratives.service';
import { type Actor } from './auth/actor';
import { html, when, type SafeHtml } from './web/html';

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
  ) {}

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

  async deliveryPanel(issue: IssueView, _actor: Actor): Promise<SafeHtml> {
    const send = await this.delivery.getSendForIssue(issue.id);
    if (!send) return html`<p>${issue.status === 'draft' ? 'Approve the issue to make it ready to send.' : 'Approved: the delivery job sends it on its next run.'}</p>`;
    const done = send.accepted + send.failed + send.suppressed + send.skipped;
    return html`<p>Send ${send.status}: ${done} of ${send.audience} recipients final.</p><progress max="${Math.max(1, send.audience)}" value="${done}"></progress>
<p>${send.accepted} accepted · ${send.failed} failed · ${send.suppressed} suppressed · ${send.skipped} skipped</p>`;
  }

  async previewPanel(_issue: IssueView): Promise<SafeHtml> {
    return html`<p class="muted">The email preview appears here once the delivery module offers a preview.</p>`;
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
