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
 * The exact text a writer is shown for one record (and what the entailment judge reads): platform, outlet or author
 * and date, then title and text (no dash before an empty text).
 */
export function documentText(doc: WriterDocument): string {
  const who = [doc.outlet, doc.author || 'anonymous'].filter(Boolean).join(' · ');
  const thread = replyThread(doc);
  const label = [doc.platform, who, doc.publishedAt.toISOString().slice(0, 10), ...(thread === null ? [] : ['reply'])].join(' · ');
  return `[${label}] ${[thread ?? doc.title, doc.text].filter(Boolean).join(' — ')}`;
}

/** A reply's title as the feeds write it: its author, then the thread it answers (Hacker News, Reddit). */
const REPLY_TITLE = /^(?:New comment by (\S+) in "(.+)"|(\/u\/\S+) on (.+))$/s;

/**
 * The thread a reply answers, when its title only repeats the record's author (already in the label) before the
 * thread's title: the writer is shown `[… · reply] <thread> — <text>` (the style guide says what "reply" means).
 * Tokens that buy nothing. Null for any other title.
 */
function replyThread(doc: WriterDocument): string | null {
  const match = REPLY_TITLE.exec((doc.title ?? '').trim());
  if (!match) return null;
  const [who, thread] = match[1] ? [match[1], match[2]] : [match[3], match[4]];
  const bare = (name: string) =>
    name
      .trim()
      .replace(/^\/?u\//i, '')
      .toLowerCase();
  return bare(who) === bare(doc.author) && thread.trim() ? thread.trim() : null;
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
  usage: { inputTokens: number; outputTokens: number; cacheReadTokens: number; cacheWriteTokens: number; cacheWrite1hTokens?: number } | null;
  /** Written through Message Batches (billed at half price). */
  batch?: boolean;
}

export class WriterError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    /**
     * No answer came back (a connection error or a timeout): the request may have been carried out. Matters for
     * requests that must not be repeated blindly, such as creating a Message Batch.
     */
    readonly unanswered = false,
  ) {
    super(message);
    this.name = 'WriterError';
  }
}

/** The stories an editor chose for an issue, in order, for drafting its intro. */
export interface IntroBrief {
  stories: Array<{ headline: string; dek: string; beat: string }>;
}

export interface IntroDraft {
  intro: string;
  writer: 'claude' | 'offline';
  model: string | null;
  usage: NarrativeDraft['usage'];
}

/** One narrative request of a batch: `id` is ours (`[A-Za-z0-9_-]{1,64}`), unique within the batch. */
export interface BatchItem {
  id: string;
  brief: NarrativeBrief;
}

export interface BatchState {
  ended: boolean;
  counts: { processing: number; succeeded: number; errored: number; canceled: number; expired: number };
}

/** One request's outcome: a draft, or why there is none (and whether sending it again may help). */
export type BatchOutcome = { id: string; draft: NarrativeDraft } | { id: string; error: string; retryable: boolean };

/**
 * What the provider knows of a batch we may have created without recording it: `found`, the batch of exactly these
 * requests; `unsure`, a batch that could be it is still processing (its requests can be read only once it has ended:
 * ask again later); `none`, no batch of these requests was created since then (sending them again is safe).
 */
export type BatchLookup = { status: 'found'; batchId: string } | { status: 'unsure'; batchId: string } | { status: 'none' };

/**
 * Asynchronous writing at half price (Anthropic Message Batches): submit many briefs at once, poll until the
 * batch has ended, then read each request's outcome (matched by id, in any order).
 */
export interface NarrativeBatches {
  /** Creates the batch, once: a failure with `unanswered` may still have created it (`find` tells). */
  submit(items: BatchItem[]): Promise<string>;
  /**
   * Looks for the batch created for exactly these request ids at or after `since`, among batches not in `known`
   * (those already recorded): for a batch whose create call's answer was never recorded.
   */
  find(intent: { ids: readonly string[]; since: Date; known: ReadonlySet<string> }): Promise<BatchLookup>;
  state(batchId: string): Promise<BatchState>;
  /** The briefs are those submitted (citations point into their documents). */
  results(batchId: string, briefs: Map<string, NarrativeBrief>): Promise<BatchOutcome[]>;
}

/** Writes one narrative from a storyline's records. Implementations: Claude, and an offline composer. */
export abstract class NarrativeWriter {
  abstract readonly name: 'claude' | 'offline';
  /** Message Batches, when the writer has them (Claude). */
  readonly batches: NarrativeBatches | null = null;
  abstract write(brief: NarrativeBrief): Promise<NarrativeDraft>;
  /** A short intro for an issue from its chosen stories' headlines and deks (offline: a template). */
  abstract writeIntro(brief: IntroBrief): Promise<IntroDraft>;
}

/** The offline intro: the lead story, the next two, and how many stories from which beats. */
export function templateIntro(brief: IntroBrief): string {
  const { stories } = brief;
  if (stories.length === 0) return 'This week has no stories yet: include some, then draft the intro again.';
  const beats = [...new Set(stories.map((s) => s.beat))];
  const lead = stories[0];
  const others = stories.slice(1, 3).map((s) => `“${s.headline}”`);
  return [
    `This week we start with “${lead.headline}”: ${lowerFirst(lead.dek)}`.replace(/([^.!?])$/, '$1.'),
    others.length ? `Also in this issue: ${others.join(' and ')}${stories.length > 3 ? `, and ${stories.length - 3} more` : ''}.` : '',
    `${stories.length} ${stories.length === 1 ? 'story' : 'stories'} from ${joinWords(beats)}, each with links to the public posts behind its claims.`,
  ]
    .filter(Boolean)
    .join(' ');
}

function lowerFirst(text: string): string {
  return text && /^[A-Z][a-z]/.test(text) ? text[0].toLowerCase() + text.slice(1) : text;
}

function joinWords(words: string[]): string {
  return words.length <= 1 ? (words[0] ?? '') : `${words.slice(0, -1).join(', ')} and ${words[words.length - 1]}`;
}
