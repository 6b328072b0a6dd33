import { Body, Delete, Get, HttpCode, Param, ParseIntPipe, Patch, Post, Put, Query } from '@nestjs/common';
import { ApiBody, ApiOperation } from '@nestjs/swagger';
import { z } from 'zod';
import { IssuesService } from '../../issues/issues.service';
import { NarrativesService } from '../../narratives/narratives.service';
import { AuditService } from '../audit/audit.service';
import { AccountsService } from '../auth/accounts.service';
import { auditSourceOf, type Actor } from '../auth/actor';
import { CurrentActor, Requires } from '../auth/auth.decorators';
import { EditorApi } from './editor-api.decorator';
import { ForbiddenError } from '../auth/auth-errors';
import { Role, ROLES, roleAtLeast } from '../auth/role';
import { TokensService } from '../auth/tokens.service';
import { GMAIL_CLIP_BYTES, WorkspaceService } from '../workspace.service';
import { editorJson, issueJson, issueViewJson, storyJson } from './api-views';
import { openApiSchema, ZodValidationPipe } from './zod-validation.pipe';

const uuid = z.string().uuid('a story id (UUID)');
const copySchema = z
  .object({
    title: z.string().max(200).optional(),
    intro: z.string().max(4000).optional(),
    subject: z.string().max(150).nullable().optional(),
    preheader: z.string().max(200).nullable().optional(),
  })
  .strict();
const orderSchema = z.object({ narrativeIds: z.array(uuid).max(200) }).strict();
const includeSchema = z.object({ narrativeId: uuid, position: z.number().int().min(0).optional() }).strict();
const testSchema = z.object({ to: z.array(z.string().email()).min(1).max(10) }).strict();
const sendSchema = z.object({ at: z.string().datetime({ offset: true }).optional() }).strict();
const tokenSchema = z.object({ name: z.string().trim().min(1).max(100), role: z.enum(ROLES) }).strict();
const userSchema = z.object({ email: z.string().email(), role: z.enum(ROLES), password: z.string().min(12).max(256).optional() }).strict();

/**
 * The editor API: everything the workspace does, as JSON. Bearer token, or the session cookie plus the
 * `X-CSRF-Token` header for changes. Errors are RFC 9457 problem details.
 */
@EditorApi()
export class ApiController {
  constructor(
    private readonly issues: IssuesService,
    private readonly narratives: NarrativesService,
    private readonly accounts: AccountsService,
    private readonly tokens: TokensService,
    private readonly audit: AuditService,
    private readonly workspace: WorkspaceService,
  ) {}

  @Get('me')
  @ApiOperation({ summary: 'Who the caller is: account or token, and role' })
  me(@CurrentActor() actor: Actor) {
    return { kind: actor.kind, id: actor.id, label: actor.label, role: actor.role, csrfToken: actor.csrfToken };
  }

  @Get('issues')
  @ApiOperation({ summary: 'Every issue, newest first' })
  async listIssues() {
    return (await this.issues.list()).map(issueJson);
  }

  @Get('issues/:number')
  @ApiOperation({ summary: 'An issue with its stories in order and the week’s other stories ranked (candidates)' })
  async getIssue(@Param('number', ParseIntPipe) number: number) {
    return editorJson(await this.issues.editorView(number));
  }

  @Patch('issues/:number')
  @ApiOperation({ summary: 'Change a draft’s title, intro, subject or preheader (null or empty: back to the default)' })
  @ApiBody({ schema: openApiSchema(copySchema) })
  async updateIssue(
    @CurrentActor() actor: Actor,
    @Param('number', ParseIntPipe) number: number,
    @Body(new ZodValidationPipe(copySchema)) body: z.infer<typeof copySchema>,
  ) {
    const view = await this.issues.updateCopy(number, body);
    await this.audit.record(auditSourceOf(actor), 'issue.copy', `issue:${number}`, { fields: Object.keys(body) });
    return issueViewJson(view);
  }

  @Put('issues/:number/stories')
  @ApiOperation({ summary: 'Reorder a draft’s stories: the new order must list each of them exactly once' })
  @ApiBody({ schema: openApiSchema(orderSchema) })
  async reorder(
    @CurrentActor() actor: Actor,
    @Param('number', ParseIntPipe) number: number,
    @Body(new ZodValidationPipe(orderSchema)) body: z.infer<typeof orderSchema>,
  ) {
    const view = await this.issues.reorder(number, body.narrativeIds);
    await this.audit.record(auditSourceOf(actor), 'issue.reorder', `issue:${number}`, { order: body.narrativeIds });
    return issueViewJson(view);
  }

  @Post('issues/:number/stories')
  @ApiOperation({ summary: 'Include a published story in a draft, at a position (0-based) or at the end' })
  @ApiBody({ schema: openApiSchema(includeSchema) })
  async include(
    @CurrentActor() actor: Actor,
    @Param('number', ParseIntPipe) number: number,
    @Body(new ZodValidationPipe(includeSchema)) body: z.infer<typeof includeSchema>,
  ) {
    const view = await this.issues.include(number, body.narrativeId, body.position);
    await this.audit.record(auditSourceOf(actor), 'issue.include', `issue:${number}`, { narrativeId: body.narrativeId });
    return issueViewJson(view);
  }

  @Delete('issues/:number/stories/:narrativeId')
  @ApiOperation({ summary: 'Drop a story from a draft' })
  async drop(@CurrentActor() actor: Actor, @Param('number', ParseIntPipe) number: number, @Param('narrativeId') narrativeId: string) {
    const view = await this.issues.drop(number, narrativeId);
    await this.audit.record(auditSourceOf(actor), 'issue.drop', `issue:${number}`, { narrativeId });
    return issueViewJson(view);
  }

  @Post('issues/:number/intro-draft')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Suggest an intro from the chosen stories (not saved): by Claude when configured, else a template; `warning` says why when Claude failed',
  })
  async draftIntro(@CurrentActor() actor: Actor, @Param('number', ParseIntPipe) number: number) {
    const draft = await this.issues.draftIntro(number);
    await this.audit.record(auditSourceOf(actor), 'issue.intro_draft', `issue:${number}`, { writer: draft.writer, model: draft.model });
    return draft;
  }

  @Post('issues/:number/approve')
  @HttpCode(200)
  @ApiOperation({ summary: 'Approve a draft: it is published on the site and becomes ready to send' })
  async approve(@CurrentActor() actor: Actor, @Param('number', ParseIntPipe) number: number) {
    const issue = await this.issues.approve((await this.issues.getByNumber(number)).id);
    await this.audit.record(auditSourceOf(actor), 'issue.approve', `issue:${number}`);
    return issueJson(issue);
  }

  @Get('issues/:number/delivery')
  @ApiOperation({ summary: 'The issue’s send: status and recipient counts (`not_started` before a send)' })
  deliveryStatus(@Param('number', ParseIntPipe) number: number) {
    return this.workspace.progress(number);
  }

  @Get('issues/:number/preview')
  @ApiOperation({ summary: 'The issue’s email as subscribers would get it: subject, preheader, HTML, text and HTML size in bytes (Gmail clips over 102 kB)' })
  async preview(@Param('number', ParseIntPipe) number: number) {
    const p = await this.workspace.preview(number);
    return { ...p, gmailClipBytes: GMAIL_CLIP_BYTES, clipped: p.bytes > GMAIL_CLIP_BYTES };
  }

  @Post('issues/:number/test-send')
  @HttpCode(200)
  @ApiOperation({ summary: 'Send the issue’s email, marked as a test, to up to ten addresses' })
  @ApiBody({ schema: openApiSchema(testSchema) })
  async testSend(
    @CurrentActor() actor: Actor,
    @Param('number', ParseIntPipe) number: number,
    @Body(new ZodValidationPipe(testSchema)) body: z.infer<typeof testSchema>,
  ) {
    const sent = await this.workspace.sendTest(number, body.to.join(','));
    await this.audit.record(auditSourceOf(actor), 'issue.test_send', `issue:${number}`, { to: sent.to });
    return sent;
  }

  @Post('issues/:number/send')
  @HttpCode(202)
  @ApiOperation({ summary: 'Approve (if a draft) and queue the send, now or at `at` (ISO time): the audience is frozen when it starts' })
  @ApiBody({ schema: openApiSchema(sendSchema), required: false })
  async send(
    @CurrentActor() actor: Actor,
    @Param('number', ParseIntPipe) number: number,
    @Body(new ZodValidationPipe(sendSchema)) body: z.infer<typeof sendSchema>,
  ) {
    const at = body.at ? new Date(body.at) : undefined;
    const progress = await this.workspace.send(number, at);
    await this.audit.record(auditSourceOf(actor), at ? 'issue.schedule' : 'issue.send', `issue:${number}`, { at: at?.toISOString() ?? null });
    return progress;
  }

  @Post('issues/:number/pause')
  @HttpCode(200)
  @ApiOperation({ summary: 'Pause the issue’s live send (batches in flight finish; nothing is re-sent)' })
  async pause(@CurrentActor() actor: Actor, @Param('number', ParseIntPipe) number: number) {
    const progress = await this.workspace.pause(number);
    await this.audit.record(auditSourceOf(actor), 'issue.pause', `issue:${number}`);
    return progress;
  }

  @Post('issues/:number/resume')
  @HttpCode(200)
  @ApiOperation({ summary: 'Resume a paused send where it stopped' })
  async resume(@CurrentActor() actor: Actor, @Param('number', ParseIntPipe) number: number) {
    const progress = await this.workspace.resume(number);
    await this.audit.record(auditSourceOf(actor), 'issue.resume', `issue:${number}`);
    return progress;
  }

  @Post('issues/:number/cancel')
  @HttpCode(200)
  @ApiOperation({ summary: 'Cancel the live send: recipients not yet tried are released' })
  async cancel(@CurrentActor() actor: Actor, @Param('number', ParseIntPipe) number: number) {
    const progress = await this.workspace.cancel(number);
    await this.audit.record(auditSourceOf(actor), 'issue.cancel', `issue:${number}`);
    return progress;
  }

  @Get('stories')
  @ApiOperation({ summary: 'The latest published stories' })
  async stories(@Query('beat') beat?: string) {
    return (await this.narratives.latest(100, beat)).map(storyJson);
  }

  @Get('beats')
  @ApiOperation({ summary: 'Every beat' })
  async beats() {
    return (await this.narratives.listBeats()).map((b) => ({ id: b.id, slug: b.slug, name: b.name, description: b.description, keywords: b.keywords }));
  }

  @Requires(Role.Owner)
  @Get('tokens')
  @ApiOperation({ summary: 'API tokens (owners): never the secrets' })
  tokensList() {
    return this.tokens.list();
  }

  @Requires(Role.Owner)
  @Post('tokens')
  @ApiOperation({ summary: 'Create an API token (owners); the secret is in this answer only' })
  @ApiBody({ schema: openApiSchema(tokenSchema) })
  async createToken(@CurrentActor() actor: Actor, @Body(new ZodValidationPipe(tokenSchema)) body: z.infer<typeof tokenSchema>) {
    const created = await this.tokens.create(body, auditSourceOf(actor));
    return { ...created.token, token: created.secret };
  }

  @Requires(Role.Owner)
  @Delete('tokens/:id')
  @ApiOperation({ summary: 'Revoke an API token (owners): it stops working at once' })
  revokeToken(@CurrentActor() actor: Actor, @Param('id') id: string) {
    return this.tokens.revoke(id, auditSourceOf(actor));
  }

  @Requires(Role.Owner)
  @Get('users')
  @ApiOperation({ summary: 'Editor accounts (owners)' })
  users() {
    return this.accounts.listUsers();
  }

  @Requires(Role.Owner)
  @Post('users')
  @ApiOperation({ summary: 'Create an editor account (owners); a generated password is in this answer only' })
  @ApiBody({ schema: openApiSchema(userSchema) })
  async createUser(@CurrentActor() actor: Actor, @Body(new ZodValidationPipe(userSchema)) body: z.infer<typeof userSchema>) {
    if (!roleAtLeast(actor.role, body.role)) throw new ForbiddenError('You cannot grant a role above your own.');
    const created = await this.accounts.createUser(body, auditSourceOf(actor));
    return { ...created.user, password: created.generatedPassword };
  }

  @Requires(Role.Owner)
  @Get('audit')
  @ApiOperation({ summary: 'The audit log (owners): who did what, when, from where; newest first' })
  auditLog(@Query('before') before?: string, @Query('limit') limit?: string) {
    return this.audit.list({ beforeId: before && /^\d+$/.test(before) ? before : undefined, limit: limit && /^\d+$/.test(limit) ? Number(limit) : undefined });
  }
}
