/** One discourse record handed to a writer as a quoted source document. */
export interface WriterDocument {
  platform: string;
  author: string;
  /** The publication (a news or blog source's name), when known. */
  outlet?: string | null;
  title: string;
  text: string;
  url: string;
  publishedAt: Date;
}

/**
 * The exact text a writer is shown for one record (and what the grounding check searches): platform, author
 * and date, then title and text.
 */
export function documentText(doc: WriterDocument): string {
  const who = [doc.outlet, doc.author || 'anonymous'].filter(Boolean).join(' · ');
  return `[${doc.platform} · ${who} · ${doc.publishedAt.toISOString().slice(0, 10)}] ${doc.title ? `${doc.title} — ` : ''}${doc.text}`;
}

export interface NarrativeBrief {
  beat: { name: string; description: string };
  /** A few words naming the storyline (its top terms). */
  topic: string;
  documents: WriterDocument[];
  /** Last week's published story this storyline continues: the narrative should say so. */
  previous?: { headline: string; dek: string } | null;
}

/** A run of text and the documents (indices into `brief.documents`) that support it. */
export interface DraftSegment {
  text: string;
  sources: number[];
}

export interface NarrativeDraft {
  headline: string;
  dek: string;
  /** Paragraphs, each a list of segments; citation markers are added by the narratives module. */
  paragraphs: DraftSegment[][];
  writer: 'claude' | 'offline';
  model: string | null;
  usage: { inputTokens: number; outputTokens: number; cacheReadTokens: number; cacheWriteTokens: number } | null;
  /** Written through Message Batches (billed at half price). */
  batch?: boolean;
}

export class WriterError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'WriterError';
  }
}

/** Writes one narrative from a storyline's records. Implementations: Claude, and an offline composer. */
export abstract class NarrativeWriter {
  abstract readonly name: 'claude' | 'offline';
  abstract write(brief: NarrativeBrief): Promise<NarrativeDraft>;
}
