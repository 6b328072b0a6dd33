import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG } from '../kernel/config/config.module';
import { type AppConfig } from '../kernel/config/config';
import { Clock } from '../kernel/clock/clock';
import { ClaimJudge } from '../kernel/llm/claim-judge.port';
import { documentText, type NarrativeDraft } from '../kernel/llm/narrative-writer.port';
import { NO_USAGE, addUsage, estimateCostUsd, type TokenUsage } from '../kernel/llm/pricing';
import { type Beat } from './beat.entity';
import { assessDraft, type Assessment, type SourceRecord } from './draft-assessment';
import { NarrativeStatus } from './narrative.entity';
import { NarrativesRepository } from './narratives.repository';
import { slugify } from './slug';
import { type Storyline } from './storyline.entity';

export type Outcome = 'written' | 'unchanged' | 'held' | 'failed';

export interface SaveOutcome {
  outcome: Outcome;
  usage: TokenUsage | null;
  costUsd: number;
}

/**
 * What happens to every draft a writer returns, written now or collected from a batch: the grounding check, the
 * optional entailment judge, then the narrative, its new version and its citations saved in one transaction
 * (published, or held for an editor).
 */
@Injectable()
export class DraftSaver {
  private readonly logger = new Logger('Narratives');

  constructor(
    private readonly repo: NarrativesRepository,
    private readonly judge: ClaimJudge,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async save(input: {
    beat: Beat;
    storyline: Storyline;
    records: SourceRecord[];
    draft: NarrativeDraft;
    runId: string | null;
    /** The membership the draft was written from (a batch's may be older than the storyline's now). */
    membershipHash?: string;
    batchItem?: { batchId: string; customId: string };
  }): Promise<SaveOutcome> {
    const { beat, storyline, records, draft } = input;
    const existing = await this.repo.narrativeForStoryline(storyline.id);
    const flaggedIds = new Set(storyline.flaggedRecords.map((f) => f.recordId));
    const assessment = assessDraft({
      draft,
      records,
      threshold: this.config.narratives.fidelityThreshold,
      flagged: new Set(records.flatMap((r, i) => (flaggedIds.has(r.id) ? [i] : []))),
    });
    const judged = await this.judgeClaims(assessment, records);
    const usage = addUsage(draft.usage ?? NO_USAGE, judged.usage);
    const costUsd = estimateCostUsd(draft.model, draft.usage ?? NO_USAGE, { batch: draft.batch ?? false }) + judged.costUsd;
    const publishable = assessment.publishable;
    const now = this.clock.now();
    const narrative = existing ?? this.repo.newNarrative();
    Object.assign(narrative, {
      storylineId: storyline.id,
      beatId: beat.id,
      // Published stories keep their URL forever: a rewrite never changes the slug.
      slug: existing?.slug ?? (await this.uniqueSlug(draft.headline, storyline.key)),
      // An editor's unpublish stands until an editor approves the story again.
      status: existing?.status === NarrativeStatus.Unpublished ? NarrativeStatus.Unpublished : publishable ? NarrativeStatus.Published : NarrativeStatus.Held,
      headline: draft.headline,
      dek: draft.dek,
      paragraphs: assessment.paragraphs,
      writer: draft.writer,
      model: draft.model,
      fidelity: assessment.fidelity,
      fidelityReport: assessment.report,
      version: (existing?.version ?? 0) + 1,
      membershipHash: input.membershipHash ?? storyline.membershipHash,
      publishedAt:
        publishable && existing?.status !== NarrativeStatus.Unpublished ? (existing?.publishedAt ?? latest(records) ?? now) : (existing?.publishedAt ?? null),
    });
    await this.repo.saveNarrative({
      narrative,
      usage: draft.usage ? usage : null,
      citations: assessment.citations,
      costUsd: draft.usage ? costUsd : null,
      runId: input.runId,
      editor: null,
      batchItem: input.batchItem,
    });
    await this.repo.recordWriteError(storyline.id, null, now);
    if (!publishable) this.logger.warn(`narrative "${draft.headline}" held: ${assessment.report.heldBecause}`);
    return { outcome: publishable ? 'written' : 'held', usage: draft.usage ? usage : null, costUsd };
  }

  /** The optional entailment judge: unsupported sentences become failures (and hold the narrative). */
  private async judgeClaims(assessment: Assessment, records: SourceRecord[]): Promise<{ usage: TokenUsage | null; costUsd: number }> {
    if (!this.config.narratives.entailmentJudge || !this.judge.enabled) return { usage: null, costUsd: 0 };
    const byNumber = new Map([...assessment.citations].map(([n, id]) => [n, records.find((r) => r.id === id)!]));
    const claims = assessment.paragraphs.flatMap((segments, p) =>
      segments
        .filter((s) => s.cites.length && s.text.trim().length > 3)
        .map((s) => ({ p, sentence: s.text.trim(), sources: s.cites.map((n) => documentText(byNumber.get(n)!)) })),
    );
    if (!claims.length) return { usage: null, costUsd: 0 };
    try {
      const result = await this.judge.judge(claims.map((c, id) => ({ id, sentence: c.sentence, sources: c.sources })));
      const verdicts = claims.map((c, id) => {
        const v = result.verdicts.find((x) => x.id === id);
        return { where: `paragraph ${c.p + 1}`, sentence: c.sentence, supported: v?.supported ?? false, reason: v?.reason ?? 'no verdict returned' };
      });
      assessment.report.judge = { model: result.model, verdicts };
      for (const v of verdicts) {
        assessment.report.checks++;
        if (!v.supported)
          assessment.report.failed.push({
            kind: 'entailment',
            value: v.sentence,
            where: v.where,
            reason: `the judge (${result.model}) found it unsupported: ${v.reason}`,
          });
      }
      return { usage: result.usage, costUsd: estimateCostUsd(result.model, result.usage) };
    } catch (error) {
      // A judge that was asked for and could not answer holds the narrative: an editor decides.
      assessment.report.judge = { model: this.config.anthropic.judgeModel, verdicts: [] };
      assessment.report.failed.push({ kind: 'entailment', value: '', where: 'narrative', reason: `the entailment judge failed: ${(error as Error).message}` });
      return { usage: null, costUsd: 0 };
    } finally {
      const failed = assessment.report.failed;
      const checks = assessment.report.checks;
      assessment.fidelity = checks === 0 ? 1 : Math.max(0, (checks - failed.length) / checks);
      if (failed.length) {
        assessment.publishable = false;
        assessment.report.heldBecause = `${failed.length} unsupported: ${[...new Set(failed.map((f) => f.kind))].join(', ')}`;
      }
    }
  }

  private async uniqueSlug(headline: string, key: string): Promise<string> {
    const base = slugify(headline) || 'story';
    if (!(await this.repo.slugTaken(base))) return base;
    const suffixed = `${base}-${key
      .replace(/[^a-z0-9]/gi, '')
      .slice(0, 6)
      .toLowerCase()}`;
    if (!(await this.repo.slugTaken(suffixed))) return suffixed;
    for (let n = 2; ; n++) if (!(await this.repo.slugTaken(`${suffixed}-${n}`))) return `${suffixed}-${n}`;
  }
}

function latest(records: Array<{ publishedAt: Date }>): Date | null {
  return records.reduce<Date | null>((max, r) => (!max || r.publishedAt > max ? r.publishedAt : max), null);
}
