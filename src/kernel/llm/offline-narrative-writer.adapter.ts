import nlp from './nlp';
import { FRAMING, issuePhrases, pointOf, readVoice, rebuts, threadTitle, type VoiceReading } from './offline-voices';
import { cleanPostText } from './post-text';
import {
  NarrativeWriter,
  templateIntro,
  type DraftSegment,
  type IntroBrief,
  type IntroDraft,
  type NarrativeBrief,
  type NarrativeDraft,
  type WriterDocument,
} from './narrative-writer.port';

const PLATFORM_NAMES: Record<string, string> = {
  reddit: 'Reddit',
  hackernews: 'Hacker News',
  bluesky: 'Bluesky',
  mastodon: 'Mastodon',
  news: 'a news site',
  blog: 'a blog',
};

export { cleanPostText } from './post-text';

const WEEKDAY = new Intl.DateTimeFormat('en-GB', { weekday: 'long', timeZone: 'UTC' });

export function platformName(platform: string): string {
  return PLATFORM_NAMES[platform] ?? platform;
}

const ABBREVIATIONS = new Set([
  'st',
  'dr',
  'mr',
  'mrs',
  'ms',
  'prof',
  'sen',
  'rep',
  'gov',
  'gen',
  'jr',
  'sr',
  'inc',
  'ltd',
  'co',
  'corp',
  'vs',
  'etc',
  'e.g',
  'i.e',
  'no',
  'vol',
  'fig',
  'approx',
  'u.s',
  'u.k',
]);

/** Sentences of a text (not fooled by "St." or "Dr." or "4.2%"). */
export function sentencesOf(text: string): string[] {
  // A line break ends a sentence too: list items and paragraphs never run into each other.
  return text.split(/\n+/).flatMap(sentencesOfLine);
}

function sentencesOfLine(text: string): string[] {
  const clean = text.replace(/\s+/g, ' ').trim();
  const out: string[] = [];
  let from = 0;
  for (const match of clean.matchAll(/[.!?]+["”’)]?(?=\s|$)/g)) {
    const index = match.index;
    const word = /([A-Za-z.]+)$/.exec(clean.slice(from, index))?.[1].toLowerCase() ?? '';
    if (match[0].startsWith('.') && (ABBREVIATIONS.has(word) || /^[a-z]$/.test(word))) continue;
    const sentence = clean.slice(from, index + match[0].length).trim();
    if (sentence) out.push(sentence);
    from = index + match[0].length;
  }
  const rest = clean.slice(from).trim();
  if (rest) out.push(rest);
  return out;
}

/** First sentence of a text, cut at a word boundary. */
export function firstSentence(text: string, max = 220): string {
  const [first = ''] = sentencesOf(text);
  return first.length > max ? `${first.slice(0, max).replace(/\s+\S*$/, '')}…` : first;
}

const REVERSAL = /^(?:but|however|yet|still|no[,.]|not\b|it isn['’]t|it is not|that['’]s not|that is not|actually|except|unless|although|though|wrong|nope)/i;
const LEANS_BACK = /^(?:it|this|that|they|he|she|these|those|which|so|and|also|then)\b/i;

/** A sentence that carries a point: a rebuttal, an evaluation, a reason, a contrast. */
const POINTED =
  /\b(?:because|since|so that|which means|but|not|isn['’]t|than people think|the real|the hard part|matters|is the|is a|should|must|absurd|right|wrong|good|works)\b/i;

/**
 * The sentence (or two) of a post that best carries its point, as a complete thought: never cut before a reversal
 * ("People keep saying X." is followed by "It isn't."), never a fragment that leans on a sentence left out, never
 * more than two sentences, and never the whole of a post of three sentences or more.
 */
export function keyQuote(text: string, topic: Set<string>, max = 200): string | null {
  const sentences = sentencesOf(cleanPostText(text)).filter((s) => s.trim());
  if (!sentences.length) return null;
  const hasFullSentences = sentences.some((s) => /[.!?]["”’)]?$/.test(s) && s.length >= 20);
  const quotable = (s: string) =>
    (!hasFullSentences || /[.!?]["”’)]?$/.test(s)) &&
    s.length >= 12 &&
    !s.endsWith(':') &&
    !/^#/.test(s) &&
    !(/^\p{Ll}/u.test(s) && !/^(?:i|e\.g|i\.e)\b/.test(s)) &&
    !/^\d+[.)]\s/.test(s);
  let best = -1;
  let bestScore = -Infinity;
  sentences.forEach((s, i) => {
    // A fragment that starts mid-thought ("most common: …"), a numbered list item or a hashtag run is not quotable.
    if (!quotable(s)) return;
    const words = s.toLowerCase().match(/[\p{L}\p{N}-]+/gu) ?? [];
    const onTopic = words.filter((w) => topic.has(w)).length;
    let score =
      Math.min(onTopic, 4) * 1.2 +
      Math.min(words.length, 25) / 10 -
      (s.endsWith('?') ? 3 : 0) -
      (s.length > max ? 4 : 0) -
      i * 0.15 +
      (POINTED.test(s) ? 1.5 : 0) +
      pointOf(s) * 1.5 -
      // A list item (no full stop) is a fragment, and a preamble ("Dropped…", "I've read…") is not the point.
      (/[.!?]["”’)]?$/.test(s) ? 0 : 2) -
      (/^(?:dropped|posting|i['’]ve read|i['’]m an?|primary care doc|physician here|compliance person here|ed physician)\b/i.test(s) ? 4 : 0);
    if (/\d/.test(s)) score += 0.5;
    if (words.length < 5) score -= 2;
    if (score > bestScore) [best, bestScore] = [i, score];
  });
  if (best < 0) return null;
  let start = best;
  let end = best;
  // A reversal or a pronoun opener needs the sentence before it; a short reversal after it belongs to it.
  if (start > 0 && (REVERSAL.test(sentences[start]) || LEANS_BACK.test(sentences[start])) && quotable(sentences[start - 1])) start--;
  else if (end + 1 < sentences.length && (REVERSAL.test(sentences[end + 1]) || (sentences[end + 1].length < 40 && LEANS_BACK.test(sentences[end + 1])))) end++;
  const whole = start === 0 && end === sentences.length - 1 && sentences.length >= 3;
  let quote = stripHashtags(sentences.slice(start, end + 1).join(' '));
  if (quote.length > max + 60 || whole) {
    // Too long as a whole: fall back to the single best sentence, if it stands alone.
    quote = stripHashtags(sentences[best]);
    if (quote.length > max + 60 || REVERSAL.test(quote) || LEANS_BACK.test(quote)) return null;
  }
  return quote;
}

interface Voice {
  doc: WriterDocument;
  index: number;
  quote: string;
  reading: VoiceReading;
  /** The issue this voice is grouped under (a phrase found in its quote), if any. */
  issue: string | null;
}

/** How the story is built: by what the storyline has, not by chance. */
type Shape = 'split' | 'consensus' | 'reaction' | 'thread';

const VERBS: Record<'rebuts' | 'objects' | 'approves' | 'neutral', string[]> = {
  rebuts: ['pushed back', 'countered', 'objected'],
  objects: ['objected', 'was critical', 'was unconvinced'],
  approves: ['approved', 'welcomed it', 'was satisfied'],
  neutral: ['wrote', 'noted', 'pointed out', 'observed'],
};

/**
 * Composes an extractive narrative from the records themselves, with no model. The latest reported development
 * leads (headline from the newest report), earlier developments follow in order, then what people say, grouped by
 * the issue they talk about (a phrase their own words share), each voice quoted verbatim as a complete thought of a
 * sentence or two and attributed to author, outlet and platform. Disagreement is told only where a record shows it:
 * a rebuttal in the record's own words, a reply in a thread that contests, or an explicit objection and an explicit
 * approval of the same issue; the reason a voice gives is quoted with it. The shape follows the storyline: a split,
 * a consensus, a reaction to news, or a single thread. The dek says what the conversation is about and where it
 * divides. The draft is labelled as offline once, by the narratives module's disclosure line, not in the text.
 */
export class OfflineNarrativeWriter extends NarrativeWriter {
  readonly name = 'offline' as const;

  writeIntro(brief: IntroBrief): Promise<IntroDraft> {
    return Promise.resolve({ intro: templateIntro(brief), writer: 'offline', model: null, usage: null });
  }

  async write(brief: NarrativeBrief): Promise<NarrativeDraft> {
    const docs = brief.documents.map((doc, index) => ({ doc, index }));
    if (docs.length === 0) throw new Error('cannot write a narrative from no documents');
    const topic = topicWords(brief);
    const seed = seedOf(brief.topic + brief.documents.length);
    const newestFirst = [...docs].sort((a, b) => b.doc.publishedAt.getTime() - a.doc.publishedAt.getTime() || a.index - b.index);
    // News leads (the latest reported development); a blog only when there is no news; then a titled link post.
    const news = newestFirst.filter(({ doc }) => doc.title && doc.platform === 'news');
    const blogs = newestFirst.filter(({ doc }) => doc.title && doc.platform === 'blog');
    // A report of what happened leads; an explainer or opinion title ("why…", "what … means", a question) does not.
    const analysis = (doc: WriterDocument) => /^(?:why|what|how)\b|\b(?:why|explainer|means for|analysis)\b|\?|:\s*(?:why|what|how)\b/i.test(doc.title);
    const reports = [...(news.length ? news : blogs)].sort((a, b) => Number(analysis(a.doc)) - Number(analysis(b.doc)));
    // A thread starter: a titled post others reply to.
    const starters = [...docs]
      .filter(({ doc }) => doc.title && !threadTitle(doc) && (doc.platform === 'hackernews' || doc.platform === 'reddit'))
      .sort((a, b) => repliesTo(docs, b.doc) - repliesTo(docs, a.doc) || a.doc.publishedAt.getTime() - b.doc.publishedAt.getTime());
    const lead = reports[0] ?? starters[0] ?? newestFirst[0];
    const isReport = lead.doc.platform === 'news' || lead.doc.platform === 'blog';

    const paragraphs: DraftSegment[][] = [];
    const leadText = cleanPostText(lead.doc.text);
    const leadSentences = sentencesOf(leadText).filter((s) => s.length >= 20 && !s.endsWith('?') && !s.endsWith(':'));
    const headline = clip(cleanPostText(lead.doc.title) || leadSentences[0] || firstSentence(leadText, 90), 140);

    // 1. The latest development, attributed: the report's own summary sentence.
    const who = sourceName(lead.doc);
    const when = WEEKDAY.format(lead.doc.publishedAt);
    const summary = leadSentences.find((s) => s.length >= 50 && s.length <= 260) ?? leadSentences.find((s) => s.length <= 300) ?? null;
    const opening: DraftSegment[] = [];
    if (isReport) {
      opening.push({ text: summary ? `${who} reported on ${when}: “${summary}”` : `${who} reported on ${when}.`, sources: [lead.index] });
      // A second sentence of the report that stands alone (with a verb: not "8B base model, LoRA rank 16, …").
      const detail = leadSentences.find((s) => s !== summary && s.length >= 40 && s.length <= 240 && !LEANS_BACK.test(s) && nlp(s).has('#Verb'));
      if (detail) opening.push({ text: ` The report adds: “${detail}”`, sources: [lead.index] });
    } else {
      const said = cleanPostText(lead.doc.title) || summary || firstSentence(leadText);
      opening.push({ text: `On ${when}, ${who} started a thread on ${platformName(lead.doc.platform)}: “${clip(said, 240)}”`, sources: [lead.index] });
      const body = leadText ? keyQuote(leadText, topic) : null;
      if (body && body !== said) opening.push({ text: ` ${pick(['The post went on:', 'The post said:'], seed)} “${body}”`, sources: [lead.index] });
    }
    paragraphs.push(opening);
    if (brief.previous) paragraphs[0].push({ text: ' The conversation picks up from last week’s coverage.', sources: [] });

    // 2. How it got here: earlier reports, oldest first, told as a sequence.
    // The first report always (the story "began" there), then the latest two before the lead.
    const byDate = reports
      .filter((r) => r.index !== lead.index && !analysis(r.doc))
      .sort((a, b) => a.doc.publishedAt.getTime() - b.doc.publishedAt.getTime() || a.index - b.index);
    const earlier = byDate.length <= 3 ? byDate : [byDate[0], ...byDate.slice(-2)];
    if (earlier.length) {
      const segments: DraftSegment[] = [];
      // Reports from one source in a row are told as one run ("Earlier in the week, The Ward Report reported “A” on
      // Tuesday and “B” on Thursday"), and a reporter already named is the outlet the second time: no author twice in a row.
      const named = new Set([lead.doc.author]);
      const whoOf = (doc: WriterDocument) => {
        const who = named.has(doc.author) && doc.outlet ? doc.outlet : sourceName(doc);
        named.add(doc.author);
        return who;
      };
      const runs: Array<typeof earlier> = [];
      for (const report of earlier) {
        const run = runs.at(-1);
        if (run && sourceName(run[0].doc) === sourceName(report.doc)) run.push(report);
        else runs.push([report]);
      }
      runs.forEach((run, r) => {
        const who = whoOf(run[0].doc);
        const titleOf = (doc: WriterDocument) => `“${clip(cleanPostText(doc.title), 200)}”`;
        const gap = r ? ' ' : '';
        if (run.length > 1) {
          segments.push({ text: `${gap}${r ? `${who} then reported` : `Earlier in the week, ${who} reported`} `, sources: [] });
          run.forEach(({ doc, index }, i) => {
            const joiner = i === 0 ? '' : i === run.length - 1 ? ' and ' : ', ';
            segments.push({ text: `${joiner}${titleOf(doc)} on ${WEEKDAY.format(doc.publishedAt)}${i === run.length - 1 ? '.' : ''}`, sources: [index] });
          });
          return;
        }
        const { doc, index } = run[0];
        const day = WEEKDAY.format(doc.publishedAt);
        const title = titleOf(doc);
        const text =
          r === 0
            ? pick([`It began on ${day}, when ${who} reported ${title}.`, `The first report came on ${day}: ${title}, from ${who}.`], seed)
            : r === runs.length - 1
              ? pick([`By ${day}, ${who} was reporting ${title}.`, `Then, on ${day}, ${who} reported ${title}.`], seed)
              : `On ${day} came ${title} (${who}).`;
        segments.push({ text: `${gap}${text}`, sources: [index] });
      });
      paragraphs.push(segments);
    }

    // 3. The voices: everyone discussing it (and opinion blogs), each read for its point, rebuttal, evaluation and reason.
    const voices: Voice[] = docs
      .filter(({ doc, index }) => index !== lead.index && doc.platform !== 'news' && !earlier.some((e) => e.index === index))
      .flatMap(({ doc, index }) => {
        const text = cleanPostText(doc.text);
        const quote = rebuttalQuote(text) ?? keyQuote(text, topic);
        if (!quote) return [];
        return [{ doc, index, quote, reading: readVoice(quote, sentencesOf(text)), issue: null as string | null }];
      })
      .sort((a, b) => a.doc.publishedAt.getTime() - b.doc.publishedAt.getTime() || a.index - b.index);
    // The storyline's own subject (in its headline, topic and report titles) is not an issue within it.
    const issues = groupByIssue(voices, [headline, brief.topic, ...reports.map((r) => r.doc.title)].join(' '));

    const rebuttals = voices.filter((v) => v.reading.rebuttal);
    const objectors = voices.filter((v) => v.reading.evaluation === 'objects');
    const approvers = voices.filter((v) => v.reading.evaluation === 'approves');
    // Opposite explicit evaluations of the same issue: a split the records show.
    const opposed = issues.find((issue) => objectors.some((v) => v.issue === issue) && approvers.some((v) => v.issue === issue)) ?? null;
    const shape: Shape = !isReport ? 'thread' : rebuttals.length || opposed ? 'split' : approvers.length >= 2 && !objectors.length ? 'consensus' : 'reaction';

    const used = new Set<number>();
    let lastAuthor = lead.doc.author;
    const say = (voice: Voice, verb: string, lead = ''): DraftSegment => {
      used.add(voice.index);
      lastAuthor = voice.doc.author;
      const name = attribution(voice.doc);
      const where = whereOf(voice.doc);
      const forms = lead
        ? [`${lead}${name} (${where}) ${verb}: “${voice.quote}”`]
        : [`${capitalise(name)} (${where}) ${verb}: “${voice.quote}”`, `On ${where}, ${name} ${verb}: “${voice.quote}”`];
      return { text: forms[(seed + used.size) % forms.length] + reasonText(voice), sources: [voice.index] };
    };
    const free = (v: Voice) => !used.has(v.index) && v.doc.author !== lastAuthor;

    // 4. Where it divides (a split): each rebuttal next to what it answers, when the thread shows it; or the
    // explicit objection and approval of one issue.
    if (shape === 'split') {
      const segments: DraftSegment[] = [];
      // Rebuttals that answer something earlier in their own thread come first.
      const answers = rebuttals.map((v) => {
        const thread = threadTitle(v.doc);
        const earlierInThread = thread
          ? docs.filter(({ doc }) => doc.author !== v.doc.author && doc.publishedAt < v.doc.publishedAt && sameThread(doc, thread)).reverse()
          : [];
        for (const a of earlierInThread) {
          const sentence = answeredSentence(v.reading.rebuttal ?? v.quote, a.doc, topic);
          if (sentence) return { voice: v, answered: { ...a, sentence } };
        }
        return { voice: v, answered: null };
      });
      answers.sort((x, y) => Number(!x.answered) - Number(!y.answered));
      for (const { voice, answered } of answers.slice(0, 2)) {
        if (used.has(voice.index) || voice.doc.author === lastAuthor) continue;
        const gap = segments.length ? ' ' : '';
        if (answered && answered.doc.author !== lastAuthor && !used.has(answered.index)) {
          used.add(answered.index);
          segments.push({
            text: `${gap}In a ${platformName(answered.doc.platform)} thread, ${attribution(answered.doc)} wrote: “${answered.sentence}”`,
            sources: [answered.index],
          });
          used.add(voice.index);
          lastAuthor = voice.doc.author;
          segments.push({ text: ` Later in the thread, ${attribution(voice.doc)} pushed back: “${voice.quote}”${reasonText(voice)}`, sources: [voice.index] });
        } else {
          const said = say(voice, pick(VERBS.rebuts, seed, segments.length));
          segments.push({ ...said, text: `${gap}${said.text}` });
        }
      }
      if (opposed) {
        const o = objectors.find((v) => v.issue === opposed && free(v));
        const a = approvers.find((v) => v.issue === opposed && free(v) && v.doc.author !== o?.doc.author);
        if (o && a) {
          segments.push(say(o, 'objected', `${segments.length ? ' ' : ''}On ${opposed}, the reactions went opposite ways: `));
          const approval = say(a, 'approved');
          segments.push({ ...approval, text: ` ${approval.text}` });
        }
      }
      if (segments.length) {
        paragraphs.push([
          { text: `${pick(['Not everyone read it the same way.', 'There was real disagreement.', 'Some of it was argument.'], seed)} `, sources: [] },
          ...segments.map((s, i) => (i === 0 ? { ...s, text: s.text.trimStart() } : s)),
        ]);
      }
    }

    // 5. What people say, issue by issue (the largest first), then the rest.
    for (const issue of [...issues, null]) {
      if (paragraphs.length >= 7) break;
      const members = voices.filter((v) => v.issue === issue && !used.has(v.index));
      const chosen: Voice[] = [];
      for (const v of members) {
        if (chosen.length >= 3) break;
        if (v.doc.author === (chosen.at(-1)?.doc.author ?? lastAuthor) || chosen.some((c) => c.doc.author === v.doc.author)) continue;
        chosen.push(v);
      }
      if (issue !== null && chosen.length < 2) {
        // One voice left on an issue is told with the rest.
        for (const v of chosen) v.issue = null;
        continue;
      }
      if (!chosen.length || (issue === null && chosen.length < 2 && paragraphs.length >= 3)) continue;
      const segments: DraftSegment[] = [];
      chosen.forEach((v, i) => {
        const kind = v.reading.rebuttal ? 'rebuts' : (v.reading.evaluation ?? 'neutral');
        const verb = pick(VERBS[kind], seed, i + paragraphs.length);
        const lead = i === 0 && issue ? `${pick(['On', 'As for'], seed, paragraphs.length)} ${issue}, ` : '';
        const s = say(v, verb, lead);
        segments.push({ ...s, text: `${i ? ' ' : ''}${s.text}` });
      });
      paragraphs.push(segments);
    }

    // 6. A consensus, said only of those whose own words approve.
    if (shape === 'consensus') {
      const named = approvers.slice(0, 3);
      paragraphs.push([
        {
          text: `The approving voices were ${joinNames(named.map((v) => `${attribution(v.doc)} (${platformName(v.doc.platform)})`))}, and none of the posts here objected.`,
          sources: named.map((v) => v.index),
        },
      ]);
    }

    // 7. What is still open: a question a record asks in its own words, quoted and cited.
    const open = openQuestion(newestFirst, topic);
    if (open && paragraphs.length < 8) {
      const asked = /\?$/.test(open.question) ? 'asked' : 'wrote';
      paragraphs.push([
        {
          text: `${pick(['What is still unresolved:', 'Left open:', 'The open question:'], seed)} ${askerOf(open.doc.doc)} ${asked}, “${open.question}”`,
          sources: [open.doc.index],
        },
      ]);
    }

    const dek = dekOf({ shape, issues, voices, lead: lead.doc, summary, opposed });
    return { headline, dek, paragraphs, writer: 'offline', model: null, usage: null };
  }
}

/**
 * A post that contests something is quoted at its rebuttal: the rebutting sentence, with the sentence after it when
 * it is short ("Nobody ignores it." says little without "The question is whether…").
 */
function rebuttalQuote(text: string): string | null {
  const sentences = sentencesOf(text);
  const full = (s: string | undefined) => Boolean(s && /^[\p{Lu}\p{N}"“$]/u.test(s) && /[.!?]["”’)]?$/.test(s));
  let i = sentences.findIndex((s) => rebuts(s) && s.length <= 260 && full(s));
  if (i < 0) i = sentences.findIndex((s, j) => j > 0 && /^But\b/.test(s) && s.length <= 220 && full(sentences[j - 1]) && FRAMING.test(sentences[j - 1]));
  if (i < 0) return null;
  let quote = sentences[i];
  if (/^But\b/.test(quote) && i > 0) quote = `${sentences[i - 1]} ${quote}`;
  else if (i > 0 && (REVERSAL.test(quote) || LEANS_BACK.test(quote)) && full(sentences[i - 1])) quote = `${sentences[i - 1]} ${quote}`;
  else if (quote.length < 60 && full(sentences[i + 1]) && sentences[i + 1].length <= 200) quote = `${quote} ${sentences[i + 1]}`;
  if (quote.length > 300) return null;
  const whole = quote.length >= text.replace(/\s+/g, ' ').trim().length - 2 && sentences.length >= 3;
  return whole ? null : stripHashtags(quote);
}

/** The sentence of an earlier post in the same thread that a rebuttal answers: the one sharing its distinctive words. */
function answeredSentence(rebuttal: string, doc: WriterDocument, topic: Set<string>): string | null {
  let best: { sentence: string; shared: number } | null = null;
  for (const sentence of sentencesOf(cleanPostText(doc.text))) {
    if (sentence.length < 20 || sentence.length > 240 || !/[.!?]["”’)]?$/.test(sentence) || LEANS_BACK.test(sentence) || REVERSAL.test(sentence)) continue;
    const shared = sharedWords(sentence, rebuttal, topic);
    if (shared > 0 && (!best || shared > best.shared)) best = { sentence, shared };
  }
  return best?.sentence ?? null;
}

/** Replies in this storyline to a thread started by this post. */
function repliesTo(docs: Array<{ doc: WriterDocument }>, starter: WriterDocument): number {
  return docs.filter(({ doc }) => threadTitle(doc) !== null && sameThread(starter, threadTitle(doc)!)).length;
}

function sameThread(doc: WriterDocument, thread: string): boolean {
  const t = normaliseTitle(thread);
  return normaliseTitle(doc.title) === t || normaliseTitle(threadTitle(doc) ?? '') === t;
}

function normaliseTitle(title: string): string {
  return title
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

/** Words too common to name a topic or to tie a reply to what it answers. */
const COMMON_WORDS = new Set([
  'that',
  'this',
  'with',
  'from',
  'have',
  'they',
  'their',
  'there',
  'what',
  'about',
  'which',
  'would',
  'will',
  'were',
  'been',
  'just',
  'like',
  'more',
  'than',
  'when',
  'your',
  'into',
  'also',
  'only',
  'some',
  'does',
  'dont',
  'it’s',
]);

const SHARED_STOP = new Set([...COMMON_WORDS, 'that’s', "that's", "it's", 'here', 'every', 'because']);

function sharedWords(a: string, b: string, topic: Set<string>): number {
  const words = (s: string) =>
    new Set(
      (s.toLowerCase().match(/[\p{L}\p{N}%$.-]{5,}/gu) ?? [])
        .filter((w) => !SHARED_STOP.has(w) && !topic.has(w))
        .map((w) => w.replace(/(?:ing|ed|es|e|s)$/, '')),
    );
  const wa = words(a);
  return [...words(b)].filter((w) => wa.has(w)).length;
}

/**
 * Groups voices by the issue their quotes share: the noun phrase found in the most quotes (at least two), then the
 * next among the rest; the storyline's own subject (in the headline or topic) is not an issue.
 */
function groupByIssue(voices: Voice[], subject: string): string[] {
  const subjectWords = new Set(subject.toLowerCase().match(/[\p{L}\p{N}-]+/gu) ?? []);
  const candidates = new Map<string, boolean>();
  for (const v of voices) {
    for (const { phrase, definite } of issuePhrases(v.quote)) {
      const key = phrase.toLowerCase();
      const words = key.match(/[\p{L}\p{N}-]+/gu) ?? [];
      if (words.every((w) => subjectWords.has(w))) continue;
      candidates.set(key, (candidates.get(key) ?? false) || definite);
    }
  }
  const contains = (v: Voice, key: string) =>
    new RegExp(`(?<![\\p{L}\\p{N}])${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![\\p{L}\\p{N}])`, 'iu').test(v.quote);
  const issues: string[] = [];
  while (issues.length < 3) {
    const open = voices.filter((v) => !v.issue);
    let best: { key: string; n: number; words: number } | null = null;
    for (const key of candidates.keys()) {
      const n = open.filter((v) => contains(v, key)).length;
      const words = key.split(/\s+/).length;
      if (n >= 2 && (!best || n > best.n || (n === best.n && words > best.words))) best = { key, n, words };
    }
    if (!best) break;
    // The label as a voice wrote it, with "the" when it is a common noun phrase.
    // Written as a voice wrote it mid-sentence ("procurement review", not a sentence-initial "Procurement review").
    const holders = open.filter((v) => contains(v, best.key));
    const first = holders.find((v) => v.quote.toLowerCase().indexOf(best.key) > 0) ?? holders[0];
    const written = new RegExp(`(?<![\\p{L}\\p{N}])${best.key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![\\p{L}\\p{N}])`, 'iu').exec(first.quote)![0];
    // "the annual audit", but "clause 4(b)" and "open source": as the voices themselves write it.
    const definite =
      candidates.get(best.key) ||
      voices.some((v) => new RegExp(`\\bthe ${best.key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![\\p{L}\\p{N}])`, 'iu').test(v.doc.text));
    const label = definite && /^[\p{Ll}$\p{N}]/u.test(written) ? `the ${written}` : written;
    for (const v of open) if (contains(v, best.key)) v.issue = label;
    candidates.delete(best.key);
    issues.push(label);
  }
  return issues;
}

/**
 * A question still open, in a record's own words: a sentence of one to two lines that ends in "?" or says "the
 * question is whether…", on the topic when one is; the newest record's first.
 */
function openQuestion(
  newestFirst: Array<{ doc: WriterDocument; index: number }>,
  topic: Set<string>,
): { doc: { doc: WriterDocument; index: number }; question: string } | null {
  let fallback: { doc: { doc: WriterDocument; index: number }; question: string } | null = null;
  for (const entry of newestFirst) {
    for (const sentence of sentencesOf(cleanPostText(entry.doc.text))) {
      if (sentence.length < 30 || sentence.length > 220) continue;
      if (!/\?$/.test(sentence) && !/^the (?:real |open |big )?question is (?:whether|if|how|who|what)\b/i.test(sentence)) continue;
      if (/^(?:who|what|why|how) (?:cares|knows)\b|^(?:right|really|seriously)\?$/i.test(sentence)) continue;
      const onTopic = sentence
        .toLowerCase()
        .split(/[^\p{L}\p{N}]+/u)
        .some((w) => topic.has(w));
      if (onTopic) return { doc: entry, question: sentence };
      fallback ??= { doc: entry, question: sentence };
    }
  }
  return fallback;
}

/** The dek: what the conversation is about and, when the records show it, where it divides. */
function dekOf(input: { shape: Shape; issues: string[]; voices: Voice[]; lead: WriterDocument; summary: string | null; opposed: string | null }): string {
  const platforms = [...new Set(input.voices.map((v) => platformName(v.doc.platform)).filter((p) => !p.startsWith('a ')))];
  // "On Reddit, on Hacker News and on Bluesky": platform names joined by "and" would read as one name.
  const where = platforms.length ? `On ${joinNames(platforms.slice(0, 3)).replace(/, | and /g, (j) => `${j}on `)}` : 'In the discussion';
  const [first, second] = input.issues;
  const about = first ? (second ? `${first} and ${second}` : first) : null;
  const rebutters = input.voices.filter((v) => v.reading.rebuttal);
  const contested = rebutters.find((v) => v.issue)?.issue ?? input.opposed ?? null;
  const pushback = rebutters.length ? `, with pushback from ${joinNames([...new Set(rebutters.slice(0, 2).map((v) => attribution(v.doc)))])}` : '';
  switch (input.shape) {
    case 'split':
      if (about && contested && contested !== first) return `${where}, the talk is about ${about}, and the sharpest disagreement is over ${contested}.`;
      if (about) return `${where}, the talk is about ${about}${pushback || ', and the reactions are opposed'}.`;
      return `${where}, the reactions are divided${pushback}.`;
    case 'consensus':
      return about ? `${where}, the talk is about ${about}, and the voices that take a side approve.` : `${where}, the voices that take a side approve.`;
    case 'thread':
      return about
        ? `A ${platformName(input.lead.platform)} thread that turns on ${about}.`
        : `A ${platformName(input.lead.platform)} thread, and what its replies say.`;
    default:
      return about ? `${where}, the talk turned to ${about}.` : (input.summary ?? `${where}, readers took up the news.`);
  }
}

/** The reason a voice gives, quoted after its point, when the quote does not already carry it. */
function reasonText(voice: Voice): string {
  const reason = voice.reading.reason;
  return reason && !voice.quote.includes(reason) ? ` The reason given: “${reason}”` : '';
}

/** A stable choice for this story (the same storyline always reads the same; different ones read differently). */
function pick<T>(options: T[], seed: number, offset = 0): T {
  return options[(seed + offset) % options.length];
}

function seedOf(text: string): number {
  let h = 0;
  for (const ch of text) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return h;
}

function whereOf(doc: WriterDocument): string {
  return doc.platform === 'blog' && doc.outlet ? `the blog ${doc.outlet}` : platformName(doc.platform);
}

function joinNames(names: string[]): string {
  return names.length <= 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

function topicWords(brief: NarrativeBrief): Set<string> {
  const counts = new Map<string, number>();
  for (const doc of brief.documents) {
    for (const word of new Set(`${doc.title} ${doc.text}`.toLowerCase().match(/[\p{L}\p{N}-]{4,}/gu) ?? [])) counts.set(word, (counts.get(word) ?? 0) + 1);
  }
  const floor = Math.max(2, Math.ceil(brief.documents.length * 0.15));

  return new Set(
    [...counts]
      .filter(([w, n]) => n >= floor && !COMMON_WORDS.has(w))
      .map(([w]) => w)
      .concat(brief.topic.toLowerCase().split(/[,\s]+/)),
  );
}

/** A voice named with its platform ("/u/x (Reddit)"); a news or blog writer with the outlet instead ("A of The Signal"). */
function askerOf(doc: WriterDocument): string {
  const platform = platformName(doc.platform);
  return platform.startsWith('a ') ? sourceName(doc) : `${attribution(doc)} (${platform})`;
}

function sourceName(doc: WriterDocument): string {
  if (doc.platform === 'news' || doc.platform === 'blog') {
    const outlet = doc.outlet?.trim();
    if (outlet && doc.author) return `${doc.author} of ${outlet}`;
    if (outlet) return outlet;
  }
  return attribution(doc);
}

function attribution(doc: WriterDocument): string {
  return doc.author ? doc.author : 'an anonymous poster';
}

function capitalise(s: string): string {
  return s.startsWith('an anonymous') ? `A${s.slice(1)}` : s;
}

/** A trailing run of hashtags is a post's filing, not its words. */
function stripHashtags(text: string): string {
  return text.replace(/(?:\s*#[\p{L}\p{N}_]+)+\s*$/u, '').trim();
}

function clip(text: string, max: number): string {
  const t = text.replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max - 1).replace(/\s+\S*$/, '')}…` : t;
}
