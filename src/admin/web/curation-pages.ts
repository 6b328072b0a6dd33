import { type NarrativeVersionView, type NarrativeView, type BeatView, type StorylineView } from '../../narratives/narratives.service';
import { type SourceDetail, type SourceTestResult, type SourceView } from '../../sources/sources.service';
import { type ImportRowError, type ImportSummary } from '../../subscribers/subscriber-transfer.service';
import { type StatusCounts, type StatusHistoryPoint, type SubscriberPage } from '../../subscribers/subscribers.service';
import { html, httpUrl, when, type HtmlValue, type SafeHtml } from '../../kernel/web/html';
import { type Actor } from '../auth/actor';
import { Role, roleAtLeast } from '../auth/role';
import { csrfField } from './layout';

/** Field name → what is wrong with it, shown next to the field. */
export type FieldErrors = Record<string, string>;

/** The source kinds the sources module has adapters for, with the target each expects (DESIGN.md). */
export const SOURCE_KINDS: ReadonlyArray<{ kind: string; hint: string }> = [
  { kind: 'rss', hint: 'an http(s) URL of an RSS, Atom or JSON feed' },
  { kind: 'reddit', hint: 'r/<subreddit>' },
  { kind: 'hackernews', hint: 'front, or search:<query>' },
  { kind: 'bluesky', hint: '<handle>, or search:<query>' },
  { kind: 'mastodon', hint: 'https://<instance>/tags/<tag> or https://<instance>/@<user>' },
  { kind: 'file', hint: 'a path inside the import folder' },
];

const isEditor = (actor: Actor) => roleAtLeast(actor.role, Role.Editor);

/** A labelled input with its error (if any) right under it, tied by aria-describedby. */
function field(input: {
  id: string;
  name: string;
  label: string;
  value: string;
  errors: FieldErrors;
  hint?: string;
  type?: string;
  required?: boolean;
  maxlength?: number;
  multiline?: boolean;
  disabled?: boolean;
}): SafeHtml {
  const error = input.errors[input.name];
  const described = [input.hint ? `${input.id}-hint` : '', error ? `${input.id}-error` : ''].filter(Boolean).join(' ');
  const attrs = html`id="${input.id}" name="${input.name}"${input.required ? html` required` : ''}${input.maxlength ? html` maxlength="${input.maxlength}"` : ''}${described ? html` aria-describedby="${described}"` : ''}${error ? html` aria-invalid="true"` : ''}${input.disabled ? html` disabled` : ''}`;
  return html`<label for="${input.id}">${input.label}</label>${input.hint ? html`<span class="muted hint" id="${input.id}-hint">${input.hint}</span>` : ''}
${input.multiline ? html`<textarea ${attrs}>${input.value}</textarea>` : html`<input ${attrs} type="${input.type ?? 'text'}" value="${input.value}">`}
${error ? html`<p class="field-error" id="${input.id}-error">${error}</p>` : ''}`;
}

function formError(errors: FieldErrors): SafeHtml {
  const list = Object.entries(errors);
  return list.length
    ? html`<div class="notice error" role="alert"><p>Please fix ${list.length === 1 ? 'this' : 'these'}:</p><ul>${list.map(([k, v]) => html`<li><a href="#f-${k}">${k}</a>: ${v}</li>`)}</ul></div>`
    : html``;
}

export function healthBadge(status: string): SafeHtml {
  const cls = status === 'active' || status === 'published' ? 'b-ok' : status === 'paused' || status === 'unpublished' ? 'b-warn' : 'b-bad';
  return html`<span class="badge ${cls}">${status}</span>`;
}

// --- beats --------------------------------------------------------------------------------------------------------

export interface BeatFormValues {
  slug: string;
  name: string;
  description: string;
  keywords: string;
  sources: string[];
}

export function beatForm(input: { actor: Actor; values: BeatFormValues; errors: FieldErrors; sources: SourceView[]; editing: boolean }): SafeHtml {
  const { values, errors, actor } = input;
  const action = input.editing ? `/admin/beats/${values.slug}` : '/admin/beats';
  return html`<form class="card" method="post" action="${action}" novalidate>${csrfField(actor)}<h2>${input.editing ? 'Edit the beat' : 'New beat'}</h2>${formError(errors)}
${input.editing ? html`<p>Slug: <span class="mono">${values.slug}</span> <span class="muted">(part of its feed and page addresses: it does not change)</span></p>` : field({ id: 'f-slug', name: 'slug', label: 'Slug', value: values.slug, errors, required: true, maxlength: 60, hint: 'lower-case letters, digits and hyphens, e.g. ai-policy' })}
${field({ id: 'f-name', name: 'name', label: 'Name', value: values.name, errors, required: true, maxlength: 80 })}
${field({ id: 'f-description', name: 'description', label: 'Description', value: values.description, errors, maxlength: 400, multiline: true })}
${field({ id: 'f-keywords', name: 'keywords', label: 'Keywords', value: values.keywords, errors, required: true, hint: 'separated by commas; records are matched to the beat by them' })}
<fieldset><legend>Sources that feed it</legend>${input.sources.length === 0 ? html`<p class="muted">No sources yet.</p>` : input.sources.map((s) => html`<label class="check"><input type="checkbox" name="sources" value="${s.id}"${values.sources.includes(s.id) ? html` checked` : ''}> ${s.name} <span class="muted">(${s.kind})</span></label>`)}</fieldset>
${errors.sources ? html`<p class="field-error" id="f-sources-error">${errors.sources}</p>` : ''}
<p><button type="submit">${input.editing ? 'Save the beat' : 'Create the beat'}</button></p></form>`;
}

export function beatsTable(beats: BeatView[], sources: SourceView[]): SafeHtml {
  if (beats.length === 0) return html`<p>No beats yet.</p>`;
  return html`<div class="table-wrap"><table><thead><tr><th scope="col">Beat</th><th scope="col">Description</th><th scope="col">Keywords</th><th scope="col">Sources</th></tr></thead><tbody>${beats.map(
    (b) =>
      html`<tr><td><a href="/admin/beats/${b.slug}"><strong>${b.name}</strong></a><br><span class="mono">${b.slug}</span></td><td>${b.description}</td><td>${b.keywords.join(', ')}</td><td>${sources.filter((s) => s.beats.includes(b.slug)).length}</td></tr>`,
  )}</tbody></table></div>`;
}

// --- sources ------------------------------------------------------------------------------------------------------

export interface SourceFormValues {
  kind: string;
  target: string;
  name: string;
  every: string;
  beats: string[];
}

export function sourceForm(input: { actor: Actor; values: SourceFormValues; errors: FieldErrors; beats: BeatView[] }): SafeHtml {
  const { values, errors, actor } = input;
  return html`<form class="card" method="post" action="/admin/sources" novalidate>${csrfField(actor)}<h2>Add a source</h2>${formError(errors)}
<label for="f-kind">Kind</label><select id="f-kind" name="kind"${errors.kind ? html` aria-invalid="true" aria-describedby="f-kind-error"` : ''}>${SOURCE_KINDS.map((k) => html`<option value="${k.kind}"${k.kind === values.kind ? html` selected` : ''}>${k.kind}: ${k.hint}</option>`)}</select>
${errors.kind ? html`<p class="field-error" id="f-kind-error">${errors.kind}</p>` : ''}
${field({ id: 'f-target', name: 'target', label: 'Target', value: values.target, errors, required: true, maxlength: 2000, hint: 'what the kind expects (see the list above)' })}
${field({ id: 'f-name', name: 'name', label: 'Name (optional)', value: values.name, errors, maxlength: 200 })}
${field({ id: 'f-every', name: 'every', label: 'Poll every (optional)', value: values.every, errors, maxlength: 20, hint: 'e.g. 30m, 2h or 1d; empty: the default' })}
<fieldset><legend>Beats it feeds</legend>${input.beats.map((b) => html`<label class="check"><input type="checkbox" name="beats" value="${b.slug}"${values.beats.includes(b.slug) ? html` checked` : ''}> ${b.name}</label>`)}</fieldset>
${errors.beats ? html`<p class="field-error" id="f-beats-error">${errors.beats}</p>` : ''}
<p class="row"><button type="submit" name="intent" value="add">Add the source</button><button type="submit" name="intent" value="test" class="secondary">Test it first</button></p>
<p class="muted">Testing fetches the target now and shows what would be imported, without importing anything.</p></form>`;
}

export function sourcesTable(sources: SourceView[]): SafeHtml {
  if (sources.length === 0) return html`<p>No sources yet.</p>`;
  return html`<div class="table-wrap"><table id="sources"><thead><tr><th scope="col">Source</th><th scope="col">Kind</th><th scope="col">Health</th><th scope="col">Records</th><th scope="col">Last polled</th><th scope="col">Last error</th></tr></thead><tbody>
${sources.map(
  (s) =>
    html`<tr data-source="${s.id}"><td><a href="/admin/sources/${s.id}"><strong>${s.name}</strong></a><br><span class="mono">${s.target}</span></td><td>${s.kind}</td><td>${healthBadge(s.status)}${s.consecutiveFailures ? html`<br><span class="muted">${s.consecutiveFailures} failures in a row</span>` : ''}${s.pausedReason ? html`<br><span class="muted">${s.pausedReason}</span>` : ''}</td><td>${s.records}</td><td>${s.lastPolledAt?.replace('T', ' ').slice(0, 16) ?? '—'}</td><td>${s.lastError ?? ''}</td></tr>`,
)}
</tbody></table></div>`;
}

export function testResult(result: SourceTestResult): SafeHtml {
  return html`<section class="card" aria-labelledby="test-h" id="test-result"><h2 id="test-h">What would be imported</h2>
<p><strong>${result.items}</strong> items from <span class="mono">${result.target}</span> (${result.kind}, ${result.platform}) · HTTP ${result.httpStatus ?? '—'} in ${result.responseMs} ms${result.notModified ? ' · not modified' : ''} · ${result.rejected} rejected · ${result.overCap} over the per-poll cap. Nothing was imported.</p>
${result.rejectedReasons.length ? html`<details><summary>Why items were rejected</summary><ul>${result.rejectedReasons.map((r) => html`<li>item ${r.index + 1}: ${r.reason}</li>`)}</ul></details>` : ''}
${
  result.preview.length
    ? html`<ol class="preview">${result.preview.map((p) => {
        const url = httpUrl(p.url);
        return html`<li><strong>${url ? html`<a href="${url}" rel="noopener noreferrer nofollow">${p.title || '(untitled)'}</a>` : p.title || '(untitled)'}</strong> <span class="muted">${p.author} · ${p.publishedAt.slice(0, 16).replace('T', ' ')}</span><br>${p.text}</li>`;
      })}</ol>`
    : html`<p>No items.</p>`
}
</section>`;
}

export function testFailure(message: string): SafeHtml {
  return html`<section class="card notice error" id="test-result" role="alert"><h2>The test failed</h2><p>${message}</p><p>Nothing was imported.</p></section>`;
}

export function sourceDetail(input: { actor: Actor; source: SourceDetail; test: SafeHtml | null }): SafeHtml {
  const { source: s, actor } = input;
  const action = (path: string, label: string, cls = 'secondary') =>
    html`<form method="post" action="/admin/sources/${s.id}/${path}" class="inline">${csrfField(actor)}<button type="submit" class="${cls}">${label}</button></form>`;
  return html`<p>${healthBadge(s.status)} <span class="mono">${s.target}</span> · ${s.kind} · ${s.platform} · beats: ${s.beats.join(', ') || 'none'} · every ${Math.round(s.everySeconds / 60)} min</p>
<dl class="facts"><dt>Records</dt><dd>${s.records}</dd><dt>Last polled</dt><dd>${s.lastPolledAt ?? '—'}</dd><dt>Last success</dt><dd>${s.lastSuccessAt ?? '—'}</dd><dt>Next poll</dt><dd>${s.nextPollAt ?? '—'}</dd><dt>Last error</dt><dd>${s.lastError ?? 'none'}</dd></dl>
${
  isEditor(actor)
    ? html`<p class="row">${action('test', 'Test now')}${s.status === 'paused' ? action('resume', 'Resume') : action('pause', 'Pause')}</p>
<form method="post" action="/admin/sources/${s.id}/remove" class="card">${csrfField(actor)}<p>Removing the source deletes its ${s.records} records too.</p><label class="check"><input type="checkbox" name="confirm" value="yes" required> Yes, remove “${s.name}” and its records</label><p><button type="submit" class="danger">Remove the source</button></p></form>`
    : ''
}
${input.test ?? ''}
<h2>Recent polls</h2>${s.recentPolls.length === 0 ? html`<p>Not polled yet.</p>` : html`<div class="table-wrap"><table><thead><tr><th scope="col">Started</th><th scope="col">Status</th><th scope="col">New</th><th scope="col">Seen</th><th scope="col">Invalid</th><th scope="col">HTTP</th><th scope="col">Error</th></tr></thead><tbody>${s.recentPolls.map((p) => html`<tr><td>${p.startedAt.slice(0, 16).replace('T', ' ')}</td><td>${p.status}</td><td>${p.new}</td><td>${p.seen}</td><td>${p.invalid}</td><td>${p.httpStatus ?? '—'}</td><td>${p.error ?? ''}</td></tr>`)}</tbody></table></div>`}
<p><a href="/admin/sources">All sources</a></p>`;
}

// --- storylines and narratives -------------------------------------------------------------------------------------

const fixed = (n: number | undefined, digits = 2) => (typeof n === 'number' && Number.isFinite(n) ? n.toFixed(digits) : '—');

export function storylinesTable(storylines: StorylineView[]): SafeHtml {
  if (storylines.length === 0) return html`<p>No storylines yet: they are built from the week's records by the pipeline.</p>`;
  return html`<p class="muted">Week of ${storylines[0].windowStart.toISOString().slice(0, 10)}, ranked by signal (volume × spread across platforms, velocity, authors).</p>
<div class="table-wrap"><table id="storylines"><thead><tr><th scope="col">Storyline</th><th scope="col">Beat</th><th scope="col">Score</th><th scope="col">Records</th><th scope="col">Platforms</th><th scope="col">Velocity</th><th scope="col">Authors</th><th scope="col">Narrative</th></tr></thead><tbody>
${storylines.map(
  (
    s,
  ) => html`<tr><td><strong>${s.label}</strong>${s.signals?.keyPhrases.length ? html`<br><span class="muted">${s.signals.keyPhrases.slice(0, 5).join(' · ')}</span>` : ''}${s.flaggedRecords.length ? html`<br><span class="badge b-bad">${s.flaggedRecords.length} record(s) try to instruct the writer</span>` : ''}${s.lastWriteError ? html`<br><span class="field-error">${s.lastWriteError}</span>` : ''}</td>
<td>${s.beat.name}</td><td>${fixed(s.score)}</td><td>${s.recordCount}</td><td>${s.platformCount}</td><td>${fixed(s.signals?.velocity)}</td><td>${s.signals?.authors ?? '—'}</td>
<td>${s.narrative ? html`<a href="/admin/stories/${s.narrative.id}">${s.narrative.headline}</a><br>${healthBadge(s.narrative.status)} fidelity ${fixed(s.narrative.fidelity)}${s.narrative.heldBecause ? html`<br><span class="muted">${s.narrative.heldBecause}</span>` : ''}` : html`<span class="muted">not written</span>`}</td></tr>`,
)}
</tbody></table></div>`;
}

/** The body as an editor edits it: paragraphs separated by blank lines, citation markers `[n]` after the text they support. */
export function editableBody(narrative: NarrativeView): string {
  return narrative.paragraphs.map((p) => p.map((s) => `${s.text}${s.cites.map((c) => `[${c}]`).join('')}`).join('')).join('\n\n');
}

export function narrativeDetail(input: {
  actor: Actor;
  narrative: NarrativeView;
  versions: NarrativeVersionView[];
  values?: { headline: string; dek: string; body: string };
  errors: FieldErrors;
}): SafeHtml {
  const { narrative: n, actor, errors } = input;
  const values = input.values ?? { headline: n.headline, dek: n.dek, body: editableBody(n) };
  const report = n.fidelityReport;
  const action = (path: string, label: string, cls = 'secondary') =>
    html`<form method="post" action="/admin/stories/${n.id}/${path}" class="inline">${csrfField(actor)}<button type="submit" class="${cls}">${label}</button></form>`;
  return html`<p id="narrative-status">${healthBadge(n.status)} ${n.beat.name} · version ${n.version} · written by ${n.writer}${n.model ? html` (${n.model})` : ''} · fidelity <strong>${fixed(n.fidelity)}</strong>${n.publishedAt ? html` · published ${when(n.publishedAt)}` : ''}${n.status === 'published' ? html` · <a href="/stories/${n.slug}">on the site</a>` : ''}</p>
${isEditor(actor) ? html`<p class="row">${n.status !== 'published' ? action('approve', 'Approve and publish', '') : action('unpublish', 'Unpublish', 'danger')}${action('regenerate', 'Regenerate')}</p>${n.status !== 'published' ? html`<p class="muted">Approving publishes the text as it is, whatever the check found; editing it re-runs the check first.</p>` : ''}` : ''}
<section class="card" aria-labelledby="fid-h" id="fidelity"><h2 id="fid-h">Fidelity report</h2>
<p>${report.checks} specifics checked, ${report.failed.length} failed.${report.heldBecause ? html` Held because: <strong>${report.heldBecause}</strong>.` : ''}</p>
${report.failed.length ? html`<div class="table-wrap"><table><thead><tr><th scope="col">Check</th><th scope="col">Where</th><th scope="col">What</th><th scope="col">Why it failed</th></tr></thead><tbody>${report.failed.map((f) => html`<tr><td>${f.kind}</td><td>${f.where}</td><td>${f.value}</td><td>${f.reason}</td></tr>`)}</tbody></table></div>` : html`<p>Every check passed.</p>`}
</section>
<section class="card" aria-labelledby="text-h"><h2 id="text-h">Text</h2><h3>${n.headline}</h3><p><strong>${n.dek}</strong></p>
${n.paragraphs.map((p) => html`<p>${p.map((s) => html`${s.text}${s.cites.map((c) => html`<sup><a href="#cite-${c}">[${c}]</a></sup>`)}`)}</p>`)}<p class="muted">${n.disclosure}</p></section>
<section class="card" aria-labelledby="cit-h"><h2 id="cit-h">Citations</h2><ol class="citations">${n.citations.map((c) => {
    const url = httpUrl(c.record.url);
    return html`<li id="cite-${c.number}" value="${c.number}"><strong>${url ? html`<a href="${url}" rel="noopener noreferrer nofollow">${c.record.title || c.record.url}</a>` : c.record.title}</strong> <span class="muted">${[c.record.outlet, c.record.author, c.record.platform].filter(Boolean).join(' · ')} · ${when(c.record.publishedAt)}</span><br>${c.record.text.slice(0, 400)}</li>`;
  })}</ol></section>
${
  isEditor(actor)
    ? html`<form class="card" method="post" action="/admin/stories/${n.id}/edit" novalidate id="edit">${csrfField(actor)}<h2>Edit</h2>${formError(errors)}
<p class="muted">The edit is checked for grounding again before it can be published: every name, number and quote must be in the records it cites. If a check fails the story is held and the report says why.</p>
${field({ id: 'f-headline', name: 'headline', label: 'Headline', value: values.headline, errors, required: true, maxlength: 200 })}
${field({ id: 'f-dek', name: 'dek', label: 'Dek', value: values.dek, errors, maxlength: 400 })}
${field({ id: 'f-body', name: 'body', label: 'Body', value: values.body, errors, multiline: true, hint: 'paragraphs separated by a blank line; put [n] after the text that citation n supports' })}
<p><button type="submit">Check and save</button></p></form>`
    : ''
}
<section class="card" aria-labelledby="ver-h"><h2 id="ver-h">Versions</h2><div class="table-wrap"><table><thead><tr><th scope="col">Version</th><th scope="col">When</th><th scope="col">By</th><th scope="col">Status</th><th scope="col">Fidelity</th><th scope="col">Headline</th></tr></thead><tbody>${[
    ...input.versions,
  ]
    .reverse()
    .map(
      (v) =>
        html`<tr><td>${v.version}</td><td>${when(v.createdAt)}</td><td>${v.editor ?? v.writer}</td><td>${v.status ?? ''}</td><td>${fixed(v.fidelity)}</td><td>${v.headline}</td></tr>`,
    )}</tbody></table></div></section>
<p><a href="/admin/stories">All storylines</a></p>`;
}

// --- subscribers --------------------------------------------------------------------------------------------------

export interface SubscriberFilter {
  search: string;
  status: string;
  beat: string;
  from: string;
  to: string;
}

export function subscribersPage(input: {
  actor: Actor;
  filter: SubscriberFilter;
  errors: FieldErrors;
  page: SubscriberPage | null;
  counts: { total: number; byStatus: StatusCounts };
  beats: BeatView[];
  statuses: readonly string[];
  query: string;
}): SafeHtml {
  const { filter: f, errors, actor } = input;
  const option = (value: string, label: string, current: string) => html`<option value="${value}"${value === current ? html` selected` : ''}>${label}</option>`;
  return html`<p id="counts">${input.statuses.map((s) => html`<span class="badge">${s}: ${input.counts.byStatus[s as keyof StatusCounts] ?? 0}</span> `)} <strong>${input.counts.total}</strong> in all.</p>
<form class="card" method="get" action="/admin/subscribers" role="search"><h2>Search and filter</h2>${formError(errors)}
<div class="grid">
<div>${field({ id: 'f-search', name: 'search', label: 'Address contains', value: f.search, errors, type: 'search', maxlength: 200 })}</div>
<div><label for="f-status">Status</label><select id="f-status" name="status">${option('', 'any', f.status)}${input.statuses.map((s) => option(s, s, f.status))}</select></div>
<div><label for="f-beat">Beat</label><select id="f-beat" name="beat">${option('', 'any', f.beat)}${input.beats.map((b) => option(b.slug, b.name, f.beat))}</select></div>
<div>${field({ id: 'f-from', name: 'from', label: 'Signed up from', value: f.from, errors, type: 'date' })}</div>
<div>${field({ id: 'f-to', name: 'to', label: 'Signed up until', value: f.to, errors, type: 'date' })}</div>
</div><p class="row"><button type="submit">Search</button><a class="button secondary" href="/admin/subscribers">Clear</a>${isEditor(actor) ? html`<a class="button secondary" href="/admin/subscribers/export.csv${f.status ? `?status=${encodeURIComponent(f.status)}` : ''}" download>Export CSV${f.status ? ` (${f.status})` : ''}</a>` : ''}</p></form>
${input.page ? subscribersTable(input.page, input.query) : ''}
${isEditor(actor) ? importForm(actor, errors) : ''}`;
}

function subscribersTable(page: SubscriberPage, query: string): SafeHtml {
  if (page.items.length === 0) return html`<p id="results">No subscriber matches.</p>`;
  return html`<div class="table-wrap"><table id="results"><thead><tr><th scope="col">Address</th><th scope="col">Name</th><th scope="col">Status</th><th scope="col">Beats</th><th scope="col">Signed up</th><th scope="col">Consent</th></tr></thead><tbody>
${page.items.map((s) => html`<tr><td class="mono">${s.email}</td><td>${s.name ?? ''}</td><td>${s.status}${s.suppressionReason ? html` (${s.suppressionReason})` : ''}</td><td>${s.beats?.join(', ') ?? 'all'}</td><td>${when(s.createdAt)}</td><td>${s.consentSource}</td></tr>`)}
</tbody></table></div>${page.nextCursor ? html`<p><a href="/admin/subscribers?${query}${query ? '&' : ''}cursor=${encodeURIComponent(page.nextCursor)}">Next page</a></p>` : ''}`;
}

function importForm(actor: Actor, errors: FieldErrors): SafeHtml {
  return html`<form class="card" method="post" action="/admin/subscribers/import" enctype="multipart/form-data" id="import">${csrfField(actor)}<h2>Import a CSV</h2>
<p class="muted">A header row with <code>email</code> (required), <code>name</code> and <code>beats</code> (slugs separated by <code>;</code>). Addresses already here are left as they are.</p>
<label for="f-file">CSV file</label><input id="f-file" name="file" type="file" accept=".csv,text/csv" required${errors.file ? html` aria-invalid="true" aria-describedby="f-file-error"` : ''}>
${errors.file ? html`<p class="field-error" id="f-file-error">${errors.file}</p>` : ''}
<fieldset><legend>Consent</legend><label class="check"><input type="radio" name="consent" value="pending" checked> Ask each address to confirm by email (pending until then)</label>
<label class="check"><input type="radio" name="consent" value="attested"> I attest these people agreed elsewhere: active at once</label></fieldset>
<p><button type="submit">Import</button></p></form>`;
}

export function importReport(summary: ImportSummary, errors: ImportRowError[]): SafeHtml {
  return html`<section class="card" id="import-report" aria-labelledby="imp-h"><h2 id="imp-h">Import finished</h2>
<p><strong>${summary.imported}</strong> imported as ${summary.status} · ${summary.duplicates} already here or repeated · ${summary.invalid} invalid · ${summary.rows} rows read.</p>
${errors.length ? html`<div class="table-wrap"><table><thead><tr><th scope="col">Line</th><th scope="col">Address</th><th scope="col">Problem</th></tr></thead><tbody>${errors.slice(0, 100).map((e) => html`<tr><td>${e.line}</td><td class="mono">${e.email}</td><td>${e.error}</td></tr>`)}</tbody></table></div>${errors.length > 100 ? html`<p class="muted">and ${errors.length - 100} more.</p>` : ''}` : ''}
<p><a href="/admin/subscribers">Back to subscribers</a></p></section>`;
}

// --- dashboard chart ----------------------------------------------------------------------------------------------

/**
 * Subscribers over time as an inline SVG line chart (active and pending per day), with the same figures in a
 * table for screen readers and for reading exact values.
 */
export function subscribersChart(history: StatusHistoryPoint[]): SafeHtml {
  if (history.length === 0) return html`<p>No subscribers yet.</p>`;
  const W = 600;
  const H = 200;
  const pad = { l: 40, r: 10, t: 10, b: 24 };
  const series: Array<{ key: 'active' | 'pending'; color: string }> = [
    { key: 'active', color: '#1e6b35' },
    { key: 'pending', color: '#8a5a00' },
  ];
  const max = Math.max(1, ...history.flatMap((p) => series.map((s) => p.counts[s.key])));
  const x = (i: number) => pad.l + (history.length === 1 ? 0 : (i * (W - pad.l - pad.r)) / (history.length - 1));
  const y = (v: number) => pad.t + (H - pad.t - pad.b) * (1 - v / max);
  const last = history[history.length - 1];
  const lines = series.map(
    (s) =>
      html`<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${history.map((p, i) => `${x(i).toFixed(1)},${y(p.counts[s.key]).toFixed(1)}`).join(' ')}"/>`,
  );
  const summary = `Active subscribers went from ${history[0].counts.active} on ${history[0].day} to ${last.counts.active} on ${last.day}; ${last.counts.pending} pending confirmation.`;
  const rows: HtmlValue[] = history.map(
    (p) => html`<tr><td>${p.day}</td><td>${p.counts.active}</td><td>${p.counts.pending}</td><td>${p.counts.unsubscribed}</td></tr>`,
  );
  return html`<figure class="chart"><svg id="subscribers-chart" viewBox="0 0 ${W} ${H}" role="img" aria-labelledby="chart-title" preserveAspectRatio="xMidYMid meet"><title id="chart-title">${summary}</title>
<line x1="${pad.l}" y1="${H - pad.b}" x2="${W - pad.r}" y2="${H - pad.b}" stroke="#8c8577"/><line x1="${pad.l}" y1="${pad.t}" x2="${pad.l}" y2="${H - pad.b}" stroke="#8c8577"/>
<text x="${pad.l - 6}" y="${pad.t + 10}" text-anchor="end" font-size="12">${max}</text><text x="${pad.l - 6}" y="${H - pad.b}" text-anchor="end" font-size="12">0</text>
<text x="${pad.l}" y="${H - 6}" font-size="12">${history[0].day}</text><text x="${W - pad.r}" y="${H - 6}" text-anchor="end" font-size="12">${last.day}</text>
${lines}</svg>
<figcaption><span style="color:#1e6b35">■</span> active (${last.counts.active}) <span style="color:#8a5a00">■</span> pending (${last.counts.pending}) · last ${history.length} days</figcaption></figure>
<details><summary>The figures by day</summary><div class="table-wrap"><table><thead><tr><th scope="col">Day (UTC)</th><th scope="col">Active</th><th scope="col">Pending</th><th scope="col">Unsubscribed</th></tr></thead><tbody>${rows}</tbody></table></div></details>`;
}
