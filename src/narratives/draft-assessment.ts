import { type DraftSegment, type WriterDocument } from '../kernel/llm/narrative-writer.port';
import { checkClaims, type FidelityFailure, type GroundingRecord } from './grounding-check';
import { accusations, findInstructions, repeatsWords } from './injection';

/** A record as the narratives module hands it to a writer and to the grounding check. */
export interface SourceRecord extends GroundingRecord {
  id: string;
  url: string;
  publishedAt: Date;
}

/** The documents a writer is given for these records (same order: citations point into it by index). */
export function writerDocuments(records: SourceRecord[]): WriterDocument[] {
  return records.map((r) => ({
    platform: r.platform,
    author: r.author,
    outlet: r.outlet ?? null,
    title: r.title,
    text: r.text,
    url: r.url,
    publishedAt: r.publishedAt,
  }));
}

export interface AssessedSegment {
  text: string;
  /** Citation numbers, 1-based, in order of first appearance in the narrative (or those an edit already uses). */
  cites: number[];
}

export interface FidelityReport {
  /** Specifics checked. */
  checks: number;
  /** Each failure, named for the editor. A narrative with any failure is held. */
  failed: FidelityFailure[];
  /** Citation numbers of records that try to instruct the writer. */
  flaggedCitations?: number[];
  /** The optional entailment judge, when it ran. */
  judge?: { model: string; verdicts: Array<{ where: string; sentence: string; supported: boolean; reason: string }> } | null;
  /** Why it was held, in one line ('' when published). */
  heldBecause?: string;
}

export interface Assessment {
  paragraphs: AssessedSegment[][];
  /** Citation number → record id. */
  citations: Map<number, string>;
  fidelity: number;
  report: FidelityReport;
  /** True when nothing failed, fidelity clears the threshold and something is cited. */
  publishable: boolean;
}

/**
 * Numbers a draft's citations, runs the grounding check and the injection check, and decides whether it may be
 * published (DESIGN.md invariant 6): any failed quote, number, name, uncited specific, negation, markup or repeated
 * injection holds it. Fidelity is the share of checks passed, shown to editors; it never outvotes a failure.
 */
export function assessDraft(input: {
  draft: { headline: string; dek: string; paragraphs: DraftSegment[][] };
  records: SourceRecord[];
  threshold?: number;
  /** Indices of records the injection scan flagged (computed here when omitted). */
  flagged?: Set<number>;
  /**
   * Record index → the citation number the text already shows for it (an editor's edit keeps the narrative's
   * numbers). Omitted for a writer's draft: records are numbered 1, 2, … in order of first citation.
   */
  numbers?: ReadonlyMap<number, number>;
}): Assessment {
  const { records } = input;
  const numberOf = new Map<number, number>();
  const citations = new Map<number, string>();
  const paragraphs: AssessedSegment[][] = input.draft.paragraphs.map((segments) =>
    segments.map((segment) => ({
      text: segment.text,
      cites: [...new Set(segment.sources.filter((i) => Number.isInteger(i) && i >= 0 && i < records.length))].map((i) => {
        if (!numberOf.has(i)) {
          const number = input.numbers?.get(i) ?? Math.max(0, ...numberOf.values(), ...(input.numbers?.values() ?? [])) + 1;
          numberOf.set(i, number);
          citations.set(number, records[i].id);
        }
        return numberOf.get(i)!;
      }),
    })),
  );
  const indexOf = new Map([...numberOf].map(([i, n]) => [n, i]));
  const result = checkClaims({
    headline: input.draft.headline,
    dek: input.draft.dek,
    paragraphs: paragraphs.map((segments) => segments.map((s) => ({ text: s.text, cites: s.cites.map((n) => indexOf.get(n)!) }))),
    records,
    markers: numberOf,
  });
  const failed = [...result.failed];
  let checks = result.checks;

  // Injection: a narrative must not repeat what a flagged record asks for, nor its unsupported accusations.
  const flagged = input.flagged ?? new Set(records.map((r, i) => (findInstructions(`${r.title}\n${r.text}`).length ? i : -1)).filter((i) => i >= 0));
  if (flagged.size) {
    const clean = records.filter((_, i) => !flagged.has(i));
    const cleanAccusations = new Set(clean.flatMap((r) => accusations(`${r.title} ${r.text}`)));
    const texts = [
      { where: 'headline', text: input.draft.headline },
      { where: 'dek', text: input.draft.dek },
      ...paragraphs.map((segments, p) => ({ where: `paragraph ${p + 1}`, text: segments.map((s) => s.text).join('') })),
    ];
    for (const i of flagged) {
      const record = records[i];
      const instructions = findInstructions(`${record.title}\n${record.text}`);
      const theirAccusations = new Set(accusations(`${record.title} ${record.text}`));
      for (const { where, text } of texts) {
        checks++;
        const repeated = instructions.map((f) => repeatsWords(text, f.excerpt)).find(Boolean);
        if (repeated)
          failed.push({
            kind: 'injection',
            value: repeated,
            where,
            reason: `repeats an instruction from a flagged record: "${instructions[0].excerpt.slice(0, 120)}"`,
          });
        for (const word of accusations(text)) {
          if (theirAccusations.has(word) && !cleanAccusations.has(word)) {
            failed.push({ kind: 'accusation', value: word, where, reason: 'an accusation found only in a record that tries to instruct the writer' });
          }
        }
      }
    }
  }

  const flaggedCitations = [...flagged]
    .map((i) => numberOf.get(i))
    .filter((n): n is number => n !== undefined)
    .sort((a, b) => a - b);
  const fidelity = checks === 0 ? 1 : Math.max(0, (checks - failed.length) / checks);
  const threshold = input.threshold ?? 0.7;
  const heldBecause = failed.length
    ? `${failed.length} unsupported: ${[...new Set(failed.map((f) => f.kind))].join(', ')}`
    : citations.size === 0
      ? 'cites no record'
      : fidelity < threshold
        ? `fidelity ${fidelity.toFixed(2)} below ${threshold}`
        : '';
  return {
    paragraphs,
    citations,
    fidelity,
    report: { checks, failed, flaggedCitations, judge: null, heldBecause },
    publishable: heldBecause === '',
  };
}
