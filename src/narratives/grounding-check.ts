import nlp from '../kernel/llm/nlp';
import { cleanPostText } from '../kernel/llm/post-text';

/**
 * The grounding check (DESIGN.md invariant 6): every quote, number and name in a narrative must be found in a
 * record the sentence cites: quotes verbatim in one record's title or body, numbers with their unit and magnitude,
 * names whole. Any failure holds the narrative; nothing is averaged away.
 *
 * compromise does the parts regular expressions get wrong: numbers in words ("nine in ten", "three million"),
 * magnitudes ("$38 billion" is 38e9), units (%, currency words and symbols), and telling a sentence-initial name
 * ("Google denied it.") from a capitalised common word ("Critics denied it.").
 */

/** What the check may read of one record: its words (title, body) and who said it (author, outlet). */
export interface GroundingRecord {
  title: string;
  text: string;
  author: string;
  /** The publication for news and blog records (the source's name), when known. */
  outlet?: string | null;
  platform: string;
}

export type FailureKind = 'quote' | 'number' | 'name' | 'uncited' | 'negation' | 'markup' | 'injection' | 'accusation' | 'entailment';

export interface FidelityFailure {
  kind: FailureKind;
  /** The quote, number or name as written (or the sentence, for negation, injection and entailment). */
  value: string;
  /** 'headline', 'dek' or 'paragraph N'. */
  where: string;
  /** Why, in words an editor can act on. */
  reason: string;
}

export interface ClaimCheckResult {
  /** Specifics checked (quotes, numbers, names, negations compared). */
  checks: number;
  failed: FidelityFailure[];
}

// ---------------------------------------------------------------------------------------------------------------
// Text normalisation

const normalise = (s: string) =>
  s
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[’‘‛′`´]/g, "'")
    .replace(/[“”„‟«»″]/g, '"')
    .replace(/[‐‑‒–—―]/g, '-')
    .replace(/\u00a0/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function containsPhrase(haystack: string, phrase: string): boolean {
  const p = normalise(phrase);
  if (!p) return true;
  return new RegExp(`(?<![\\p{L}\\p{N}])${escapeRegExp(p)}(?![\\p{L}\\p{N}])`, 'u').test(normalise(haystack));
}

// ---------------------------------------------------------------------------------------------------------------
// Quotes, in every style

export interface Span {
  start: number;
  end: number;
  /** The quoted words, without the marks. */
  inner: string;
}

const QUOTE_PATTERNS: RegExp[] = [
  /“([^“”\n]+)”/g,
  /„([^„“”\n]+)[“”]/g,
  /«\s?([^«»\n]+?)\s?»/g,
  /‹\s?([^‹›\n]+?)\s?›/g,
  /「([^「」\n]+)」/g,
  /"([^"\n]+)"/g,
  // Single quotes: an apostrophe inside a word ("isn’t") neither opens nor closes one.
  /(?<![\p{L}\p{N}])‘(?=\S)((?:[^‘’\n]|’(?=[\p{L}\p{N}]))+?)’(?![\p{L}\p{N}])/gu,
  /(?<![\p{L}\p{N}])'(?=\S)((?:[^'\n]|'(?=[\p{L}\p{N}]))+?)'(?![\p{L}\p{N}])/gu,
  /(?<![\p{L}\p{N}])‚(?=\S)([^‚‘’\n]+?)[‘’](?![\p{L}\p{N}])/gu,
];

/** Quoted spans, outermost only, in order. */
export function findQuotes(text: string): Span[] {
  const spans: Span[] = [];
  for (const pattern of QUOTE_PATTERNS) {
    for (const m of text.matchAll(pattern)) {
      const inner = m[1].trim();
      if (/[\p{L}\p{N}]/u.test(inner)) spans.push({ start: m.index, end: m.index + m[0].length, inner });
    }
  }
  spans.sort((a, b) => a.start - b.start || b.end - a.end);
  const outer: Span[] = [];
  for (const span of spans) if (!outer.some((o) => span.start < o.end && span.end > o.start)) outer.push(span);
  return outer;
}

/** A quote is verbatim in one field: each piece between ellipses, in order. */
function quoteFoundIn(quote: string, field: string): boolean {
  // Verbatim in the text as posted, or in it with Markdown markers taken out (the words are the same).
  return quoteFoundInText(quote, field) || quoteFoundInText(quote, cleanPostText(field));
}

function quoteFoundInText(quote: string, field: string): boolean {
  const haystack = normalise(field);
  const pieces = normalise(quote)
    .split(/\s*(?:\[\s*(?:\.\.\.|…)\s*\]|\.\.\.|…)\s*/)
    .map((p) => p.replace(/^[\s,;:.!?"'()-]+|[\s,;:.!?"'()-]+$/g, ''))
    .filter(Boolean);
  let from = 0;
  for (const piece of pieces) {
    const at = haystack.indexOf(piece, from);
    if (at < 0) return false;
    from = at + piece.length;
  }
  return pieces.length > 0;
}

// ---------------------------------------------------------------------------------------------------------------
// Numbers, with unit and magnitude

export interface NumberClaim {
  start: number;
  end: number;
  /** As written, with its unit ("$38 billion", "4.2 dollars", "Nine"). */
  text: string;
  value: number;
  /** '%', a currency ('$', '€', '£', '¥'), or null. */
  unit: string | null;
}

const CURRENCY_WORDS: Record<string, string> = {
  dollar: '$',
  dollars: '$',
  usd: '$',
  euro: '€',
  euros: '€',
  eur: '€',
  pound: '£',
  pounds: '£',
  gbp: '£',
  yen: '¥',
};
const MAGNITUDE_SUFFIX: Record<string, number> = { k: 1e3, m: 1e6, mn: 1e6, b: 1e9, bn: 1e9, t: 1e12 };
/** Spelled-out words that are grammar more than specifics ("one commenter", "half the thread", "the first"). */
const VAGUE_WORDS = /^(one|a|an|half|quarter|third|first|second|third|fourth|fifth|last|zero|none|single|once|twice|couple)$/i;

const numberCache = new Map<string, NumberClaim[]>();

/** Every number in a text, as compromise reads it, with unit and magnitude (memoised: records are read many times). */
export function findNumbers(text: string): NumberClaim[] {
  if (
    !/[0-9]|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand|million|billion|trillion|dozen)\b/i.test(
      text,
    )
  )
    return [];
  const cached = numberCache.get(text);
  if (cached) return cached;
  const found = parseNumbers(text);
  if (numberCache.size > 5000) numberCache.clear();
  numberCache.set(text, found);
  return found;
}

function parseNumbers(text: string): NumberClaim[] {
  const out: NumberClaim[] = [];
  const doc = nlp(text);
  const found = doc.numbers().json({ offset: true }) as Array<{
    text: string;
    offset: { start: number; length: number };
    number: { num: number; prefix: string; suffix: string; unit: string };
    terms: Array<{ text: string; tags: string[]; pre: string; post: string }>;
  }>;
  for (const n of found) {
    const start = n.offset.start;
    const raw = text.slice(start, start + n.offset.length);
    const textual = n.terms.every((t) => t.tags.includes('TextValue'));
    // "353 of 4,100" is two numbers, not the fraction compromise makes of it.
    const parts = /^\s*[\d.,]+\s+(?:of|out of|in)\s+[\d.,]+/.test(raw) ? raw.split(/\s+(?:of|out of|in)\s+/) : null;
    if (parts) {
      let cursor = start;
      for (const part of parts) {
        const at = text.indexOf(part, cursor);
        const value = Number(part.replace(/[^\d.]/g, ''));
        if (Number.isFinite(value)) out.push({ start: at, end: at + part.length, text: part.trim(), value, unit: null });
        cursor = at + part.length;
      }
      continue;
    }
    // "a second reading", "the first", "half the thread": grammar, even where compromise reads a fraction.
    if ((textual || !/\d/.test(raw)) && n.terms.every((t) => VAGUE_WORDS.test(t.text) || t.tags.includes('Ordinal')) && !n.number.unit) continue;
    if (textual && n.terms.some((t) => t.tags.includes('Ordinal'))) continue;
    let value = n.number.num;
    if (!Number.isFinite(value)) continue;
    const lead = n.terms[0];
    const before = text.slice(Math.max(0, start - 1), start);
    const symbol = (n.number.prefix || lead.pre.trim().slice(-1) || before).match(/[$€£¥]/)?.[0] ?? raw.match(/^[$€£¥]/)?.[0] ?? null;
    const suffix = n.number.suffix.toLowerCase();
    const unitWord = n.number.unit.toLowerCase();
    let unit: string | null = null;
    if (suffix === '%' || /^(percent|per cent|pct|percentage points?)$/.test(unitWord) || /%|percent|per cent/.test(raw)) unit = '%';
    else if (symbol) unit = symbol;
    else if (CURRENCY_WORDS[unitWord]) unit = CURRENCY_WORDS[unitWord];
    const magnitude = MAGNITUDE_SUFFIX[suffix] ?? MAGNITUDE_SUFFIX[unitWord];
    if (magnitude) value *= magnitude;
    // Years, counts and the like are exact; a number compromise rounded (fractions) is compared loosely below.
    let end = start + n.offset.length;
    const unitAfter = new RegExp(`^\\s*${escapeRegExp(n.number.unit)}`, 'i').exec(text.slice(end));
    if (n.number.unit && unitAfter && !raw.toLowerCase().includes(unitWord)) end += unitAfter[0].length;
    const display = text
      .slice(start, end)
      .replace(/^[\s(]+|[\s),.;:!?]+$/g, '')
      .replace(/\s+a$/, '');
    out.push({ start, end, text: display || raw.trim(), value, unit });
  }
  return out;
}

const NUMBER_WORD =
  /\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand|million|billion|trillion|dozen|half|percent)\b/i;
const sentenceCache = new Map<string, string[]>();

function sentencesOf(text: string): string[] {
  let sentences = sentenceCache.get(text);
  if (!sentences) {
    sentences = text.split(/(?<=[.!?])\s+|\n+/).filter((s) => s.trim());
    if (sentenceCache.size > 5000) sentenceCache.clear();
    sentenceCache.set(text, sentences);
  }
  return sentences;
}

/**
 * Does a field hold this number, with its unit? Only the sentences that could (they hold the claim's digits, or
 * number words) go through compromise: parsing whole records is what made the check slow.
 */
function numberFoundIn(claim: NumberClaim, field: string): boolean {
  const digits = /\d[\d,]*(?:\.\d+)?/.exec(claim.text)?.[0].replace(/,/g, '') ?? null;
  const leading = digits ?? String(claim.value).replace(/e\+?\d+$/, '');
  for (const sentence of sentencesOf(field)) {
    const plain = sentence.replace(/(\d),(?=\d{3})/g, '$1');
    if (
      !plain.includes(leading.replace(/\.0+$/, '')) &&
      !(NUMBER_WORD.test(sentence) && !digits) &&
      !(digits && NUMBER_WORD.test(sentence) && /million|billion|thousand|trillion|percent/i.test(sentence))
    )
      continue;
    if (findNumbers(sentence).some((n) => sameNumber(n.value, claim.value) && (claim.unit === null || n.unit === claim.unit))) return true;
  }
  return false;
}

function sameNumber(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
}

// ---------------------------------------------------------------------------------------------------------------
// Names of people and organisations

/** Capitalised words that are grammar or ours, never a claim. */
const COMMON = new Set(
  `the this that these those there their they then when where while what which who whom whose why how some many most other others
another one two three four five several both each every meanwhile however still yet but and or nor not also on in at by for from
between among after before during over under it its he she his her hers we our you your i a an as if so to of with without
according across against along around because despite since though although unless until upon via within
monday tuesday wednesday thursday friday saturday sunday january february march april may june july august september october
november december today yesterday tomorrow week weekend offline broadsheet commenters commenter users user posters poster critics
critic supporters supporter skeptics sceptics members readers reader people developers developer researchers researcher many much
few no yes others here elsewhere ai api apis gpu gpus cpu llm llms ml us uk eu ceo faq ok url op ops tl;dr dr mr mrs ms st`.split(/\s+/),
);

/** Platform names a narrative may always use. */
const PLATFORMS = ['Reddit', 'Hacker News', 'HN', 'Bluesky', 'Mastodon', 'the Fediverse', 'Fediverse'];
const HONORIFICS = /^(Dr|Mr|Mrs|Ms|Prof|St|Sen|Rep|Gov|Gen|Sr|Jr)\.$/;

export interface NameClaim {
  start: number;
  end: number;
  text: string;
}

const WORD = String.raw`(?:\p{Lu}[\p{L}\p{N}&'’.-]*[\p{L}\p{N}]|\p{Lu}\.?|(?:Dr|Mr|Mrs|Ms|Prof|St|Sen|Rep|Gov)\.)`;
const NAME_SEQUENCE = new RegExp(String.raw`(?<![\p{L}\p{N}/@.#_-])${WORD}(?:(?:\s+|\s+(?:of|de|del|la|le|von|van|der|du|&|and)\s+)${WORD})*`, 'gu');

/** Is the offset at the start of a sentence (or of the text)? */
function sentenceStartAt(text: string, index: number): boolean {
  const before = text.slice(0, index).replace(/[\s"“”‘’'«»„(—–-]+$/u, '');
  if (before === '') return true;
  if (/[!?:;]$/.test(before)) return true;
  if (!before.endsWith('.')) return false;
  const lastWord = /(\S+)$/.exec(before)?.[1] ?? '';
  return !HONORIFICS.test(lastWord);
}

/**
 * Proper names in a text (outside quotes): runs of capitalised words, with leading grammar words dropped. A
 * lone capitalised word opening a sentence is a name when compromise tags it as one, when the records or the
 * narrative use it capitalised mid-sentence, or when it is an unknown singular word that never appears in lower case.
 */
export function findNames(text: string, vocabulary: { capitalised: Set<string>; lowercase: Set<string> }): NameClaim[] {
  // A possessive ends a name: "Quillfeather’s Larchmont-70B" is two names (same length, so offsets hold).
  const masked = maskQuotes(text).replace(/(?<=[\p{L}\p{N}])['’]s\b/gu, '; ');
  const names: NameClaim[] = [];
  for (const m of masked.matchAll(NAME_SEQUENCE)) {
    let words = m[0].split(/(\s+)/);
    let start = m.index;
    // Drop leading grammar words ("On", "The", "Meanwhile") and possessive endings.
    while (
      words.length &&
      (COMMON.has(words[0].toLowerCase().replace(/['’]s$/, '')) || /^\s+$/.test(words[0]) || /^(of|de|del|la|le|von|van|der|du|&|and)$/.test(words[0]))
    ) {
      start += words[0].length;
      words = words.slice(1);
    }
    while (words.length && (/^\s+$/.test(words[words.length - 1]) || /^(of|de|del|la|le|von|van|der|du|&|and)$/.test(words[words.length - 1])))
      words = words.slice(0, -1);
    if (!words.length) continue;
    let name = words
      .join('')
      .replace(/['’]s?$/, '')
      .replace(/\.$/, (dot) => (HONORIFICS.test(words[words.length - 1]) ? dot : ''));
    const tokens = name.split(/\s+/);
    if (tokens.every((t) => COMMON.has(t.toLowerCase()) || HONORIFICS.test(t))) continue;
    // A platform, or platforms joined by "and" ("Mastodon and Bluesky"), is free.
    if (name.split(/\s+(?:and|&)\s+/).every((part) => PLATFORMS.some((p) => p.toLowerCase() === part.toLowerCase()))) continue;
    if (tokens.length === 1 && sentenceStartAt(masked, start) && !looksLikeName(name, masked, start, vocabulary)) continue;
    if (/^\p{Lu}\.?$/u.test(name)) continue;
    name = name.trim();
    names.push({ start, end: start + name.length, text: name });
  }
  return names;
}

function looksLikeName(word: string, text: string, start: number, vocabulary: { capitalised: Set<string>; lowercase: Set<string> }): boolean {
  if (/\p{N}/u.test(word) || /^\p{Lu}{2,}$/u.test(word)) return true; // Larchmont-70B, QCL
  const sentence = text.slice(start).split(/(?<=[.!?])\s/)[0];
  const term = (nlp(sentence).json()[0]?.terms?.[0] ?? { tags: [] }) as { tags: string[] };
  const tags = new Set(term.tags);
  if (['Person', 'Organization', 'Place', 'ProperNoun'].some((t) => tags.has(t))) return true;
  if (vocabulary.capitalised.has(word)) return true;
  const lower = word.toLowerCase();
  if (vocabulary.lowercase.has(lower)) return false;
  const known = (nlp.model() as { one: { lexicon: Record<string, unknown> } }).one.lexicon[lower] !== undefined;
  const grammatical = ['Verb', 'Adjective', 'Adverb', 'Plural', 'Pronoun', 'Determiner', 'Preposition', 'Conjunction', 'Value', 'QuestionWord', 'Date'].some(
    (t) => tags.has(t),
  );
  return !known && !grammatical;
}

/** Replaces quoted spans with spaces (same length), so offsets still line up. */
function maskQuotes(text: string): string {
  let out = text;
  for (const q of findQuotes(text)) out = out.slice(0, q.start) + ' '.repeat(q.end - q.start) + out.slice(q.end);
  return out;
}

/** Words used capitalised mid-sentence, and words used in lower case, across some texts. */
export function vocabularyOf(texts: string[]): { capitalised: Set<string>; lowercase: Set<string> } {
  const capitalised = new Set<string>();
  const lowercase = new Set<string>();
  for (const text of texts) {
    for (const m of text.matchAll(/(?<![\p{L}\p{N}])[\p{L}][\p{L}'’-]*/gu)) {
      const word = m[0].replace(/['’]s$/, '');
      if (/^\p{Ll}/u.test(word)) lowercase.add(word.toLowerCase());
      else if (!sentenceStartAt(text, m.index)) capitalised.add(word);
    }
  }
  return { capitalised, lowercase };
}

function nameFoundIn(name: string, record: GroundingRecord): boolean {
  // "Yusuf Penhaligon of The Signal": found whole, or each of its names whole.
  const parts = name.split(/\s+(?:of|and|&)\s+/);
  if (parts.length > 1 && parts.every((part) => nameFoundIn(part, record))) return true;
  const bare = name.replace(/^(Dr|Mr|Mrs|Ms|Prof)\.?\s+/, '');
  const fields = [record.title, record.text, record.author, record.outlet ?? ''];
  return fields.some((field) => containsPhrase(field, name) || containsPhrase(field, bare) || containsPhrase(field, name.replace(/^The\s+/, '')));
}

// ---------------------------------------------------------------------------------------------------------------
// Negation: a lexical polarity check (the optional entailment judge covers what this can't see)

const NEGATION =
  /\b(?:not|no|never|nobody|none|nothing|neither|nor|without|cannot|denied|denies|deny|denying|refused|refuses|refuse|declined|declines|decline|failed to|fails to|rejected|rejects)\b|n['’]t\b/i;
const STOP = new Set(
  `a an the and or but if so to of in on at by for from with as is are was were be been being it its this that these those there
their they them he she his her we our you your i me my said says say wrote writes write added adds argued argues noted notes
called calls did does do done had has have having will would should could can may might must just also about into than then
which who whom what when where while how some many most more other such very over under after before`.split(/\s+/),
);

const stem = (w: string) => w.replace(/(ing|ed|es|s|e)$/, '');

function contentStems(text: string): Set<string> {
  return new Set((normalise(text).match(/[\p{L}\p{N}][\p{L}\p{N}'-]*/gu) ?? []).filter((w) => w.length > 2 && !STOP.has(w) && !NEGATION.test(w)).map(stem));
}

const clauses = (text: string) =>
  text
    .split(/\n+|[.;:!?,]+(?:\s|$)|[.;:!?,]+(?=["”’»)])|\s[-–—]\s|\b(?:but|yet|although|though|whereas)\b/i)
    .map((c) => c.trim())
    .filter(Boolean);

/** A narrative clause whose closest clause in the cited records has the opposite polarity. */
function polarityMismatch(sentence: string, records: GroundingRecord[]): string | null {
  // Verbatim quotes are checked on their own: a "not" inside one is the source's own word, so only the narrative's
  // framing is compared.
  for (const clause of clauses(maskQuotes(sentence))) {
    const mine = contentStems(clause);
    if (mine.size < 2) continue;
    let best: { clause: string; overlap: number } | null = null;
    for (const record of records) {
      for (const theirs of clauses(`${record.title}. ${record.text}`)) {
        const stems = contentStems(theirs);
        let overlap = 0;
        for (const s of mine) if (stems.has(s)) overlap++;
        if (!best || overlap > best.overlap) best = { clause: theirs, overlap };
      }
    }
    if (!best || best.overlap < 2 || best.overlap / mine.size < 0.5) continue;
    if (NEGATION.test(clause) !== NEGATION.test(best.clause)) return best.clause;
  }
  return null;
}

// ---------------------------------------------------------------------------------------------------------------
// Markup

const MARKUP: Array<[RegExp, string]> = [
  [/\*\*[^*]+\*\*|__[^_]+__|(?<![\p{L}\p{N}*])\*[^*\s][^*]*\*(?![\p{L}\p{N}*])/u, 'Markdown emphasis'],
  [/(?:^|\n)\s*#{1,6}\s/, 'a Markdown heading'],
  [/(?:^|\n)\s*(?:[-*+•]|\d{1,2}[.)])\s+\S/, 'a list item'],
  [/\s[•▪◦]\s/, 'a flattened list'],
  [/\[[^\]]+\]\([^)]*\)/, 'a Markdown link'],
  [/\bhttps?:\/\/|\bwww\.[a-z0-9-]+\./i, 'a link'],
  [/<\/?[a-z][a-z0-9-]*(?:\s[^>]*)?>/i, 'an HTML tag'],
  [/`[^`]+`/, 'code formatting'],
];

export function findMarkup(text: string): string | null {
  for (const [pattern, label] of MARKUP) if (pattern.test(text)) return label;
  return null;
}

// ---------------------------------------------------------------------------------------------------------------
// The check

export interface CheckedSegment {
  text: string;
  /** Indices into `records` this segment cites. */
  cites: number[];
}

/**
 * Checks one narrative. Segments are the runs of text with their citations; a segment with no citation of its own
 * leans on the citations of the segments its sentence continues into (so "According to Mara Lind, " is checked
 * against the record cited at the end of that sentence). Headline and dek are checked against every record.
 */
export function checkClaims(input: {
  headline: string;
  dek: string;
  paragraphs: CheckedSegment[][];
  records: GroundingRecord[];
  /** Record index → the citation number the narrative shows for it ([n]), which reasons name. */
  markers: ReadonlyMap<number, number>;
}): ClaimCheckResult {
  const failed: FidelityFailure[] = [];
  let checks = 0;
  const all = input.records;
  const narrativeTexts = [input.headline, input.dek, ...input.paragraphs.map((p) => p.map((s) => s.text).join(''))];
  const vocabulary = vocabularyOf([...all.flatMap((r) => [r.title, r.text]), ...narrativeTexts.slice(2)]);

  const fail = (kind: FailureKind, value: string, where: string, reason: string) => failed.push({ kind, value, where, reason });

  const checkText = (text: string, where: string, records: GroundingRecord[] | null, scope: string, titleCase = false) => {
    const markup = findMarkup(text);
    if (markup) fail('markup', text.trim().slice(0, 80), where, `contains ${markup}; narratives are plain prose`);
    if (records === null) {
      // No citation anywhere in the sentence: any specific fails.
      const specifics = [
        ...findQuotes(text).map((q) => q.inner),
        ...findNumbers(maskQuotes(text)).map((n) => n.text),
        ...findNames(text, vocabulary).map((n) => n.text),
      ];
      for (const value of specifics) {
        checks++;
        fail('uncited', value, where, 'a specific with no citation in its sentence');
      }
      return;
    }
    for (const quote of findQuotes(text)) {
      checks++;
      if (!records.some((r) => quoteFoundIn(quote.inner, r.title) || quoteFoundIn(quote.inner, r.text))) {
        fail('quote', quote.inner, where, `not verbatim in the title or text of ${scope}`);
      }
    }
    const masked = maskQuotes(text);
    for (const number of findNumbers(masked)) {
      checks++;
      const ok = records.some((r) => numberFoundIn(number, r.title) || numberFoundIn(number, r.text));
      if (!ok) {
        const unit = number.unit ? ` as ${number.unit === '%' ? 'a percentage' : `an amount in ${number.unit}`}` : '';
        fail('number', number.text, where, `${number.value}${unit} is not in the title or text of ${scope}`);
      }
    }
    const names = titleCase ? titleCaseWords(text, vocabulary) : findNames(text, vocabulary);
    for (const name of names) {
      checks++;
      if (!records.some((r) => nameFoundIn(name.text, r))) fail('name', name.text, where, `not found whole in ${scope}`);
    }
  };

  checkText(input.headline, 'headline', all, 'any record given to the writer', isTitleCase(input.headline));
  checkText(input.dek, 'dek', all, 'any record given to the writer');

  input.paragraphs.forEach((segments, p) => {
    const where = `paragraph ${p + 1}`;
    const effective = leanCitations(segments);
    segments.forEach((segment, s) => {
      const cites = effective[s];
      const records = cites.length ? cites.map((i) => all[i]).filter(Boolean) : null;
      checkText(segment.text, where, records, cites.length === 1 ? `the record it cites [${input.markers.get(cites[0])}]` : 'the records it cites');
      if (records && segment.cites.length) {
        checks++;
        const against = polarityMismatch(segment.text, records);
        if (against) fail('negation', segment.text.trim(), where, `the cited record has the opposite polarity: "${against.slice(0, 160)}"`);
      }
    });
  });
  return { checks, failed };
}

/** Each segment's citations, or those of the neighbours its sentence runs into when it has none. */
function leanCitations(segments: CheckedSegment[]): number[][] {
  const endsSentence = (text: string) => /[.!?]["”’»)]*\s*$/.test(text);
  return segments.map((segment, i) => {
    if (segment.cites.length) return segment.cites;
    const out: number[] = [];
    for (let j = i + 1; j < segments.length; j++) {
      if (endsSentence(segments[j - 1].text)) break;
      if (segments[j].cites.length) {
        out.push(...segments[j].cites);
        break;
      }
    }
    for (let j = i - 1; j >= 0 && !out.length; j--) {
      if (endsSentence(segments[j].text)) break;
      if (segments[j].cites.length) out.push(...segments[j].cites);
      if (out.length) break;
    }
    return out;
  });
}

function isTitleCase(text: string): boolean {
  const words = text.split(/\s+/).filter((w) => /^\p{L}/u.test(w) && w.length > 3);
  return words.length >= 3 && words.filter((w) => /^\p{Lu}/u.test(w)).length / words.length >= 0.6;
}

/** In a Title Case headline every word is capitalised: check the unusual ones, one by one. */
function titleCaseWords(text: string, vocabulary: { capitalised: Set<string>; lowercase: Set<string> }): NameClaim[] {
  const out: NameClaim[] = [];
  const masked = maskQuotes(text);
  for (const m of masked.matchAll(/(?<![\p{L}\p{N}])\p{Lu}[\p{L}\p{N}'’-]*/gu)) {
    const word = m[0].replace(/['’]s$/, '');
    if (COMMON.has(word.toLowerCase()) || vocabulary.lowercase.has(word.toLowerCase()) || PLATFORMS.includes(word)) continue;
    if ((nlp.model() as { one: { lexicon: Record<string, unknown> } }).one.lexicon[word.toLowerCase()] !== undefined && !vocabulary.capitalised.has(word))
      continue;
    out.push({ start: m.index, end: m.index + word.length, text: word });
  }
  return out;
}
