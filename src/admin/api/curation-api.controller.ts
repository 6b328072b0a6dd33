import { Body, Delete, Get, HttpCode, Param, Post, Put, Query, Req, Res } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiOperation, ApiProduces, ApiQuery } from '@nestjs/swagger';
import { type Request, type Response } from 'express';
import { z } from 'zod';
import { NotFoundError } from '../../kernel/errors/domain-error';
import { NarrativesService, type NarrativeView } from '../../narratives/narratives.service';
import { SourcesService } from '../../sources/sources.service';
import { SubscribersService } from '../../subscribers/subscribers.service';
import { type Actor } from '../auth/actor';
import { CurrentActor, Requires } from '../auth/auth.decorators';
import { EditorApi } from './editor-api.decorator';
import { Role } from '../auth/role';
import { CurationService } from '../curation.service';
import { storyJson } from './api-views';
import { openApiSchema, ZodValidationPipe } from './zod-validation.pipe';

const keywords = z.array(z.string().max(60)).min(1).max(100);
const sourceIds = z.array(z.string().max(100)).max(1000);
const beatCreateSchema = z
  .object({ slug: z.string().max(60), name: z.string().max(80), description: z.string().max(400).optional(), keywords, sources: sourceIds.optional() })
  .strict();
const beatUpdateSchema = beatCreateSchema.omit({ slug: true });
const sourceAddSchema = z
  .object({
    kind: z.string().max(20),
    target: z.string().max(2000),
    name: z.string().max(200).optional(),
    every: z.string().max(20).optional(),
    beats: z.array(z.string().max(64)).max(100).optional(),
  })
  .strict();
const sourceTestSchema = z.object({ kind: z.string().max(20), target: z.string().max(2000) }).strict();
const editSchema = z.object({ headline: z.string().max(200), dek: z.string().max(400), body: z.string().max(40_000) }).strict();
const importSchema = z.object({ consent: z.enum(['pending', 'attested']).optional(), _csrf: z.string().optional() });

function narrativeJson(n: NarrativeView) {
  return {
    ...storyJson(n),
    storylineId: n.storylineId,
    version: n.version,
    model: n.model,
    paragraphs: n.paragraphs,
    fidelityReport: n.fidelityReport,
    citations: n.citations.map((c) => ({
      number: c.number,
      url: c.record.url,
      title: c.record.title,
      author: c.record.author,
      platform: c.record.platform,
      outlet: c.record.outlet,
      publishedAt: c.record.publishedAt,
    })),
    disclosure: n.disclosure,
  };
}

/** The curation part of the editor API: beats, sources, storylines and narratives, subscribers. */
@EditorApi()
export class CurationApiController {
  constructor(
    private readonly curation: CurationService,
    private readonly narratives: NarrativesService,
    private readonly sources: SourcesService,
    private readonly subscribers: SubscribersService,
  ) {}

  // --- beats

  @Post('beats')
  @ApiOperation({ summary: 'Create a beat: slug, name, description, keywords, and the sources (ids or slugs) that feed it' })
  @ApiBody({ schema: openApiSchema(beatCreateSchema) })
  createBeat(@CurrentActor() actor: Actor, @Body(new ZodValidationPipe(beatCreateSchema)) body: z.infer<typeof beatCreateSchema>) {
    return this.curation.saveBeat(actor, body, false);
  }

  @Put('beats/:slug')
  @ApiOperation({ summary: 'Change a beat’s name, description, keywords and (when given) the sources that feed it' })
  @ApiBody({ schema: openApiSchema(beatUpdateSchema) })
  updateBeat(@CurrentActor() actor: Actor, @Param('slug') slug: string, @Body(new ZodValidationPipe(beatUpdateSchema)) body: z.infer<typeof beatUpdateSchema>) {
    return this.curation.saveBeat(actor, { ...body, slug }, true);
  }

  // --- sources

  @Get('sources')
  @ApiOperation({ summary: 'Every source with its health: status, records, last poll, last error, failures in a row' })
  listSources() {
    return this.sources.list();
  }

  @Get('sources/:id')
  @ApiOperation({ summary: 'One source (id or slug) with its recent polls' })
  getSource(@Param('id') id: string) {
    return this.sources.show(id);
  }

  @Post('sources')
  @ApiOperation({ summary: 'Add a source of a kind that exists (rss, reddit, hackernews, bluesky, mastodon, file)' })
  @ApiBody({ schema: openApiSchema(sourceAddSchema) })
  addSource(@CurrentActor() actor: Actor, @Body(new ZodValidationPipe(sourceAddSchema)) body: z.infer<typeof sourceAddSchema>) {
    return this.curation.addSource(actor, body);
  }

  @Post('sources/test')
  @HttpCode(200)
  @ApiOperation({ summary: 'Fetch a kind and target now and show what would be imported, importing nothing (422 with the reason when unreadable)' })
  @ApiBody({ schema: openApiSchema(sourceTestSchema) })
  testTarget(@CurrentActor() actor: Actor, @Body(new ZodValidationPipe(sourceTestSchema)) body: z.infer<typeof sourceTestSchema>) {
    return this.curation.testSource(actor, body);
  }

  @Post('sources/:id/test')
  @HttpCode(200)
  @ApiOperation({ summary: 'Fetch a stored source now and show what would be imported, importing nothing' })
  testSource(@CurrentActor() actor: Actor, @Param('id') id: string) {
    return this.curation.testSource(actor, { id });
  }

  @Post('sources/:id/pause')
  @HttpCode(200)
  @ApiOperation({ summary: 'Pause a source: it is not polled until resumed' })
  pauseSource(@CurrentActor() actor: Actor, @Param('id') id: string) {
    return this.curation.pauseSource(actor, id);
  }

  @Post('sources/:id/resume')
  @HttpCode(200)
  @ApiOperation({ summary: 'Resume a paused source: it is due at once' })
  resumeSource(@CurrentActor() actor: Actor, @Param('id') id: string) {
    return this.curation.resumeSource(actor, id);
  }

  @Delete('sources/:id')
  @ApiOperation({ summary: 'Remove a source and its records' })
  removeSource(@CurrentActor() actor: Actor, @Param('id') id: string) {
    return this.curation.removeSource(actor, id);
  }

  // --- storylines and narratives

  @Get('storylines')
  @ApiOperation({ summary: 'The week’s storylines (latest week, or `week` = its first day, YYYY-MM-DD) with signal figures and their narratives' })
  @ApiQuery({ name: 'week', required: false })
  storylines(@Query('week') week?: string) {
    const start = week && /^\d{4}-\d{2}-\d{2}$/.test(week) ? new Date(`${week}T00:00:00Z`) : undefined;
    return this.narratives.storylinesOfWeek(start);
  }

  @Get('narratives/:id')
  @ApiOperation({ summary: 'A narrative (held ones too): text, fidelity report, citations and every version' })
  async narrative(@Param('id') id: string) {
    const narrative = await this.narratives.getById(id);
    if (!narrative) throw new NotFoundError(`no narrative ${id.slice(0, 40)}`);
    return { ...narrativeJson(narrative), versions: await this.narratives.versions(id) };
  }

  @Put('narratives/:id')
  @ApiOperation({
    summary:
      'Edit a narrative’s headline, dek and body (`[n]` markers): re-checked for grounding; published only if every check passes, else held with the reasons',
  })
  @ApiBody({ schema: openApiSchema(editSchema) })
  async editNarrative(@CurrentActor() actor: Actor, @Param('id') id: string, @Body(new ZodValidationPipe(editSchema)) body: z.infer<typeof editSchema>) {
    const result = await this.curation.editNarrative(actor, { id, ...body });
    return { narrative: narrativeJson(result.narrative), publishable: result.publishable, report: result.report };
  }

  @Post('narratives/:id/regenerate')
  @HttpCode(200)
  @ApiOperation({ summary: 'Rewrite a narrative from its storyline now (a new version, checked again)' })
  async regenerate(@CurrentActor() actor: Actor, @Param('id') id: string) {
    return narrativeJson(await this.curation.regenerateNarrative(actor, id));
  }

  @Post('narratives/:id/approve')
  @HttpCode(200)
  @ApiOperation({ summary: 'Publish a held or unpublished narrative as it is (an editor’s decision over the check)' })
  async approve(@CurrentActor() actor: Actor, @Param('id') id: string) {
    return narrativeJson(await this.curation.approveNarrative(actor, id));
  }

  @Post('narratives/:id/unpublish')
  @HttpCode(200)
  @ApiOperation({ summary: 'Take a narrative off the site, the feeds and issue drafts' })
  async unpublish(@CurrentActor() actor: Actor, @Param('id') id: string) {
    return narrativeJson(await this.curation.unpublishNarrative(actor, id));
  }

  // --- subscribers

  @Get('subscribers')
  @ApiOperation({ summary: 'Search subscribers: `search` (part of the address), `status`, `beat`, `from`/`to` (sign-up days, YYYY-MM-DD), `limit`, `cursor`' })
  @ApiQuery({ name: 'search', required: false })
  @ApiQuery({ name: 'status', required: false })
  @ApiQuery({ name: 'beat', required: false })
  @ApiQuery({ name: 'from', required: false })
  @ApiQuery({ name: 'to', required: false })
  @ApiQuery({ name: 'cursor', required: false })
  @ApiQuery({ name: 'limit', required: false })
  searchSubscribers(@Query() query: Record<string, unknown>) {
    return this.curation.searchSubscribers(this.curation.parseSubscriberQuery(query ?? {}));
  }

  @Get('subscribers/counts')
  @ApiOperation({ summary: 'Subscribers in each status, and `history`: each of the last `days` days (default 30)' })
  @ApiQuery({ name: 'days', required: false })
  async subscriberCounts(@Query('days') days?: string) {
    return { ...(await this.subscribers.countByStatus()), history: await this.subscribers.statusHistory(days && /^\d{1,4}$/.test(days) ? Number(days) : 30) };
  }

  @Requires(Role.Editor)
  @Get('subscribers/export')
  @ApiOperation({ summary: 'Every subscriber (or one `status`) as CSV (editors)' })
  @ApiProduces('text/csv')
  @ApiQuery({ name: 'status', required: false })
  async exportSubscribers(@CurrentActor() actor: Actor, @Res() res: Response, @Query('status') status?: string) {
    res
      .status(200)
      .set({ 'Content-Type': 'text/csv; charset=utf-8', 'Content-Disposition': 'attachment; filename="subscribers.csv"', 'Cache-Control': 'no-store' });
    await this.curation.exportSubscribers(actor, res, status || undefined);
  }

  @Post('subscribers/import')
  @HttpCode(200)
  @ApiOperation({ summary: 'Import a CSV (multipart field `file`; header row with email, optional name and beats), `consent` pending (default) or attested' })
  @ApiConsumes('multipart/form-data')
  @ApiBody({
    schema: {
      type: 'object',
      required: ['file'],
      properties: { file: { type: 'string', format: 'binary' }, consent: { type: 'string', enum: ['pending', 'attested'] } },
    },
  })
  importSubscribers(
    @CurrentActor() actor: Actor,
    @Req() req: Request & { file?: { buffer: Buffer; originalname: string } },
    @Body(new ZodValidationPipe(importSchema)) body: z.infer<typeof importSchema>,
  ) {
    return this.curation.importSubscribers(actor, { file: req.file?.buffer, filename: req.file?.originalname, consent: body.consent ?? 'pending' });
  }
}
