import { type IssueEditorView, type IssueSummary } from '../../issues/issues.service';
import { type Actor } from '../auth/actor';
import { Role, roleAtLeast } from '../auth/role';
import { html, when, type SafeHtml } from '../../kernel/web/html';
import { csrfField } from './layout';

export function statusBadge(status: string): SafeHtml {
  const cls = status === 'sent' ? 'b-ok' : status === 'approved' ? 'b-warn' : 'b-bad';
  return html`<span class="badge ${cls}">${status}</span>`;
}

export function issuesTable(issues: IssueSummary[]): SafeHtml {
  if (issues.length === 0) return html`<p>No issues yet. The weekly job drafts one from the week's published stories.</p>`;
  return html`<div class="table-wrap"><table><thead><tr><th scope="col">#</th><th scope="col">Title</th><th scope="col">Week</th><th scope="col">Status</th><th scope="col">Updated</th></tr></thead><tbody>
${issues.map((i) => html`<tr><td>${i.number}</td><td><a href="/admin/issues/${i.number}">${i.title}</a></td><td>${i.weekStart.toISOString().slice(0, 10)}</td><td>${statusBadge(i.status)}</td><td>${when(i.updatedAt)}</td></tr>`)}
</tbody></table></div>`;
}

export interface DeliveryPanel {
  /** HTML of the delivery controls and progress, built from whatever the delivery module offers. */
  body: SafeHtml;
}

/** The issue editor: chosen stories (reorder by drag and drop or the move buttons), candidates, copy, approval. */
export function issueEditor(input: {
  view: IssueEditorView;
  actor: Actor;
  introDraft: { intro: string; writer: string; warning: string | null } | null;
  delivery: SafeHtml;
  preview: SafeHtml;
}): SafeHtml {
  const { issue, candidates } = input.view;
  const { actor } = input;
  const editable = issue.status === 'draft' && roleAtLeast(actor.role, Role.Editor);
  const n = issue.number;
  const post = (action: string, fields: Record<string, string>, label: string, options: { cls?: string; aria?: string } = {}) =>
    html`<form method="post" action="/admin/issues/${n}/${action}" class="inline">${csrfField(actor)}${Object.entries(fields).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`)}<button type="submit" class="${options.cls ?? 'secondary'}"${options.aria ? html` aria-label="${options.aria}"` : ''}>${label}</button></form>`;
  const stories = issue.stories.map(
    (s, i) => html`<li data-id="${s.id}"${editable ? html` draggable="true"` : ''}>
${editable ? html`<button type="button" class="handle" data-move aria-label="Move “${s.headline}”: use the arrow keys" aria-describedby="reorder-help">↕</button>` : ''}
<span class="title"><strong>${i + 1}. ${s.headline}</strong><br><span class="muted">${s.beat.name} · fidelity ${s.fidelity.toFixed(2)} · ${s.citations.length} citations</span></span>
${editable ? html`<span class="row">${i > 0 ? post('move', { narrativeId: s.id, direction: 'up' }, 'Up', { aria: `Move “${s.headline}” up` }) : ''}${i < issue.stories.length - 1 ? post('move', { narrativeId: s.id, direction: 'down' }, 'Down', { aria: `Move “${s.headline}” down` }) : ''}${post('drop', { narrativeId: s.id }, 'Drop', { aria: `Drop “${s.headline}”` })}</span>` : ''}
</li>`,
  );
  const intro = input.introDraft?.intro ?? issue.intro;
  return html`<p>${statusBadge(issue.status)} Week of ${issue.weekStart.toISOString().slice(0, 10)} · ${issue.stories.length} stories${issue.approvedAt ? html` · approved ${when(issue.approvedAt)}` : ''}</p>
${issue.status === 'draft' && roleAtLeast(actor.role, Role.Editor) ? html`<div class="card"><p>This issue is a draft: nothing goes out until an editor approves it. Approving publishes it on the site and makes it ready to send.</p>${post('approve', {}, 'Approve this issue', { cls: '' })}</div>` : ''}
<section class="card" aria-labelledby="stories-h"><h2 id="stories-h">Stories in this issue</h2>
<p id="reorder-help" class="muted">Drag a story by its handle to reorder, or focus the handle and press the up and down arrow keys; the Up and Down buttons do the same.</p>
<p id="reorder-status" class="sr-only" role="status" aria-live="polite"></p>
<ol class="entries" id="entries" data-issue="${n}">${stories}</ol>
${issue.stories.length === 0 ? html`<p>No stories yet: include some from the candidates below.</p>` : ''}
</section>
<section class="card" aria-labelledby="cand-h"><h2 id="cand-h">Candidates this week</h2>
${candidates.length === 0 ? html`<p class="muted">Every published story of the week is in the issue.</p>` : html`<ol class="entries">${candidates.map((c) => html`<li data-candidate="${c.id}"><span class="title"><strong>${c.headline}</strong><br><span class="muted">${c.beat.name} · fidelity ${c.fidelity.toFixed(2)} · ${c.citations.length} citations</span></span>${editable ? post('include', { narrativeId: c.id }, 'Include', { aria: `Include “${c.headline}”` }) : ''}</li>`)}</ol>`}
</section>
<section class="card" aria-labelledby="copy-h"><h2 id="copy-h">Title, subject, preheader and intro</h2>
<form method="post" action="/admin/issues/${n}/copy">${csrfField(actor)}
<label for="title">Title</label><input id="title" name="title" type="text" maxlength="200" required value="${issue.title}"${editable ? '' : ' disabled'}>
<label for="subject">Email subject <span class="muted">(empty: the default)</span></label><input id="subject" name="subject" type="text" maxlength="150" value="${issue.subject ?? ''}"${editable ? '' : ' disabled'}>
<label for="preheader">Preheader <span class="muted">(the inbox preview line; empty: the intro's opening)</span></label><input id="preheader" name="preheader" type="text" maxlength="200" value="${issue.preheader ?? ''}"${editable ? '' : ' disabled'}>
<label for="intro">Intro</label><textarea id="intro" name="intro" maxlength="4000"${editable ? '' : ' disabled'}>${intro}</textarea>
${input.introDraft ? html`<p class="notice${input.introDraft.warning ? ' error' : ''}" role="status" id="intro-drafted">${input.introDraft.warning ?? `A drafted intro (${input.introDraft.writer === 'claude' ? 'by Claude' : 'from the template'}) is in the box: edit it, then save. It is not saved yet.`}</p>` : ''}
${editable ? html`<p class="row"><button type="submit">Save</button><button type="submit" class="secondary" formaction="/admin/issues/${n}/intro-draft" formnovalidate>Draft an intro from the chosen stories</button></p>` : ''}
</form></section>
<section class="card" aria-labelledby="preview-h"><h2 id="preview-h">Preview</h2>${input.preview}</section>
<section class="card" aria-labelledby="send-h"><h2 id="send-h">Sending</h2>${input.delivery}</section>`;
}
