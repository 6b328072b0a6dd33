import { Body, Controller, Get, HttpCode, Inject, Param, ParseIntPipe, Post, Query, Res, UseFilters } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { type Response } from 'express';
import { APP_CONFIG } from '../../kernel/config/config.module';
import { type AppConfig } from '../../kernel/config/config';
import { ValidationError } from '../../kernel/errors/domain-error';
import { IssuesService } from '../../issues/issues.service';
import { AuditService } from '../audit/audit.service';
import { AccountsService } from '../auth/accounts.service';
import { auditSourceOf, type Actor } from '../auth/actor';
import { AdminArea, CurrentActor, Requires } from '../auth/auth.decorators';
import { ForbiddenError } from '../auth/auth-errors';
import { Role, ROLES, roleAtLeast } from '../auth/role';
import { TokensService } from '../auth/tokens.service';
import { WorkspaceService } from '../workspace.service';
import { AdminPageFilter } from './admin-page.filter';
import { html, when } from '../../kernel/web/html';
import { issueEditor, issuesTable } from './issue-pages';
import { adminPage, csrfField, type AdminPageInput } from './layout';

type Form = Record<string, unknown>;
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** Short confirmations shown after a form post (codes, so a crafted link cannot put words on our page). */
const NOTICES: Record<string, string> = {
  approved: 'Approved: the issue is public on the site and ready to send.',
  saved: 'Saved.',
  included: 'Story included.',
  dropped: 'Story dropped.',
  moved: 'Order saved.',
  revoked: 'Token revoked: it no longer works.',
  'test-sent': 'Test sent.',
  queued: 'Send queued: progress appears below.',
  scheduled: 'Send scheduled.',
  paused: 'Send paused: no new batches go out until you resume.',
  resumed: 'Send resumed.',
  cancelled: 'Send cancelled: nobody who has not been sent a copy will get one.',
};

/** The editors' workspace: server-rendered pages, each a thin layer over one service call. */
@ApiExcludeController()
@AdminArea()
@UseFilters(AdminPageFilter)
@Controller('admin')
export class WorkspaceController {
  constructor(
    private readonly issues: IssuesService,
    private readonly accounts: AccountsService,
    private readonly tokens: TokensService,
    private readonly audit: AuditService,
    private readonly workspace: WorkspaceService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  private page(res: Response, actor: Actor, input: AdminPageInput): void {
    adminPage(res, actor, input, { siteTitle: this.config.site.title, messages: NOTICES });
  }

  @Get()
  async dashboard(@CurrentActor() actor: Actor, @Res() res: Response): Promise<void> {
    const d = await this.workspace.dashboard();
    const latest = d.issues[0];
    this.page(res, actor, {
      title: 'Dashboard',
      current: '/admin',
      body: html`<div class="grid">
<section class="card" aria-labelledby="d-issue"><h2 id="d-issue">This week's issue</h2>${latest ? html`<p><a href="/admin/issues/${latest.number}">#${latest.number} ${latest.title}</a></p><p>Status: <strong>${latest.status}</strong></p>${latest.status === 'draft' ? html`<p>Waiting for an editor's approval.</p>` : ''}` : html`<p>No issue yet.</p>`}</section>
<section class="card" aria-labelledby="d-stories"><h2 id="d-stories">Stories</h2><p>${d.storyCount} narratives written.</p><p><a href="/admin/stories">Latest stories</a></p></section>
<section class="card" aria-labelledby="d-sources"><h2 id="d-sources">Sources' health</h2>${d.sources}</section>
<section class="card" aria-labelledby="d-sends"><h2 id="d-sends">Recent sends</h2>${d.sends}</section>
<section class="card wide" aria-labelledby="d-subs"><h2 id="d-subs">Subscribers over time</h2>${d.subscribers}</section>
</div>`,
    });
  }

  @Get('issues')
  async issuesPage(@CurrentActor() actor: Actor, @Res() res: Response): Promise<void> {
    this.page(res, actor, { title: 'Issues', current: '/admin/issues', body: issuesTable(await this.issues.list()) });
  }

  private async issueEditorPage(
    res: Response,
    actor: Actor,
    number: number,
    done?: string,
    introDraft: { intro: string; writer: string; warning: string | null } | null = null,
  ): Promise<void> {
    const view = await this.issues.editorView(number);
    this.page(res, actor, {
      title: `Issue ${view.issue.number}: ${view.issue.title}`,
      current: '/admin/issues',
      done,
      body: issueEditor({
        view,
        actor,
        introDraft,
        delivery: await this.workspace.deliveryPanel(view.issue, actor),
        preview: await this.workspace.previewPanel(view.issue),
      }),
    });
  }

  @Get('issues/:number')
  async issuePage(
    @CurrentActor() actor: Actor,
    @Param('number', ParseIntPipe) number: number,
    @Res() res: Response,
    @Query('done') done?: string,
  ): Promise<void> {
    await this.issueEditorPage(res, actor, number, done);
  }

  /** Drafts an intro from the chosen stories (Claude when configured, else a template) into the form, unsaved. A POST: it may cost a model call. */
  @Post('issues/:number/intro-draft')
  async draftIntro(@CurrentActor() actor: Actor, @Param('number', ParseIntPipe) number: number, @Res() res: Response): Promise<void> {
    const draft = await this.issues.draftIntro(number);
    await this.audit.record(auditSourceOf(actor), 'issue.intro_draft', `issue:${number}`, { writer: draft.writer, model: draft.model });
    await this.issueEditorPage(res, actor, number, undefined, draft);
  }

  private back(res: Response, number: number, done: string, anchor = ''): void {
    res.redirect(303, `/admin/issues/${number}?done=${done}${anchor}`);
  }

  @Post('issues/:number/approve')
  async approve(@CurrentActor() actor: Actor, @Param('number', ParseIntPipe) number: number, @Res() res: Response): Promise<void> {
    const issue = await this.issues.getByNumber(number);
    await this.issues.approve(issue.id);
    await this.audit.record(auditSourceOf(actor), 'issue.approve', `issue:${number}`);
    this.back(res, number, 'approved');
  }

  @Post('issues/:number/include')
  async include(@CurrentActor() actor: Actor, @Param('number', ParseIntPipe) number: number, @Body() body: Form, @Res() res: Response): Promise<void> {
    await this.issues.include(number, str(body?.narrativeId));
    await this.audit.record(auditSourceOf(actor), 'issue.include', `issue:${number}`, { narrativeId: str(body?.narrativeId) });
    this.back(res, number, 'included', '#stories-h');
  }

  @Post('issues/:number/drop')
  async drop(@CurrentActor() actor: Actor, @Param('number', ParseIntPipe) number: number, @Body() body: Form, @Res() res: Response): Promise<void> {
    await this.issues.drop(number, str(body?.narrativeId));
    await this.audit.record(auditSourceOf(actor), 'issue.drop', `issue:${number}`, { narrativeId: str(body?.narrativeId) });
    this.back(res, number, 'dropped', '#stories-h');
  }

  /** The keyboard and no-script way to reorder: one step up or down. */
  @Post('issues/:number/move')
  async move(@CurrentActor() actor: Actor, @Param('number', ParseIntPipe) number: number, @Body() body: Form, @Res() res: Response): Promise<void> {
    const id = str(body?.narrativeId);
    const order = (await this.issues.getByNumber(number)).stories.map((s) => s.id);
    const at = order.indexOf(id);
    const to = body?.direction === 'up' ? at - 1 : at + 1;
    if (at < 0 || to < 0 || to >= order.length)
      throw new ValidationError('That story cannot move that way.', [{ field: 'direction', message: 'up or down within the list' }]);
    [order[at], order[to]] = [order[to], order[at]];
    await this.issues.reorder(number, order);
    await this.audit.record(auditSourceOf(actor), 'issue.reorder', `issue:${number}`, { order });
    this.back(res, number, 'moved', '#stories-h');
  }

  @Post('issues/:number/copy')
  async copy(@CurrentActor() actor: Actor, @Param('number', ParseIntPipe) number: number, @Body() body: Form, @Res() res: Response): Promise<void> {
    const changes = { title: str(body?.title), intro: str(body?.intro), subject: str(body?.subject), preheader: str(body?.preheader) };
    await this.issues.updateCopy(number, changes);
    await this.audit.record(auditSourceOf(actor), 'issue.copy', `issue:${number}`, { fields: Object.keys(changes) });
    this.back(res, number, 'saved');
  }

  @Post('issues/:number/test')
  async sendTest(@CurrentActor() actor: Actor, @Param('number', ParseIntPipe) number: number, @Body() body: Form, @Res() res: Response): Promise<void> {
    const sent = await this.workspace.sendTest(number, str(body?.to));
    await this.audit.record(auditSourceOf(actor), 'issue.test_send', `issue:${number}`, { to: sent.to });
    this.back(res, number, 'test-sent', '#send-h');
  }

  /** Send now, or schedule: `at` is a datetime-local value read as UTC. */
  @Post('issues/:number/send')
  async send(@CurrentActor() actor: Actor, @Param('number', ParseIntPipe) number: number, @Body() body: Form, @Res() res: Response): Promise<void> {
    let at: Date | undefined;
    if (body?.when === 'at') {
      const value = str(body?.at);
      at = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(value) ? new Date(`${value}Z`) : new Date(NaN);
      if (Number.isNaN(at.getTime())) throw new ValidationError('Choose the date and time to send (UTC).', [{ field: 'at', message: 'a date and time' }]);
    }
    const progress = await this.workspace.send(number, at);
    await this.audit.record(auditSourceOf(actor), at ? 'issue.schedule' : 'issue.send', `issue:${number}`, {
      at: at?.toISOString() ?? null,
      status: progress.status,
    });
    this.back(res, number, at ? 'scheduled' : 'queued', '#send-h');
  }

  @Post('issues/:number/pause')
  async pause(@CurrentActor() actor: Actor, @Param('number', ParseIntPipe) number: number, @Res() res: Response): Promise<void> {
    await this.workspace.pause(number);
    await this.audit.record(auditSourceOf(actor), 'issue.pause', `issue:${number}`);
    this.back(res, number, 'paused', '#send-h');
  }

  @Post('issues/:number/resume')
  async resume(@CurrentActor() actor: Actor, @Param('number', ParseIntPipe) number: number, @Res() res: Response): Promise<void> {
    await this.workspace.resume(number);
    await this.audit.record(auditSourceOf(actor), 'issue.resume', `issue:${number}`);
    this.back(res, number, 'resumed', '#send-h');
  }

  @Post('issues/:number/cancel')
  async cancel(@CurrentActor() actor: Actor, @Param('number', ParseIntPipe) number: number, @Res() res: Response): Promise<void> {
    await this.workspace.cancel(number);
    await this.audit.record(auditSourceOf(actor), 'issue.cancel', `issue:${number}`);
    this.back(res, number, 'cancelled', '#send-h');
  }

  /** The email on its own, for the preview frames: its own policy (no scripts), framable by our pages only. */
  @Get('issues/:number/preview/email')
  async previewEmail(@Param('number', ParseIntPipe) number: number, @Res() res: Response): Promise<void> {
    const preview = await this.workspace.preview(number);
    res
      .status(200)
      .set({
        'Content-Security-Policy':
          "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data: https:; frame-ancestors 'self'; base-uri 'none'; form-action 'none'",
        'X-Frame-Options': 'SAMEORIGIN',
        'Cache-Control': 'no-store',
      })
      .type('text/html; charset=utf-8')
      .send(preview.html);
  }

  /** The issue as a web page, before it is public. */
  @Get('issues/:number/preview/web')
  async previewWeb(@CurrentActor() actor: Actor, @Param('number', ParseIntPipe) number: number, @Res() res: Response): Promise<void> {
    const issue = await this.issues.getByNumber(number);
    this.page(res, actor, {
      title: `Web preview: ${issue.title}`,
      current: '/admin/issues',
      body: html`<article class="card"><p class="muted">Issue ${issue.number} · ${issue.status}${issue.status === 'draft' ? ' — not public yet' : ''}</p>
${issue.intro ? html`<p><em>${issue.intro}</em></p>` : ''}
${issue.stories.map((s) => html`<section><p class="muted">${s.beat.name}</p><h2>${s.headline}</h2><p><strong>${s.dek}</strong></p>${s.paragraphs.map((para) => html`<p>${para.map((seg) => html`${seg.text}${seg.cites.map((c) => html`<sup>[${c}]</sup>`)}`)}</p>`)}<p class="muted">${s.disclosure}</p></section>`)}
</article><p><a href="/admin/issues/${issue.number}">Back to the editor</a></p>`,
    });
  }

  // --- owners: tokens, editors, audit log
  private tokensBody(actor: Actor, tokens: Awaited<ReturnType<TokensService['list']>>, created?: { name: string; secret: string }) {
    return html`${created ? html`<div class="card notice" role="status"><p>Token “${created.name}” created. Copy it now: it is shown only once.</p><p class="mono" id="new-token">${created.secret}</p></div>` : ''}
<form class="card" method="post" action="/admin/tokens">${csrfField(actor)}<h2>New token</h2>
<label for="t-name">Name</label><input id="t-name" name="name" type="text" maxlength="100" required>
<label for="t-role">Role</label><select id="t-role" name="role">${ROLES.map((r) => html`<option value="${r}"${r === Role.Viewer ? ' selected' : ''}>${r}</option>`)}</select>
<p><button type="submit">Create token</button></p></form>
<div class="table-wrap"><table><thead><tr><th scope="col">Name</th><th scope="col">Role</th><th scope="col">Prefix</th><th scope="col">Created</th><th scope="col">Last used</th><th scope="col">State</th></tr></thead><tbody>
${tokens.map((t) => html`<tr><td>${t.name}</td><td>${t.role}</td><td class="mono">${t.prefix}…</td><td>${when(t.createdAt)} by ${t.createdBy}</td><td>${when(t.lastUsedAt)}${t.lastUsedIp ? html` from ${t.lastUsedIp}` : ''}</td><td>${t.revokedAt ? html`revoked ${when(t.revokedAt)}` : html`<form method="post" action="/admin/tokens/${t.id}/revoke">${csrfField(actor)}<button class="danger" type="submit" aria-label="Revoke ${t.name}">Revoke</button></form>`}</td></tr>`)}
</tbody></table></div>`;
  }

  @Requires(Role.Owner)
  @Get('tokens')
  async tokensPage(@CurrentActor() actor: Actor, @Res() res: Response, @Query('done') done?: string): Promise<void> {
    this.page(res, actor, { title: 'API tokens', current: '/admin/tokens', done, body: this.tokensBody(actor, await this.tokens.list()) });
  }

  @Requires(Role.Owner)
  @Post('tokens')
  @HttpCode(201)
  async createToken(@CurrentActor() actor: Actor, @Body() body: Form, @Res() res: Response): Promise<void> {
    const created = await this.tokens.create({ name: str(body?.name), role: str(body?.role) }, auditSourceOf(actor));
    this.page(res, actor, {
      title: 'API tokens',
      current: '/admin/tokens',
      status: 201,
      body: this.tokensBody(actor, await this.tokens.list(), { name: created.token.name, secret: created.secret }),
    });
  }

  @Requires(Role.Owner)
  @Post('tokens/:id/revoke')
  async revokeToken(@CurrentActor() actor: Actor, @Param('id') id: string, @Res() res: Response): Promise<void> {
    await this.tokens.revoke(id, auditSourceOf(actor));
    res.redirect(303, '/admin/tokens?done=revoked');
  }

  @Requires(Role.Owner)
  @Get('users')
  async usersPage(@CurrentActor() actor: Actor, @Res() res: Response): Promise<void> {
    const users = await this.accounts.listUsers();
    this.page(res, actor, {
      title: 'Editors',
      current: '/admin/users',
      body: html`<form class="card" method="post" action="/admin/users">${csrfField(actor)}<h2>New account</h2>
<label for="u-email">Email</label><input id="u-email" name="email" type="email" required>
<label for="u-role">Role</label><select id="u-role" name="role">${ROLES.map((r) => html`<option value="${r}"${r === Role.Editor ? ' selected' : ''}>${r}</option>`)}</select>
<p class="muted">A password is generated and shown once; the editor can change it through “Forgot your password?”.</p>
<p><button type="submit">Create account</button></p></form>
<div class="table-wrap"><table><thead><tr><th scope="col">Email</th><th scope="col">Role</th><th scope="col">Last sign-in</th><th scope="col">Locked until</th></tr></thead><tbody>
${users.map((u) => html`<tr><td>${u.email}</td><td>${u.role}</td><td>${when(u.lastLoginAt)}</td><td>${u.lockedUntil && u.lockedUntil > new Date() ? when(u.lockedUntil) : '—'}</td></tr>`)}</tbody></table></div>`,
    });
  }

  @Requires(Role.Owner)
  @Post('users')
  @HttpCode(201)
  async createUser(@CurrentActor() actor: Actor, @Body() body: Form, @Res() res: Response): Promise<void> {
    const role = str(body?.role);
    if (!roleAtLeast(actor.role, (ROLES as readonly string[]).includes(role) ? (role as Role) : Role.Owner))
      throw new ForbiddenError('You cannot grant a role above your own.');
    const created = await this.accounts.createUser({ email: str(body?.email), role }, auditSourceOf(actor));
    this.page(res, actor, {
      title: 'Editors',
      current: '/admin/users',
      status: 201,
      body: html`<div class="card notice" role="status"><p>Account ${created.user.email} (${created.user.role}) created. Its password, shown only once:</p><p class="mono">${created.generatedPassword ?? ''}</p></div><p><a href="/admin/users">Back to editors</a></p>`,
    });
  }

  @Requires(Role.Owner)
  @Get('audit')
  async auditPage(@CurrentActor() actor: Actor, @Res() res: Response, @Query('before') before?: string): Promise<void> {
    const entries = await this.audit.list({ limit: 100, beforeId: before && /^\d+$/.test(before) ? before : undefined });
    const last = entries[entries.length - 1];
    this.page(res, actor, {
      title: 'Audit log',
      current: '/admin/audit',
      body: html`<div class="table-wrap"><table><thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">What</th><th scope="col">Target</th><th scope="col">From</th></tr></thead><tbody>
${entries.map((e) => html`<tr><td>${when(e.at)}</td><td>${e.actor}</td><td>${e.action}</td><td>${e.target ?? ''}</td><td>${e.ip ?? e.actorKind}<br><span class="muted">${e.userAgent ?? ''}</span></td></tr>`)}</tbody></table></div>
${entries.length === 100 && last ? html`<p><a href="/admin/audit?before=${last.id}">Older entries</a></p>` : ''}`,
    });
  }
}
