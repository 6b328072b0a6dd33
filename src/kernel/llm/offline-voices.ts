import nlp from './nlp';
import { type WriterDocument } from './narrative-writer.port';

/**
 * What the offline writer reads in one voice, from the record's own words: the point it makes, whether it contests
 * what someone else says (a rebuttal the text itself shows), whether it objects to or approves of the development
 * (an explicit evaluative word, not a keyword guess about "sides"), the reason it gives, and the thread it belongs to.
 *
 * compromise splits sentences into clauses ("15 days is absurd, | but 72 hours … is tight") and reads noun phrases
 * for the issues voices are grouped by; the rebuttal and evaluation patterns are explicit discourse markers. A
 * lexicon sentiment score was tried and rejected: on the demo week it rated "I'd love to see the list…" strongly
 * positive and "absurd", "guts the bill" and "a reasonable outcome" neutral, the very misreading to avoid.
 */

/** A sentence that contests a claim someone makes ("than people think", "X, not Y", "It isn't.", "Nobody ignores it."). */
const REBUTTAL = [
  /\bthan (?:most )?(?:people|everyone|anyone|commenters) (?:think|thinks|realise|realize|assume)\b/i,
  /\bpeople keep (?:saying|calling|claiming)\b/i,
  /\b(?:i disagree|i don['’]t agree|disagree with|that['’]s wrong|is wrong|are wrong|got it wrong|misreads?|misreading|overblown|overstated|you missed|you['’]re missing|misses the point)\b/i,
  /\bthe (?:hard|important) part is\b/i,
  /\b(?:that['’]s|this is|is) the story here, not\b/i,
  /\b(?:isn['’]t|is not|wasn['’]t) (?:a scandal|the point|the problem|what it seems|a safety argument|a perk)\b/i,
  // "That's automation bias, not a model problem.": a copula in the main clause (advice, "Plan X, not after", is not).
  /^(?:(?:that|this|it)['’]s\b|[^,]*\b(?:is|are|was|were|means)\b)[^,]{6,},\s+not (?:a |an |the )?[\p{L}-]+(?: [\p{L}-]+)?\.?$/iu,
  /^(?:no[,.]|nope\b|not really\b|wrong\b|nobody (?:ignores|says|thinks|denies)\b|it isn['’]t\b|that['’]s not\b|actually,)/i,
];

/** A sentence reporting what others say or how they frame it. */
export const FRAMING = /\b(?:framed|frame it|say|says|said|claim|claims|argue|argues|argued|people|everyone|both sides|critics|supporters|the coverage)\b/i;

export function rebuts(sentence: string): boolean {
  return REBUTTAL.some((p) => p.test(sentence));
}

/** How much a sentence carries a point of its own: a rebuttal, an evaluation, a reason or a contrast. */
export function pointOf(sentence: string): number {
  return (
    (rebuts(sentence) ? 3 : 0) +
    (OBJECTION.test(sentence) || APPROVAL.test(sentence) ? 2 : 0) +
    (/\b(?:because|since|which means|so)\b|, but\b/i.test(sentence) ? 1 : 0)
  );
}

/** An explicit objection to the development itself. */
const OBJECTION =
  /\b(?:absurd|is wrong|are wrong|unworkable|sneaky|weird|loophole|guts|gutted|scandal|unacceptable|dangerous|the worst|worst kind|bad idea|misleading|rubber-stamping|liability shield|should hold the line|nobody asked|not a safety plan|isn['’]t transparency|is not transparency|here we go again|wish list)\b/i;

/** An explicit approval of the development itself. */
const APPROVAL =
  /\b(?:(?:a |the )?(?:reasonable|sensible|defensible) (?:outcome|compromise|middle|line)|the right (?:line|call|ask|outcome|fight)|seems like the right|is right|good idea|good week|good on them|is a better|real improvement|responsive|welcome(?:s|d)? (?:it|the)|pressure works|words mean things|it works|i['’]d recommend|worth more)\b/i;

/** Where a clause gives a reason: after "because", "since", "so", "which means", or in the clause after "but". */
const REASON_OPENER = /^(?:because|since|so|which means|which is|as)\b/i;

export type Evaluation = 'objects' | 'approves' | null;

export interface VoiceReading {
  /** The rebutting sentence, when the voice contests a claim (verbatim, from the quote). */
  rebuttal: string | null;
  evaluation: Evaluation;
  /** The reason clause the voice gives (verbatim, from the record), when it gives one apart from the quote. */
  reason: string | null;
}

/** Reads one quote (the sentences chosen from a record) and the record's further sentences for a reason. */
export function readVoice(quote: string, sentences: string[]): VoiceReading {
  const quoted = sentencesIn(quote);
  // "Both sides framed it as X. But …": a "But" answering what others say is a rebuttal too.
  const answering = quoted.find((s, i) => i > 0 && /^But\b/.test(s) && FRAMING.test(quoted[i - 1])) ?? null;
  const rebuttal = quoted.find(rebuts) ?? answering;
  // An approval word inside a sentence that objects ("The first is negotiable, the third guts the bill") objects.
  const objects = quoted.some((s) => OBJECTION.test(s));
  const approves = quoted.some((s) => APPROVAL.test(s) && !OBJECTION.test(s) && !/\b(?:not|isn['’]t|never|no)\b[^.]*\b(?:right|good|reasonable)\b/i.test(s));
  const evaluation: Evaluation = objects && !approves ? 'objects' : approves && !objects ? 'approves' : null;
  return { rebuttal, evaluation, reason: rebuttal || evaluation ? reasonFor(quote, sentences) : null };
}

/** A reason clause, verbatim: in the quote itself ("…, so …", "… because …") or the record's sentence right after it. */
function reasonFor(quote: string, sentences: string[]): string | null {
  const quoted = sentencesIn(quote);
  for (const sentence of quoted) {
    const clauses = nlp(sentence).clauses().out('array') as string[];
    for (const clause of clauses.slice(1)) {
      const c = clause.trim().replace(/[,;:]$/, '');
      if (REASON_OPENER.test(c) && c.split(/\s+/).length >= 5)
        return c
          .replace(REASON_OPENER, '')
          .trim()
          .replace(/^[,\s]+/, '');
    }
  }
  // Or the record's next sentence, when it opens with a reason ("Because…", "That's why…").
  const last = sentences.indexOf(quoted[quoted.length - 1] ?? '');
  const next = last >= 0 ? sentences[last + 1] : undefined;
  return next && /^(?:because|since|that['’]s why|this is why|the reason)\b/i.test(next) && next.length <= 220 ? next : null;
}

function sentencesIn(text: string): string[] {
  return text.split(/(?<=[.!?]["”’)]?)\s+(?=[\p{Lu}\p{N}"“$])/u).filter(Boolean);
}

/** The thread a reply belongs to: its parent's title ("/u/x on <title>", `New comment by x in "<title>"`). */
export function threadTitle(doc: WriterDocument): string | null {
  const m = /^(?:\/u\/\S+ on |New comment by \S+ in ")(.+?)"?$/.exec(doc.title.trim());
  return m ? m[1].trim() : null;
}

const DETERMINER = /^(?:the|a|an|this|that|these|those|its|their|our|my|your|his|her|any|every|each|some|more|most|all)\s+/i;
const WEAK = new Set([
  'part',
  'thing',
  'things',
  'people',
  'anyone',
  'everyone',
  'someone',
  'question',
  'point',
  'story',
  'number',
  'numbers',
  'way',
  'lot',
  'week',
  'today',
  'year',
  'time',
  'day',
  'days',
  'case',
  'side',
  'sides',
  'fight',
  'answer',
  'problem',
  'idea',
  'something',
  'nothing',
  'everything',
  'tell',
  'bit',
  'bits',
  'words',
  'list',
  'thread',
  'post',
  'ask',
  'asks',
  'mind',
  'test',
  'news',
]);

/** A figure in a phrase is an identifier after these ("clause 4(b)", "Amendment 7A"); elsewhere it is a measurement. */
const IDENTIFIER_HEAD = /^(?:clause|section|article|amendment|bill|version|table|rule|chapter|part|schedule|item|criteria|criterion|v)$/i;
/** Heads that name a measurement, not a thing discussed ("error rate", "71 minutes", "94.1% sensitivity"). */
const MEASURE = new Set([
  'rate',
  'rates',
  'minute',
  'minutes',
  'hour',
  'hours',
  'percent',
  'percentage',
  'point',
  'points',
  'score',
  'scores',
  'sensitivity',
  'specificity',
  'figure',
  'figures',
  'count',
  'total',
  'share',
  'math',
]);

/** Words no issue label carries. */
const NOT_TOPICAL = new Set([
  'still',
  'just',
  'also',
  'even',
  'only',
  'really',
  'very',
  'not',
  'that',
  'which',
  'who',
  'whose',
  'there',
  'here',
  'today',
  'yesterday',
  'tomorrow',
]);

/** A noun phrase as written (determiners and trailing punctuation off), and whether the text gave it "the". */
export interface IssuePhrase {
  phrase: string;
  definite: boolean;
}

/** Noun phrases of a text, and their runs of two or three words, for grouping voices by the issue they discuss. */
export function issuePhrases(text: string): IssuePhrase[] {
  const out: IssuePhrase[] = [];
  const doc = nlp(text);
  // compromise's tags for each word of the text: a noun phrase it returns may still carry a verb, an adverb, a date
  // or a negation ("Lumenloom still faces copyright", "not a model", "Friday"), which no issue label should.
  const tags = new Map<string, Set<string>>();
  for (const sentence of doc.json() as Array<{ terms: Array<{ normal: string; tags: string[] }> }>)
    for (const term of sentence.terms) tags.set(term.normal, new Set([...(tags.get(term.normal) ?? []), ...term.tags]));
  const notTopical = (word: string) => {
    const w = word.toLowerCase().replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, '');
    if (NOT_TOPICAL.has(w)) return true;
    const t = tags.get(w);
    if (!t) return false;
    if (['Adverb', 'Date', 'WeekDay', 'Month', 'Negative', 'Pronoun', 'Conjunction', 'QuestionWord'].some((x) => t.has(x))) return true;
    return t.has('Verb') && !t.has('Noun') && !t.has('Gerund') && !t.has('Adjective');
  };
  for (const raw of doc.nouns().out('array') as string[]) {
    const trimmed = raw
      .replace(/[.,;:!?"”’]+$/g, '')
      .replace(/\)$/, (p, at: number, all: string) => (all.slice(0, at).includes('(') ? p : ''))
      .replace(/^["“‘(]+/, '')
      .trim();
    const definite = /^the\s/i.test(trimmed);
    const phrase = trimmed.replace(DETERMINER, '').trim();
    if (/["“”@/#]|https?:/.test(phrase)) continue;
    const words = phrase.split(/\s+/);
    const runs = new Set([phrase]);
    // Runs that keep the head noun ("clinician burnout" of "a leading driver of clinician burnout"), never a
    // modifier cut from it ("driver of clinician").
    for (let n = 2; n <= 3; n++)
      for (let i = 0; i + n <= words.length; i++)
        if (i + n === words.length || !words.slice(i, i + n).some((w) => /^(?:of|in|on|for|to|with|at|by)$/i.test(w)))
          runs.add(words.slice(i, i + n).join(' '));
    for (const run of runs) {
      const ws = run.split(/\s+/);
      if (ws.length > 5 || run.length < 4 || /^(?:i|you|we|they|it|he|she|them|us)$/i.test(run)) continue;
      // A topic, not a measurement: no figures (but for identifiers, "clause 4(b)") and no measuring head.
      if (ws.some((w, k) => /^[~$£€±]?\d|%$/.test(w) && !(k > 0 && IDENTIFIER_HEAD.test(ws[k - 1])))) continue;
      if (MEASURE.has(ws[ws.length - 1].toLowerCase())) continue;
      if (/^(?:million|billion|trillion|thousand|hundred|percent|m|bn|k)$/i.test(ws[0])) continue;
      if (ws.some(notTopical)) continue;
      // The head of an issue is a thing discussed, not "the part", "the question" or "the story".
      if (WEAK.has(ws[ws.length - 1].toLowerCase().replace(/[^\p{L}]/gu, '')) || /^(?:real|hard|important|only|main|whole|same)\b/i.test(run)) continue;
      if (!/^[\p{L}\p{N}$]/u.test(run) || !/[\p{L}\p{N}%)]$/u.test(run)) continue;
      if (
        /^(?:of|and|or|in|on|for|to|with|at|by|from|into|over|under|per|a|an|the|this|that|its|their)\s/i.test(run) ||
        /\s(?:of|and|or|in|on|for|to|with|at|by)$/i.test(run)
      )
        continue;
      // A lone common word ("clinician", "medications", "Bill") is no issue; a name with a figure, or a phrase, is.
      if (ws.length === 1 && !/[\p{N}]/u.test(run) && !/^\p{Lu}{2,}/u.test(run)) continue;
      if (ws.length > 1 && ws.every((w) => /^(?:of|and|or|in|on|for|to|with|at|by)$/i.test(w) || w.length < 3)) continue;
      out.push({ phrase: run, definite: definite && run === phrase });
    }
  }
  return out;
}
