import { Body, Controller, Get, Inject, Param, Post, Query, Req, Res, UseFilters } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { type Request, type Response } from 'express';
import { APP_CONFIG } from '../../kernel/config/config.module';
import { type AppConfig } from '../../kernel/config/config';
import { DomainError, NotFoundError, ValidationError } from '../../kernel/errors/domain-error';
import { html, type SafeHtml } from '../../kernel/web/html';
import { NarrativesService } from '../../narratives/narratives.service';
import { SourcesService, SourceUnreadableError } from '../../sources/sources.service';
import { ALL_STATUSES, SubscribersService } from '../../subscribers/subscribers.service';
import { type Actor } from '../auth/actor';
import { AdminArea, CurrentActor, Requires } from '../auth/auth.decorators';
import { Role } from '../auth/role';
import { CurationService } from '../curation.service';
import { AdminPageFilter } from './admin-page.filter';
import {
  beatForm,
  beatsTable,
  importReport,
  narrativeDetail,
  sourceDetail,
  sourceForm,
  sourcesTable,
  storylinesTable,
  subscribersPage,
  testFailure,
  testResult,
  type BeatFormValues,
  type FieldErrors,
  type SourceFormValues,
  type SubscriberFilter,
} from './curation-pages';
import { adminPage, type AdminPageInput } from './layout';

type Form = Record<string, unknown>;
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
/** A form field that may repeat (checkboxes): always a list of strings. */
const list = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : typeof v === 'string' ? [v] : []);
const keywordsOf = (v: string) =>
  v
    .split(/[,;\n]/)
    .map((k) => k.trim())
    .filter(Boolean);

const NOTICES: Record<string, string> = {
  'beat-saved': 'Beat saved.',
  'source-added': 'Source added: it is polled on its schedule (or now, with `broadsheet run poll`).',
  'source-paused': 'Source paused: it is not polled until you resume it.',
  'source-resumed': 'Source resumed: it is due for a poll now.',
  'source-removed': 'Source removed, with its records.',
  published: 'Saved and published: every grounding check passed.',
  held: 'Saved, but held: a grounding check failed (see the fidelity report). It is not public.',
  approved: 'Approved: the story is published.',
  unpublished: 'Unpublished: the story is off the site, the feeds and issue drafts.',
  regenerated: 'Regenerated: a new version was written and checked.',
};

/** Outcomes that need the editor's attention: shown as an alert, not a confirmation. */
const WARNINGS = new Set(['held']);

function fieldErrors(error: unknown): FieldErrors | null {
  if (!(error instanceof ValidationError)) return null;
  const out: FieldErrors = {};
  for (const e of error.errors) out[e.field] ??= e.message;
  if (Object.keys(out).length === 0) out.form = error.message;
  return out;
}

/** The curation pages: beats, sources, storylines and narratives, subscribers (forms re-shown with errors next to each field). */
@ApiExcludeController()
@AdminArea()
@UseFilters(AdminPageFilter)
@Controller('admin')
export class CurationController {
  constructor(
    private readonly curation: CurationService,
    private readonly narratives: NarrativesService,
    private readonly sources: SourcesService,
    private readonly subscribers: SubscribersService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  private page(res: Response, actor: Actor, input: AdminPageInput): void {
    adminPage(res, actor, input, { siteTitle: this.config.site.title, messages: NOTICES, warnings: WARNINGS });
  }

  // --- beats

  private async beatsPage(res: Response, actor: Actor, form: { values: BeatFormValues; errors: FieldErrors } | null, done?: string): Promise<void> {
    const [beats, sources] = await Promise.all([this.narratives.listBeats(), this.sources.list()]);
    const values = form?.values ?? { slug: '', name: '', description: '', keywords: '', sources: [] };
    this.page(res, actor, {
      title: 'Beats',
      current: '/admin/beats',
      done,
      status: form ? 400 : 200,
      body: html`${beatsTable(beats, sources)}${actor.role !== Role.Viewer ? beatForm({ actor, values, errors: form?.errors ?? {}, sources, editing: false }) : ''}`,
    });
  }

  @Get('beats')
  async beats(@CurrentActor() actor: Actor, @Res() res: Response, @Query('done') done?: string): Promise<void> {
    await this.beatsPage(res, actor, null, done);
  }

  @Post('beats')
  async createBeat(@CurrentActor() actor: Actor, @Body() body: Form, @Res() res: Response): Promise<void> {
    const values: BeatFormValues = {
      slug: str(body?.slug),
      name: str(body?.name),
      description: str(body?.description),
      keywords: str(body?.keywords),
      sources: list(body?.sources),
    };
    try {
      const beat = await this.curation.saveBeat(actor, { ...values, keywords: keywordsOf(values.keywords) }, false);
      res.redirect(303, `/admin/beats/${beat.slug}?done=beat-saved`);
    } catch (error) {
      const errors = fieldErrors(error);
      if (!errors) throw error;
      await this.beatsPage(res, actor, { values, errors });
    }
  }

  private async beatPage(
    res: Response,
    actor: Actor,
    slug: string,
    form: { values: BeatFormValues; errors: FieldErrors } | null,
    done?: string,
  ): Promise<void> {
    const beat = (await this.narratives.listBeats()).find((b) => b.slug === slug);
    if (!beat) throw new NotFoundError(`There is no beat “${slug.slice(0, 60)}”.`);
    const sources = await this.sources.list();
    const values = form?.values ?? {
      slug: beat.slug,
      name: beat.name,
      description: beat.description,
      keywords: beat.keywords.join(', '),
      sources: sources.filter((s) => s.beats.includes(beat.slug)).map((s) => s.id),
    };
    this.page(res, actor, {
      title: `Beat: ${beat.name}`,
      current: '/admin/beats',
      done,
      status: form ? 400 : 200,
      body: html`${actor.role !== Role.Viewer ? beatForm({ actor, values, errors: form?.errors ?? {}, sources, editing: true }) : html`<p>${beat.description}</p><p>Keywords: ${beat.keywords.join(', ')}</p>`}<p><a href="/admin/beats">All beats</a> · <a href="/beats/${beat.slug}">The beat's public page</a></p>`,
    });
  }

  @Get('beats/:slug')
  async beat(@CurrentActor() actor: Actor, @Param('slug') slug: string, @Res() res: Response, @Query('done') done?: string): Promise<void> {
    await this.beatPage(res, actor, slug, null, done);
  }

  @Post('beats/:slug')
  async updateBeat(@CurrentActor() actor: Actor, @Param('slug') slug: string, @Body() body: Form, @Res() res: Response): Promise<void> {
    const values: BeatFormValues = {
      slug,
      name: str(body?.name),
      description: str(body?.description),
      keywords: str(body?.keywords),
      sources: list(body?.sources),
    };
    try {
      await this.curation.saveBeat(actor, { ...values, keywords: keywordsOf(values.keywords) }, true);
      res.redirect(303, `/admin/beats/${encodeURIComponent(slug)}?done=beat-saved`);
    } catch (error) {
      const errors = fieldErrors(error);
      if (!errors || errors.slug) throw error;
      await this.beatPage(res, actor, slug, { values, errors });
    }
  }

  // --- sources

  private async sourcesPage(
    res: Response,
    actor: Actor,
    input: { values?: SourceFormValues; errors?: FieldErrors; test?: SafeHtml; status?: number; done?: string },
  ): Promise<void> {
    const [sources, beats] = await Promise.all([this.sources.list(), this.narratives.listBeats()]);
    const values = input.values ?? { kind: 'rss', target: '', name: '', every: '', beats: [] };
    const failing = sources.filter((s) => s.status === 'failing').length;
    this.page(res, actor, {
      title: 'Sources',
      current: '/admin/sources',
      done: input.done,
      status: input.status,
      body: html`<p>${sources.length} sources: ${sources.filter((s) => s.status === 'active').length} active, ${failing} failing, ${sources.filter((s) => s.status === 'paused').length} paused.</p>
${input.test ?? ''}${actor.role !== Role.Viewer ? sourceForm({ actor, values, errors: input.errors ?? {}, beats }) : ''}${sourcesTable(sources)}`,
    });
  }

  @Get('sources')
  async sourcesList(@CurrentActor() actor: Actor, @Res() res: Response, @Query('done') done?: string): Promise<void> {
    await this.sourcesPage(res, actor, { done });
  }

  /** Add, or (intent=test) fetch the target now and show what would be imported, keeping the form filled in. */
  @Post('sources')
  async addSource(@CurrentActor() actor: Actor, @Body() body: Form, @Res() res: Response): Promise<void> {
    const values: SourceFormValues = {
      kind: str(body?.kind),
      target: str(body?.target).trim(),
      name: str(body?.name),
      every: str(body?.every).trim(),
      beats: list(body?.beats),
    };
    try {
      if (body?.intent === 'test') {
        const result = await this.curation.testSource(actor, { kind: values.kind, target: values.target });
        await this.sourcesPage(res, actor, { values, test: testResult(result) });
        return;
      }
      const source = await this.curation.addSource(actor, values);
      res.redirect(303, `/admin/sources/${source.id}?done=source-added`);
    } catch (error) {
      if (error instanceof SourceUnreadableError) return this.sourcesPage(res, actor, { values, test: testFailure(error.message), status: 422 });
      const errors = fieldErrors(error);
      if (!errors) throw error;
      if (errors.form) errors.target = errors.form;
      await this.sourcesPage(res, actor, { values, errors, status: 400 });
    }
  }

  private async sourcePage(res: Response, actor: Actor, id: string, test: SafeHtml | null, done?: string, status = 200): Promise<void> {
    const source = await this.sources.show(id);
    this.page(res, actor, { title: `Source: ${source.name}`, current: '/admin/sources', done, status, body: sourceDetail({ actor, source, test }) });
  }

  @Get('sources/:id')
  async source(@CurrentActor() actor: Actor, @Param('id') id: string, @Res() res: Response, @Query('done') done?: string): Promise<void> {
    await this.sourcePage(res, actor, id, null, done);
  }

  @Post('sources/:id/test')
  async testSource(@CurrentActor() actor: Actor, @Param('id') id: string, @Res() res: Response): Promise<void> {
    try {
      await this.sourcePage(res, actor, id, testResult(await this.curation.testSource(actor, { id })));
    } catch (error) {
      if (!(error instanceof SourceUnreadableError)) throw error;
      await this.sourcePage(res, actor, id, testFailure(error.message), undefined, 422);
    }
  }

  @Post('sources/:id/pause')
  async pauseSource(@CurrentActor() actor: Actor, @Param('id') id: string, @Res() res: Response): Promise<void> {
    const source = await this.curation.pauseSource(actor, id);
    res.redirect(303, `/admin/sources/${source.id}?done=source-paused`);
  }

  @Post('sources/:id/resume')
  async resumeSource(@CurrentActor() actor: Actor, @Param('id') id: string, @Res() res: Response): Promise<void> {
    const source = await this.curation.resumeSource(actor, id);
    res.redirect(303, `/admin/sources/${source.id}?done=source-resumed`);
  }

  @Post('sources/:id/remove')
  async removeSource(@CurrentActor() actor: Actor, @Param('id') id: string, @Body() body: Form, @Res() res: Response): Promise<void> {
    if (body?.confirm !== 'yes')
      throw new ValidationError('Tick the box to confirm: removing a source deletes its records.', [{ field: 'confirm', message: 'confirm the removal' }]);
    await this.curation.removeSource(actor, id);
    res.redirect(303, '/admin/sources?done=source-removed');
  }

  // --- storylines and narratives

  @Get('stories')
  async stories(@CurrentActor() actor: Actor, @Res() res: Response): Promise<void> {
    const [storylines, held] = await Promise.all([this.narratives.storylinesOfWeek(), this.narratives.held(50)]);
    const shown = new Set(storylines.map((s) => s.narrative?.id));
    const older = held.filter((n) => !shown.has(n.id));
    this.page(res, actor, {
      title: 'Storylines and narratives',
      current: '/admin/stories',
      body: html`${storylinesTable(storylines)}${older.length ? html`<h2>Held from earlier weeks</h2><ul>${older.map((n) => html`<li><a href="/admin/stories/${n.id}">${n.headline}</a> <span class="muted">${n.fidelityReport.heldBecause ?? ''}</span></li>`)}</ul>` : ''}`,
    });
  }

  private async narrativePage(
    res: Response,
    actor: Actor,
    id: string,
    form: { values: { headline: string; dek: string; body: string }; errors: FieldErrors } | null,
    done?: string,
  ): Promise<void> {
    const narrative = await this.narratives.getById(id);
    if (!narrative) throw new NotFoundError('There is no such narrative.');
    this.page(res, actor, {
      title: narrative.headline,
      current: '/admin/stories',
      done,
      status: form ? 400 : 200,
      body: narrativeDetail({ actor, narrative, versions: await this.narratives.versions(id), values: form?.values, errors: form?.errors ?? {} }),
    });
  }

  @Get('stories/:id')
  async narrative(@CurrentActor() actor: Actor, @Param('id') id: string, @Res() res: Response, @Query('done') done?: string): Promise<void> {
    await this.narrativePage(res, actor, id, null, done);
  }

  @Post('stories/:id/edit')
  async editNarrative(@CurrentActor() actor: Actor, @Param('id') id: string, @Body() body: Form, @Res() res: Response): Promise<void> {
    const values = { headline: str(body?.headline), dek: str(body?.dek), body: str(body?.body) };
    try {
      const result = await this.curation.editNarrative(actor, { id, ...values });
      res.redirect(303, `/admin/stories/${id}?done=${result.publishable ? 'published' : 'held'}`);
    } catch (error) {
      const errors = fieldErrors(error);
      if (!errors || error instanceof NotFoundError) throw error;
      await this.narrativePage(res, actor, id, { values, errors });
    }
  }

  @Post('stories/:id/regenerate')
  async regenerate(@CurrentActor() actor: Actor, @Param('id') id: string, @Res() res: Response): Promise<void> {
    await this.curation.regenerateNarrative(actor, id);
    res.redirect(303, `/admin/stories/${id}?done=regenerated`);
  }

  @Post('stories/:id/approve')
  async approveNarrative(@CurrentActor() actor: Actor, @Param('id') id: string, @Res() res: Response): Promise<void> {
    await this.curation.approveNarrative(actor, id);
    res.redirect(303, `/admin/stories/${id}?done=approved`);
  }

  @Post('stories/:id/unpublish')
  async unpublishNarrative(@CurrentActor() actor: Actor, @Param('id') id: string, @Res() res: Response): Promise<void> {
    await this.curation.unpublishNarrative(actor, id);
    res.redirect(303, `/admin/stories/${id}?done=unpublished`);
  }

  // --- subscribers

  private async subscribersView(res: Response, actor: Actor, query: Record<string, unknown>, extra: SafeHtml | null, status = 200): Promise<void> {
    const filter: SubscriberFilter = { search: str(query.search), status: str(query.status), beat: str(query.beat), from: str(query.from), to: str(query.to) };
    let errors: FieldErrors = {};
    let page = null;
    try {
      page = await this.curation.searchSubscribers(this.curation.parseSubscriberQuery(query));
    } catch (error) {
      const found = fieldErrors(error);
      if (!found) throw error;
      errors = found;
      status = 400;
    }
    const [counts, beats] = await Promise.all([this.subscribers.countByStatus(), this.narratives.listBeats()]);
    const kept = new URLSearchParams(Object.entries(filter).filter(([, v]) => v));
    this.page(res, actor, {
      title: 'Subscribers',
      current: '/admin/subscribers',
      status,
      body: html`${extra ?? ''}${subscribersPage({ actor, filter, errors, page, counts, beats, statuses: ALL_STATUSES, query: kept.toString() })}`,
    });
  }

  @Get('subscribers')
  async subscribersList(@CurrentActor() actor: Actor, @Query() query: Record<string, unknown>, @Res() res: Response): Promise<void> {
    await this.subscribersView(res, actor, query ?? {}, null);
  }

  /** The CSV upload (multipart, parsed before the guard by the upload middleware so its CSRF field is checked). */
  @Post('subscribers/import')
  async importSubscribers(
    @CurrentActor() actor: Actor,
    @Req() req: Request & { file?: { buffer: Buffer; originalname: string } },
    @Body() body: Form,
    @Res() res: Response,
  ): Promise<void> {
    try {
      const { summary, errors } = await this.curation.importSubscribers(actor, {
        file: req.file?.buffer,
        filename: req.file?.originalname,
        consent: str(body?.consent) || 'pending',
      });
      await this.subscribersView(res, actor, {}, importReport(summary, errors));
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      await this.subscribersView(
        res,
        actor,
        {},
        html`<p class="notice error" role="alert" id="import-error">The import failed: ${error.message}</p>`,
        error.status,
      );
    }
  }

  /** Every subscriber as CSV (editors: it hands out addresses). */
  @Requires(Role.Editor)
  @Get('subscribers/export.csv')
  async exportSubscribers(@CurrentActor() actor: Actor, @Res() res: Response, @Query('status') status?: string): Promise<void> {
    res.status(200).set({
      'Content-Type': 'text/csv; charset=utf-8',
      'Content-Disposition': `attachment; filename="subscribers${status ? `-${status.replace(/[^a-z]/g, '')}` : ''}.csv"`,
      'Cache-Control': 'no-store',
    });
    await this.curation.exportSubscribers(actor, res, status || undefined);
  }
}
