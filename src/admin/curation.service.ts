import { Readable, type Writable } from 'node:stream';
import { Injectable } from '@nestjs/common';
import { NotFoundError, ValidationError } from '../kernel/errors/domain-error';
import { NarrativesService, type BeatView, type EditResult, type NarrativeView } from '../narratives/narratives.service';
import { SourcesService, type SourceTestResult, type SourceView } from '../sources/sources.service';
import { SubscriberTransfer, type ImportRowError, type ImportSummary } from '../subscribers/subscriber-transfer.service';
import { ALL_STATUSES, SubscribersService, SubscriberStatus, type SubscriberListQuery, type SubscriberPage } from '../subscribers/subscribers.service';
import { AuditService } from './audit/audit.service';
import { auditSourceOf, type Actor } from './auth/actor';

/** The largest CSV an editor may upload at once (the CLI has no limit: it streams from disk). */
export const MAX_IMPORT_BYTES = 20 * 1024 * 1024;

export interface BeatInput {
  slug: string;
  name: string;
  description?: string;
  keywords: string[];
  /** Ids (or slugs) of the sources that feed the beat; undefined leaves them as they are. */
  sources?: string[];
}

/**
 * The curation actions of the workspace and the API (beats, sources, narratives, subscribers): each calls the owning
 * module's service and writes one audit row, so the pages and the JSON API cannot drift apart.
 */
@Injectable()
export class CurationService {
  constructor(
    private readonly narratives: NarrativesService,
    private readonly sources: SourcesService,
    private readonly subscribers: SubscribersService,
    private readonly transfer: SubscriberTransfer,
    private readonly audit: AuditService,
  ) {}

  // --- beats

  async getBeat(slug: string): Promise<BeatView> {
    const beat = (await this.narratives.listBeats()).find((b) => b.slug === slug);
    if (!beat) throw new NotFoundError(`No beat "${slug.slice(0, 60)}".`);
    return beat;
  }

  /** Creates a beat (or, with `existing`, changes one) and sets which sources feed it. */
  async saveBeat(actor: Actor, input: BeatInput, existing: boolean): Promise<BeatView> {
    if (existing) await this.getBeat(input.slug);
    else if ((await this.narratives.listBeats()).some((b) => b.slug === input.slug.trim().toLowerCase()))
      throw new ValidationError(`A beat "${input.slug}" already exists.`, [
        { field: 'slug', message: 'a beat with this slug already exists: edit it instead' },
      ]);
    const all = await this.sources.list();
    const wanted = input.sources === undefined ? null : new Set(input.sources);
    const unknown = wanted ? [...wanted].filter((id) => !all.some((s) => s.id === id || s.slug === id)) : [];
    if (unknown.length)
      throw new ValidationError(`Unknown source ${unknown[0].slice(0, 60)}.`, [{ field: 'sources', message: `unknown source ${unknown[0].slice(0, 60)}` }]);
    const beat = await this.narratives.addBeat({ slug: input.slug, name: input.name, description: input.description, keywords: input.keywords });
    const changed: string[] = [];
    if (wanted) {
      for (const source of all) {
        const feeds = wanted.has(source.id) || wanted.has(source.slug);
        if (feeds === source.beats.includes(beat.slug)) continue;
        await this.sources.edit(source.id, { beats: feeds ? [...source.beats, beat.slug] : source.beats.filter((b) => b !== beat.slug) });
        changed.push(source.slug);
      }
    }
    await this.audit.record(auditSourceOf(actor), existing ? 'beat.update' : 'beat.create', `beat:${beat.slug}`, {
      keywords: beat.keywords,
      sourcesChanged: changed,
    });
    return beat;
  }

  /** The ids of the sources that feed a beat. */
  async sourcesOfBeat(slug: string): Promise<SourceView[]> {
    return (await this.sources.list()).filter((s) => s.beats.includes(slug));
  }

  // --- sources

  async addSource(actor: Actor, input: { kind: string; target: string; name?: string; every?: string; beats?: string[] }): Promise<SourceView> {
    const source = await this.sources.add({
      kind: input.kind,
      target: input.target,
      name: input.name || undefined,
      every: input.every || undefined,
      beats: input.beats,
    });
    await this.audit.record(auditSourceOf(actor), 'source.add', `source:${source.id}`, { kind: source.kind, target: source.target, beats: source.beats });
    return source;
  }

  /** "Fetch now and show what would be imported": nothing is stored (audited, as it makes an outbound request). */
  async testSource(actor: Actor, input: { id: string } | { kind: string; target: string }): Promise<SourceTestResult> {
    const result = 'id' in input ? await this.sources.test(input.id) : await this.sources.testTarget(input);
    await this.audit.record(auditSourceOf(actor), 'source.test', 'id' in input ? `source:${input.id}` : null, {
      kind: result.kind,
      target: result.target,
      items: result.items,
    });
    return result;
  }

  async pauseSource(actor: Actor, id: string): Promise<SourceView> {
    const source = await this.sources.pause(id, `paused by ${actor.label}`);
    await this.audit.record(auditSourceOf(actor), 'source.pause', `source:${source.id}`);
    return source;
  }

  async resumeSource(actor: Actor, id: string): Promise<SourceView> {
    const source = await this.sources.resume(id);
    await this.audit.record(auditSourceOf(actor), 'source.resume', `source:${source.id}`);
    return source;
  }

  async removeSource(actor: Actor, id: string): Promise<SourceView> {
    const source = await this.sources.remove(id);
    await this.audit.record(auditSourceOf(actor), 'source.remove', `source:${source.id}`, {
      kind: source.kind,
      target: source.target,
      records: source.records,
    });
    return source;
  }

  // --- narratives

  async editNarrative(actor: Actor, input: { id: string; headline: string; dek: string; body: string }): Promise<EditResult> {
    const result = await this.narratives.editNarrative({ ...input, editor: actor.label });
    await this.audit.record(auditSourceOf(actor), 'narrative.edit', `narrative:${input.id}`, {
      version: result.narrative.version,
      status: result.narrative.status,
      heldBecause: result.report.heldBecause ?? '',
    });
    return result;
  }

  async regenerateNarrative(actor: Actor, id: string): Promise<NarrativeView> {
    const narrative = await this.narratives.regenerate(id);
    await this.audit.record(auditSourceOf(actor), 'narrative.regenerate', `narrative:${id}`, { version: narrative.version, status: narrative.status });
    return narrative;
  }

  async approveNarrative(actor: Actor, id: string): Promise<NarrativeView> {
    const narrative = await this.narratives.approveNarrative({ id, editor: actor.label });
    await this.audit.record(auditSourceOf(actor), 'narrative.approve', `narrative:${id}`, { version: narrative.version, fidelity: narrative.fidelity });
    return narrative;
  }

  async unpublishNarrative(actor: Actor, id: string): Promise<NarrativeView> {
    const narrative = await this.narratives.unpublishNarrative({ id, editor: actor.label });
    await this.audit.record(auditSourceOf(actor), 'narrative.unpublish', `narrative:${id}`, { version: narrative.version });
    return narrative;
  }

  // --- subscribers

  /** Reads the search form or query string: unknown statuses and bad dates are field errors, not silent. */
  parseSubscriberQuery(q: Record<string, unknown>): SubscriberListQuery {
    const str = (v: unknown) => (typeof v === 'string' ? v.trim() : '');
    const errors: Array<{ field: string; message: string }> = [];
    const status = str(q.status);
    if (status && !(ALL_STATUSES as string[]).includes(status)) errors.push({ field: 'status', message: `one of ${ALL_STATUSES.join(', ')}` });
    const day = (field: string, plusDay: boolean): Date | undefined => {
      const value = str(q[field]);
      if (!value) return undefined;
      const date = /^\d{4}-\d{2}-\d{2}$/.test(value) ? new Date(`${value}T00:00:00Z`) : new Date(NaN);
      if (Number.isNaN(date.getTime())) {
        errors.push({ field, message: 'a date (YYYY-MM-DD)' });
        return undefined;
      }
      return plusDay ? new Date(date.getTime() + 86_400_000) : date;
    };
    const createdFrom = day('from', false);
    const createdTo = day('to', true);
    if (createdFrom && createdTo && createdFrom >= createdTo) errors.push({ field: 'to', message: 'on or after the “from” date' });
    const search = str(q.search);
    if (search.length > 200) errors.push({ field: 'search', message: 'at most 200 characters' });
    if (errors.length) throw new ValidationError(errors.map((e) => `${e.field}: ${e.message}`).join('; '), errors);
    const limit = /^\d{1,3}$/.test(str(q.limit)) ? Number(str(q.limit)) : undefined;
    return {
      status: (status || undefined) as SubscriberStatus | undefined,
      beat: str(q.beat) || undefined,
      search: search || undefined,
      createdFrom,
      createdTo,
      cursor: str(q.cursor) || undefined,
      limit,
    };
  }

  searchSubscribers(query: SubscriberListQuery): Promise<SubscriberPage> {
    return this.subscribers.list(query);
  }

  async importSubscribers(
    actor: Actor,
    input: { file: Buffer | undefined; filename?: string; consent: string },
  ): Promise<{ summary: ImportSummary; errors: ImportRowError[] }> {
    if (!input.file || input.file.length === 0)
      throw new ValidationError('Choose a CSV file to import.', [{ field: 'file', message: 'choose a CSV file (with a header row)' }]);
    if (input.consent !== 'pending' && input.consent !== 'attested')
      throw new ValidationError('Consent must be "pending" or "attested".', [{ field: 'consent', message: 'pending or attested' }]);
    const errors: ImportRowError[] = [];
    const summary = await this.transfer.importCsv(Readable.from([input.file]), {
      consent: input.consent,
      onRowError: (e) => errors.length < 1000 && errors.push(e),
    });
    await this.audit.record(auditSourceOf(actor), 'subscribers.import', input.filename?.slice(0, 200) ?? null, { ...summary });
    return { summary, errors };
  }

  /** Streams every subscriber (one status, if given) as CSV; audited, as it hands out addresses. */
  async exportSubscribers(actor: Actor, output: Writable, status: string | undefined): Promise<void> {
    if (status && !(ALL_STATUSES as string[]).includes(status))
      throw new ValidationError(`Unknown status "${status.slice(0, 40)}".`, [{ field: 'status', message: `one of ${ALL_STATUSES.join(', ')}` }]);
    await this.audit.record(auditSourceOf(actor), 'subscribers.export', null, { status: status ?? null });
    await this.transfer.exportCsv(output, { status: (status || undefined) as SubscriberStatus | undefined });
  }
}
