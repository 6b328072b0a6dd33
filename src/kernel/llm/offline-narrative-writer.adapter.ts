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

/** A preamble that introduces the post rather than saying anything ("Voice actor here (…)", "Update:", "New post:"). */
const PREAMBLE =
  /^(?:[\p{L}\s-]{2,40} here\b|(?:[\p{L}-]+ ){0,2}(?:doc|doctor|nurse|physician|engineer|actor|dev|developer|lawyer|researcher),|I (?:read|tried|spent)\b.*\bso you don['’]t have to\b|(?:quick |small )?(?:test|update|psa|new post|thread|tl;?dr|edit|fyi|reminder|hot take|context|disclosure)\b\s*[:—–-]|(?:update|psa|fyi)\b)/iu;

/**
 * How much a sentence tells a reader, read by compromise: the things it names (nouns, proper names) and the figures it
 * gives, with a verb that makes it a statement. A table row or a run of figures without a verb tells little as a quote.
 */
function informationOf(sentence: string): number {
  const doc = nlp(sentence);
  const nouns = new Set((doc.nouns().out('array') as string[]).map((n) => n.toLowerCase())).size;
  const names = (doc.match('#ProperNoun').out('array') as string[]).length;
  const values = (doc.numbers().out('array') as string[]).length;
  const verb = doc.has('#Verb');
  return Math.min(nouns, 4) * 0.35 + Math.min(names, 3) * 0.25 + Math.min(values, 2) * 0.25 + (verb ? 0 : -3);
}

/**
 * What it costs to quote a sentence on its own: a preamble, a table row or heading in capitals, an opener that leans
 * on a sentence left out ("It's within…", "And Cobaltline…", "She notified…") when that sentence cannot come with it.
 */
function standsAloneCost(sentence: string, canTakePrevious: boolean): number {
  const letters = sentence.replace(/[^\p{L}]/gu, '');
  if (letters.length >= 8 && letters.replace(/\p{Lu}/gu, '').length / letters.length < 0.3) return 10;
  let cost = PREAMBLE.test(sentence) ? 5 : 0;
  if (/^(?:and|but|or|so|also|then|she|he|her|his|they|them|their|it|its|this|that|these|those|which)\b/i.test(sentence) && !canTakePrevious) cost += 3;
  return cost;
}

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
    score += informationOf(s) - standsAloneCost(s, i > 0 && quotable(sentences[i - 1]));
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
  /** What its rebuttal answers: a record of its thread (the sentence it takes on), or a report it names. */
  answers: { voice: number | null; report: number | null; sentence: string | null; thread: boolean } | null;
  /** Who it is by (one person across handles and platforms). */
  person: string;
}

/** How the story is built: by what the storyline has, not by chance. */
type Shape = 'split' | 'consensus' | 'reaction' | 'thread';

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
    const headline = clip(titleText(lead.doc) || leadSentences[0] || firstSentence(leadText, 90), 140);

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
      const said = titleText(lead.doc) || summary || firstSentence(leadText);
      // A title that had to be cleaned for the headline (angle brackets) is not quoted: it is the headline already.
      const verbatim = cleanPostText(threadTitle(lead.doc) ?? lead.doc.title) === said || !lead.doc.title;
      opening.push({
        text: verbatim
          ? `On ${when}, ${who} started a thread on ${platformName(lead.doc.platform)}: “${clip(said, 240)}”`
          : `On ${when}, ${who} started a thread on ${platformName(lead.doc.platform)} under that headline.`,
        sources: [lead.index],
      });
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
        const titleOf = (doc: WriterDocument) => `“${clip(titleText(doc), 200)}”`;
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
    // One person is one voice: a handle that spells a display name ("@amawhitlock…" and "Dr. Ama Whitlock") is merged,
    // named by the full name, and the lead's own author is not quoted again as a voice.
    const people = peopleOf(brief.documents);
    const personKey = (i: number) => people[i].key;
    const allVoices: Voice[] = docs
      .filter(({ doc, index }) => index !== lead.index && doc.platform !== 'news' && !earlier.some((e) => e.index === index))
      .flatMap(({ doc, index }) => {
        const text = cleanPostText(doc.text);
        const quote = rebuttalQuote(text) ?? keyQuote(text, topic);
        if (!quote) return [];
        return [{ doc, index, quote, reading: readVoice(quote, sentencesOf(text)), issue: null as string | null, answers: null, person: '' }];
      })
      .sort((a, b) => a.doc.publishedAt.getTime() - b.doc.publishedAt.getTime() || a.index - b.index);
    // A person with several posts is quoted once: the post that fits the story best (its issue, its rebuttal) is
    // chosen as the story is told; the lead's author is not quoted again.
    const voices = allVoices.filter((v) => personKey(v.index) !== personKey(lead.index));
    for (const v of voices) v.person = personKey(v.index);
    // What each rebuttal answers, and replies that contest their thread without a marker ("It's X." under "It's not X.").
    findAnswers(voices, docs, people, reports, topic);
    // The storyline's own subject (in its headline, topic and report titles) is not an issue within it.
    const issues = groupByIssue(voices, [headline, brief.topic, ...reports.map((r) => r.doc.title)].join(' '));

    const onePerPerson = (list: Voice[]) => list.filter((v, i) => list.findIndex((w) => w.person === v.person) === i);
    const rebuttals = onePerPerson(voices.filter((v) => v.reading.rebuttal));
    const objectors = onePerPerson(voices.filter((v) => v.reading.evaluation === 'objects' && !v.reading.rebuttal));
    const approvers = onePerPerson(voices.filter((v) => v.reading.evaluation === 'approves'));
    // Opposite explicit evaluations of the same issue: a split the records show.
    const opposed = issues.find((issue) => objectors.some((v) => v.issue === issue) && approvers.some((v) => v.issue === issue)) ?? null;
    const shape: Shape = !isReport ? 'thread' : rebuttals.length || opposed ? 'split' : approvers.length >= 2 && !objectors.length ? 'consensus' : 'reaction';

    const used = new Set<number>();
    let lastPerson = personKey(lead.index);
    const quotedPeople = new Set<string>();
    /** A voice's name (the person's full name when known) and the records that carry it. */
    const nameOf = (index: number) => people[index];
    const say = (voice: Voice, verb: string, opener = '', companion: Voice | null = null): DraftSegment => {
      used.add(voice.index);
      lastPerson = personKey(voice.index);
      quotedPeople.add(lastPerson);
      const person = nameOf(voice.index);
      const where = person.where ?? whereOf(voice.doc);
      const forms = opener
        ? [
            `${opener}${opener.endsWith(', ') || opener.endsWith(': ') ? person.name : capitalise(person.name)}${opener.startsWith('Later in the thread') ? '' : ` (${where})`} ${verb}: “${voice.quote}”`,
          ]
        : [`${capitalise(person.name)} (${where}) ${verb}: “${voice.quote}”`, `On ${where}, ${person.name} ${verb}: “${voice.quote}”`];
      const text = person.where ? forms[0] : forms[(seed + used.size) % forms.length];
      return {
        text: text + reasonText(voice),
        sources: [voice.index, ...person.sources.filter((i) => i !== voice.index), ...(companion ? [companion.index] : [])],
      };
    };
    const free = (v: Voice) => !used.has(v.index) && personKey(v.index) !== lastPerson && !quotedPeople.has(personKey(v.index));

    // The closing question is kept for the close: a voice whose quote is that question is not quoted before it.
    const closing = openQuestion(newestFirst, topic, () => false);
    for (const v of voices) if (closing && v.index === closing.doc.index && v.quote.endsWith('?') && v.quote.includes(closing.question)) used.add(v.index);

    // 3b. The nut paragraph: where the conversation happened and what it turned on, from the voices' own issues and
    // readings (what divides them, or that they approve), cited to the voices that hold those issues.
    const nut = nutParagraph({ shape, issues, voices, rebuttals, opposed, approvers, seed });
    if (nut) paragraphs.push([nut]);

    // 4. Where it divides (a split): one sentence that names the gap, then each rebuttal next to whom or what it
    // answers, when the records show it; or the explicit objection and approval of one issue.
    if (shape === 'split') {
      const segments: DraftSegment[] = [];
      const exchange = rebuttals.find((v) => v.answers?.voice) ?? null;
      if (opposed) {
        const o = objectors.filter((v) => v.issue === opposed);
        const a = approvers.filter((v) => v.issue === opposed);
        segments.push({
          text: `Where the voices part is ${opposed}: ${joinNames(o.slice(0, 2).map((v) => nameOf(v.index).name))} objected to it, while ${joinNames(a.slice(0, 2).map((v) => nameOf(v.index).name))} welcomed it.`,
          sources: [...o.slice(0, 2), ...a.slice(0, 2)].flatMap((v) => [v.index, ...nameOf(v.index).sources]),
        });
      } else if (exchange?.answers?.voice) {
        const other = exchange.answers.voice;
        segments.push({
          text: `The sharpest exchange was between ${nameOf(other).name} and ${nameOf(exchange.index).name}${exchange.issue && says(exchange, exchange.issue) ? `, over ${exchange.issue}` : ''}.`,
          sources: [other, exchange.index, ...nameOf(other).sources, ...nameOf(exchange.index).sources],
        });
      }
      // Otherwise the nut paragraph above has said what divides them; the rebuttals follow it.
      const framed = segments.length;
      // Rebuttals that answer someone come first, then those that answer the coverage, then the rest.
      const order = (v: Voice) => (v.answers?.voice !== undefined && v.answers?.voice !== null ? 0 : v.answers ? 1 : 2);
      for (const voice of [...rebuttals].sort((x, y) => order(x) - order(y)).slice(0, 2)) {
        if (used.has(voice.index) || personKey(voice.index) === lastPerson || quotedPeople.has(personKey(voice.index))) continue;
        const answers = voice.answers;
        const answeredVoice = answers?.voice ?? null;
        if (answers && answeredVoice !== null && answers.sentence && !used.has(answeredVoice) && personKey(answeredVoice) !== lastPerson) {
          used.add(answeredVoice);
          const other = nameOf(answeredVoice);
          segments.push({
            text: ` ${answers.thread ? `In a ${platformName(brief.documents[answeredVoice].platform)} thread, ` : ''}${answers.thread ? other.name : capitalise(other.name)}${answers.thread ? '' : ` (${other.where ?? whereOf(brief.documents[answeredVoice])})`} wrote: “${answers.sentence}”`,
            sources: [answeredVoice, ...other.sources],
          });
          lastPerson = personKey(answeredVoice);
          const reply = say(voice, `answered ${other.name}`, answers.thread ? 'Later in the thread, ' : '');
          segments.push({ ...reply, text: ` ${reply.text}`, sources: [...reply.sources, answeredVoice, ...other.sources] });
        } else if (answeredVoice !== null && answers) {
          const other = nameOf(answeredVoice);
          const reply = say(voice, `took issue with ${other.name}`);
          segments.push({ ...reply, text: ` ${reply.text}`, sources: [...reply.sources, answeredVoice, ...other.sources] });
        } else if (answers?.report !== undefined && answers.report !== null) {
          const outlet = brief.documents[answers.report].outlet?.trim();
          const reply = say(voice, outlet ? `took issue with the coverage in ${outlet}` : 'took issue with the coverage');
          segments.push({ ...reply, text: ` ${reply.text}`, sources: [...reply.sources, answers.report] });
        } else {
          const reply = say(
            voice,
            FRAMING.test(voice.reading.rebuttal ?? '') || /\b(?:headline|coverage|people)\b/i.test(voice.quote)
              ? 'disputed the common reading'
              : pick(['countered', 'disagreed'], seed, segments.length),
          );
          segments.push({ ...reply, text: ` ${reply.text}` });
        }
      }
      if (opposed) {
        const o = objectors.find((v) => v.issue === opposed && free(v));
        const a = approvers.find((v) => v.issue === opposed && free(v) && personKey(v.index) !== (o ? personKey(o.index) : ''));
        if (o && a) {
          const objection = say(o, verbFor(o, seed, 0));
          segments.push({ ...objection, text: ` ${objection.text}` });
          const approval = say(a, 'welcomed it');
          segments.push({ ...approval, text: ` ${approval.text}` });
        }
      }
      if (segments.length > framed) paragraphs.push(segments.map((s, i) => (i === 0 ? { ...s, text: s.text.trimStart() } : s)));
    }

    // 5. The positions, issue by issue (the largest first), then the rest: each stated once in the writer's framing,
    // then the voices that hold it, each with a verb for what the voice does (argues, reports, asks, warns, objects).
    // The rest may take a second paragraph when the story would otherwise be short.
    let previousStance: PreviousStance | null = null;
    for (const issue of [...issues, null, null]) {
      if (paragraphs.length >= 7) break;
      if (issue === null && paragraphs.length >= 5) break;
      const members = voices.filter((v) => v.issue === issue && !used.has(v.index) && !quotedPeople.has(v.person));
      const chosen: Voice[] = [];
      for (const v of members) {
        if (chosen.length >= 3) break;
        if (
          personKey(v.index) === (chosen.length ? personKey(chosen.at(-1)!.index) : lastPerson) ||
          chosen.some((c) => personKey(c.index) === personKey(v.index))
        )
          continue;
        chosen.push(v);
      }
      if (issue !== null && chosen.length < 2) {
        // One voice left on an issue is told with the rest.
        for (const v of chosen) v.issue = null;
        continue;
      }
      if (!chosen.length || (issue === null && chosen.length < 2 && paragraphs.length >= 3)) continue;
      // A position is stated in the writer's words only where the voices' own words give it a stance (critical,
      // approving, divided, asking); otherwise the first voice is brought in by the issue itself ("On clause 4(b), …"),
      // and a position that answers the one before it says so ("While X welcomed …, the criticism centred on …").
      const stance = stanceOf(chosen);
      const firstIssue = issues.find((i) => voices.some((v) => v.issue === i)) ?? null;
      const framing = positionLine({
        stance,
        issue,
        seed: seed + paragraphs.length,
        previous: previousStance,
        firstIssue,
        names: (v) => nameOf(v.index).name,
        // The nut paragraph has just named the first issue: its voices follow without announcing it again.
        announced: issue !== null && issue === firstIssue && Boolean(nut?.text.includes(issue)),
      });
      // A framing that names an issue cites the voices that wrote it (its words and figures are theirs).
      const labelCites = issue === null && firstIssue ? voices.filter((v) => v.issue === firstIssue).slice(0, 2) : [];
      const segments: DraftSegment[] = [];
      if (framing.sentence) segments.push({ text: framing.sentence, sources: [...chosen, ...(framing.cites ?? []), ...labelCites].map((v) => v.index) });
      const approving = chosen.filter((v) => v.reading.evaluation === 'approves').length;
      chosen.forEach((v, i) => {
        // A second approving voice "agreed", a second voice doing the same as the one before "also" does it; the rest
        // by what they do.
        const act = actOf(v);
        const same = i > 0 && actOf(chosen[i - 1]) === act && ['warns', 'argues', 'objects', 'asks'].includes(act);
        const verb =
          v.reading.evaluation === 'approves' && i > 0 && approving > 1 ? 'agreed' : same ? `also ${VERBS[act][0]}` : verbFor(v, seed, i + paragraphs.length);
        const opener = i === 0 && !framing.sentence ? framing.opener : '';
        const said = say(v, verb, opener);
        const sources = opener && labelCites.length ? [...said.sources, ...labelCites.map((c) => c.index)] : said.sources;
        segments.push({ ...said, sources, text: segments.length ? ` ${said.text}` : said.text });
      });
      previousStance = { stance, issue, voices: chosen };
      paragraphs.push(segments);
    }

    // 6. A consensus, said only of those whose own words approve.
    if (shape === 'consensus') {
      const named = approvers.slice(0, 3);
      paragraphs.push([
        {
          text: `The approving voices were ${joinNames(named.map((v) => `${nameOf(v.index).name} (${nameOf(v.index).where ?? platformName(v.doc.platform)})`))}, and none of the posts here objected.`,
          sources: named.flatMap((v) => [v.index, ...nameOf(v.index).sources]),
        },
      ]);
    }

    // 7. What is still open: a question a record asks in its own words, quoted and cited; not one already quoted.
    const quoted = paragraphs.flat().map((s) => s.text);
    // Not a question already quoted, nor one by a person the story has quoted already (one person, one voice).
    const open = openQuestion(newestFirst, topic, (q, entry) => quoted.some((t) => t.includes(q)) || quotedPeople.has(personKey(entry.index)));
    if (open && paragraphs.length < 8) {
      const asker = askerOf(open.doc.doc, nameOf(open.doc.index));
      const text = open.relayed
        ? `${pick(['Still open is a question', 'The question still open is one'], seed)} ${asker} passed on from a reader: “${open.question}”`
        : `${pick(['What is still unresolved:', 'Left open:', 'The open question:'], seed)} ${asker} ${/\?$/.test(open.question) ? 'asked' : 'wrote'}, “${open.question}”`;
      paragraphs.push([{ text, sources: [open.doc.index, ...nameOf(open.doc.index).sources.filter((i) => i !== open.doc.index)] }]);
    }

    const dek = dekOf({ shape, issues, voices, lead: lead.doc, summary, opposed, seed, names: (v) => nameOf(v.index).name });
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
  let i = sentences.findIndex((s) => rebuts(s) && s.length <= 260 && full(s) && !PREAMBLE.test(s));
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

/** Heads too general to merge phrases by ("open model" and "closed model" are not one issue). */
const GENERIC_HEADS = new Set(['model', 'data', 'tool', 'system', 'company', 'people', 'user', 'version', 'release', 'weight']);

const lemmaOf = (word: string) =>
  word
    .toLowerCase()
    .replace(/ies$/, 'y')
    .replace(/(?<=[^s])s$/, '');

/** Is `inner` a whole-word run inside `outer`? */
const wordRunIn = (inner: string, outer: string) => inner !== outer && ` ${outer} `.includes(` ${inner} `);

/**
 * Groups voices by the issue their quotes share: the noun phrase (with its variants: the same head noun, or one
 * phrase inside another) found in the most quotes (at least two), then the next among the rest; the storyline's own
 * subject (in the headline or topic) is not an issue. The label is the variant most voices write, as they write it
 * mid-sentence ("benchmark contamination", not a sentence-initial "Benchmark contamination").
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
  const escape = (key: string) => key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const contains = (v: Voice, key: string) => new RegExp(`(?<![\\p{L}\\p{N}])${escape(key)}(?![\\p{L}\\p{N}])`, 'iu').test(v.quote);
  const headOf = (key: string) => lemmaOf(key.split(/\s+/).at(-1)!);
  const familyOf = (key: string) =>
    [...candidates.keys()].filter(
      (k) =>
        k === key ||
        wordRunIn(k, key) ||
        wordRunIn(key, k) ||
        (headOf(k) === headOf(key) && !GENERIC_HEADS.has(headOf(key)) && k.split(/\s+/).length > 1 && key.split(/\s+/).length > 1),
    );
  const issues: string[] = [];
  while (issues.length < 3) {
    const open = voices.filter((v) => !v.issue);
    let best: { key: string; family: string[]; n: number; words: number } | null = null;
    for (const key of candidates.keys()) {
      const family = familyOf(key);
      const n = new Set(open.filter((v) => family.some((k) => contains(v, k))).map((v) => v.person)).size;
      const own = open.filter((v) => contains(v, key)).length;
      const words = key.split(/\s+/).length;
      // The family's label: the variant the most voices write, the longer on a tie.
      if (n < 2 || own < 1) continue;
      const bestOwn = best ? open.filter((v) => contains(v, best!.key)).length : 0;
      if (!best || n > best.n || (n === best.n && (own > bestOwn || (own === bestOwn && words > best.words)))) best = { key, family, n, words };
    }
    if (!best) break;
    const { key, family } = best;
    const holders = open.filter((v) => contains(v, key));
    const first = holders.find((v) => v.quote.toLowerCase().indexOf(key) > 0) ?? holders[0];
    let written = new RegExp(`(?<![\\p{L}\\p{N}])${escape(key)}(?![\\p{L}\\p{N}])`, 'iu').exec(first.quote)![0];
    // A sentence-initial capital is not a name's: lower-case it when the voices write that word in lower case.
    const firstWord = written.split(/\s+/)[0];
    if (
      /^\p{Lu}\p{Ll}+$/u.test(firstWord) &&
      voices.some((v) => new RegExp(`(?<![\\p{L}\\p{N}])${escape(firstWord.toLowerCase())}(?![\\p{L}\\p{N}])`, 'u').test(v.doc.text))
    )
      written = firstWord.toLowerCase() + written.slice(firstWord.length);
    // "the annual audit", but "clause 4(b)" and "open source": as the voices themselves write it.
    const definite = candidates.get(key) || voices.some((v) => new RegExp(`\\bthe ${escape(key)}(?![\\p{L}\\p{N}])`, 'iu').test(v.doc.text));
    // A common noun phrase is told with "the" ("the postal codes"); a name or identifier as written ("clause 4(b)").
    const label = definite || (/^\p{Ll}/u.test(written) && !/\p{N}/u.test(written)) ? `the ${written}` : written;
    for (const v of open) if (family.some((k) => contains(v, k))) v.issue = label;
    for (const k of family) candidates.delete(k);
    issues.push(label);
  }
  return issues;
}

/** A preamble that frames a question rather than asking it ("A reader asks:", "Question:"), left out of the quote. */
const QUESTION_PREAMBLE =
  /^(?:(?:a |one |our )?readers? (?:asks?|asked|wants to know|writes|wrote)|(?:quick |honest |genuine |serious |real |open |reader )?question|q|ask)\s*[:—–-]\s*/i;

/**
 * A question still open, in a record's own words: a sentence of one to two lines that ends in "?" or says "the
 * question is whether…", on the topic when one is; the newest record's first; never one the story already quotes.
 * A preamble ("A reader asks: …") is left out of the quote, and a question relayed from a reader is told as one.
 */
function openQuestion(
  newestFirst: Array<{ doc: WriterDocument; index: number }>,
  topic: Set<string>,
  alreadyQuoted: (question: string, entry: { doc: WriterDocument; index: number }) => boolean,
): { doc: { doc: WriterDocument; index: number }; question: string; relayed: boolean } | null {
  let fallback: { doc: { doc: WriterDocument; index: number }; question: string; relayed: boolean } | null = null;
  for (const entry of newestFirst) {
    const sentences = sentencesOf(cleanPostText(entry.doc.text));
    for (const [k, sentence] of sentences.entries()) {
      if (sentence.length < 30 || sentence.length > 220) continue;
      // A short question its own post goes on to answer ("Would I build on Larchmont now? Yes, …") is rhetorical.
      if (sentence.length < 60 && k + 1 < sentences.length && !/\?$/.test(sentences[k + 1])) continue;
      if (!/\?$/.test(sentence) && !/^the (?:real |open |big )?question is (?:whether|if|how|who|what)\b/i.test(sentence)) continue;
      if (/^(?:who|what|why|how) (?:cares|knows)\b|^(?:right|really|seriously)\?$/i.test(sentence)) continue;
      const question = sentence.replace(QUESTION_PREAMBLE, '');
      if (question.length < 20 || alreadyQuoted(question, entry)) continue;
      const relayed = question !== sentence && /reader/i.test(sentence.slice(0, sentence.length - question.length));
      const onTopic = question
        .toLowerCase()
        .split(/[^\p{L}\p{N}]+/u)
        .some((w) => topic.has(w));
      if (onTopic) return { doc: entry, question, relayed };
      fallback ??= { doc: entry, question, relayed };
    }
  }
  return fallback;
}

/**
 * The dek: what the conversation is about, in a form that follows the storyline's shape (a split says where it
 * divides, a consensus that it approves, a reaction what the news turned the talk to, a thread what it turns on).
 */
function dekOf(input: {
  shape: Shape;
  issues: string[];
  voices: Voice[];
  lead: WriterDocument;
  summary: string | null;
  opposed: string | null;
  seed: number;
  names: (v: Voice) => string;
}): string {
  const platforms = platformsOf(input.voices);
  const where = platforms.length ? `on ${joinNames(platforms.slice(0, 3))}` : null;
  const [first, second] = input.issues;
  const about = first ? (second ? `${first} and ${second}` : first) : null;
  const rebutters = input.voices.filter((v) => v.reading.rebuttal);
  const contested = rebutters.find((v) => v.issue && says(v, v.issue))?.issue ?? null;
  const who = [...new Set(rebutters.slice(0, 2).map(input.names))];
  const pushing = who.length ? `${joinNames(who)} ${who.length > 1 ? 'push' : 'pushes'} back` : null;
  const exchange = rebutters.find((v) => v.answers?.voice !== null && v.answers?.voice !== undefined);
  const cap = (t: string) => t.charAt(0).toUpperCase() + t.slice(1);
  switch (input.shape) {
    case 'split':
      if (input.opposed)
        return `Readers split over ${input.opposed}: some object to it, others welcome it${first && first !== input.opposed ? `, and the conversation keeps returning to ${first}` : ''}.`;
      if (contested && first && contested !== first)
        return `Much of the conversation is about ${first}, but the argument is over ${contested}, and ${pushing}.`;
      if (exchange && pushing && about)
        return `${about ? cap(about) : 'The news'} ${second ? 'draw' : 'draws'} the talk ${where ?? 'in the replies'}, and in the sharpest exchange ${pushing}.`;
      if (pushing && about)
        return pick(
          [
            `The argument is less over the news than over how to read it: ${pushing}, and much of the talk is about ${about}.`,
            `How to read the news is the argument: ${pushing}, while the talk keeps returning to ${about}.`,
          ],
          input.seed,
        );
      return pushing ? `The reaction divides, and ${pushing}.` : 'The reaction divides.';
    case 'consensus':
      return about ? `Reaction is largely approving, and centres on ${about}.` : 'Reaction is largely approving, and no one here objects.';
    case 'thread':
      return about
        ? `A ${platformName(input.lead.platform)} thread that turns on ${about}.`
        : `A ${platformName(input.lead.platform)} thread, and what its replies say.`;
    default:
      if (!about) return where ? `What readers ${where} made of the news.` : (input.summary ?? 'What readers made of the news.');
      return pick(
        [
          `The news turned the talk to ${about}.`,
          `What people ${where ?? 'in the replies'} took from it: ${about}.`,
          `Beyond the news itself, the conversation is about ${about}.`,
        ],
        input.seed,
      );
  }
}

/** The platforms the voices posted on, the busiest first (news sites and blogs are named as outlets elsewhere). */
function platformsOf(voices: Voice[]): string[] {
  const counts = new Map<string, number>();
  for (const v of voices) {
    const p = platformName(v.doc.platform);
    if (!p.startsWith('a ')) counts.set(p, (counts.get(p) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1]).map(([p]) => p);
}

/**
 * The paragraph that says what the conversation was, before any voice is quoted: where it happened and what it
 * turned on (the issues the voices' own words share), and whether it divided over how to read the news, divided
 * over one issue, or approved. Nothing in it is not in the voices it cites.
 */
function nutParagraph(input: {
  shape: Shape;
  issues: string[];
  voices: Voice[];
  rebuttals: Voice[];
  opposed: string | null;
  approvers: Voice[];
  seed: number;
}): DraftSegment | null {
  const { shape, issues, voices, seed } = input;
  if (!voices.length) return null;
  const platforms = platformsOf(voices);
  const where = platforms.length > 1 ? `Across ${joinNames(platforms.slice(0, 4))}` : platforms.length ? `On ${platforms[0]}` : 'In the replies';
  const about = issues.slice(0, 2);
  const aboutText = about.length ? joinNames(about) : null;
  const holders = (labels: string[]) => {
    const out: Voice[] = [];
    for (const label of labels) out.push(...voices.filter((v) => v.issue === label).slice(0, 2));
    return out.map((v) => v.index);
  };
  const contested = input.rebuttals.find((v) => v.issue && says(v, v.issue))?.issue ?? null;
  if (shape === 'split' && input.opposed)
    return {
      text: `${where}, opinion divided over ${input.opposed}${aboutText && about[0] !== input.opposed ? `, and much of the talk was about ${about[0]}` : ''}.`,
      sources: holders([input.opposed, about[0]]),
    };
  if (shape === 'split') {
    const lead = pick(
      ['the argument was less over what happened than over how to read it', 'what divided people was not the news itself but how to read it'],
      seed,
    );
    const tail = contested ? `, above all ${contested}` : aboutText ? `; much of the talk was about ${aboutText}` : '';
    return { text: `${where}, ${lead}${tail}.`, sources: [...holders(contested ? [contested] : about), ...input.rebuttals.slice(0, 2).map((v) => v.index)] };
  }
  if (shape === 'consensus')
    return {
      text: `${where}, the reaction was largely approving${aboutText ? `, and it centred on ${aboutText}` : ''}.`,
      sources: [...holders(about), ...input.approvers.slice(0, 2).map((v) => v.index)],
    };
  // With no issue the voices share, there is nothing to sum up: the voices follow the news directly.
  if (!aboutText) return null;
  if (shape === 'thread') return { text: `The replies turned on ${aboutText}.`, sources: holders(about) };
  return {
    text: pick([`${where}, the news turned the talk to ${aboutText}.`, `${where}, what people took from it was mostly about ${aboutText}.`], seed),
    sources: holders(about),
  };
}

/** The reason a voice gives, quoted after its point, when the quote does not already carry it. */
function reasonText(voice: Voice): string {
  const reason = voice.reading.reason;
  return reason && !voice.quote.includes(reason) ? ` The reason given: “${reason}”` : '';
}

/** Does the voice's quote itself name this issue (not just a variant of it)? */
function says(v: Voice, issue: string): boolean {
  return v.quote.toLowerCase().includes(issue.replace(/^the /, '').toLowerCase());
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
function askerOf(doc: WriterDocument, person: PersonName): string {
  const platform = platformName(doc.platform);
  return platform.startsWith('a ') ? sourceName(doc) : `${person.name} (${platform})`;
}

function sourceName(doc: WriterDocument): string {
  if (doc.platform === 'news' || doc.platform === 'blog') {
    const outlet = doc.outlet?.trim();
    // "Hollis Amberley" for the blog "Hollis Amberley — Notes", not "Hollis Amberley of Hollis Amberley — Notes".
    if (outlet && doc.author) return outlet.toLowerCase().includes(doc.author.toLowerCase()) ? doc.author : `${doc.author} of ${outlet}`;
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

/**
 * A record's title as a headline or a quoted title: a reply's title is its thread's ("/u/x on <title>" is the title),
 * and a word set in angle brackets ("why <Larchmont> isn't…") is the word, not an HTML tag.
 */
function titleText(doc: WriterDocument): string {
  return cleanPostText(threadTitle(doc) ?? doc.title).replace(/<([^<>/=]{1,60})>/g, '$1');
}

/** A trailing run of hashtags is a post's filing, not its words. */
function stripHashtags(text: string): string {
  return text.replace(/(?:\s*#[\p{L}\p{N}_]+)+\s*$/u, '').trim();
}

function clip(text: string, max: number): string {
  const t = text.replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max - 1).replace(/\s+\S*$/, '')}…` : t;
}

/** One person as the story names them: a handle that spells a display name is the same person. */
interface PersonName {
  /** The same for every record of one person. */
  key: string;
  /** The full name when one of their records gives it ("Dr. Ama Whitlock"), else the handle. */
  name: string;
  /** Where they posted, when they are one person across places ("Bluesky, and the blog Second Opinion"). */
  where: string | null;
  /** The records to cite with any sentence that names them (the one that carries the full name). */
  sources: number[];
}

const fold = (s: string) => s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
/** "Dr. Ama Whitlock" → "amawhitlock"; null for a handle. */
const displayKey = (author: string) => (/\s/.test(author.trim()) ? fold(author.replace(/^(?:Dr|Mr|Mrs|Ms|Prof)\.?\s+/i, '')).replace(/[^a-z0-9]/g, '') : null);
/** "@amawhitlock.bsky.social", "@ama_whitlock@med.example", "/u/ama-whitlock" → "amawhitlock". */
const handleKey = (author: string) =>
  fold(
    author
      .trim()
      .replace(/^(?:@|\/?u\/)/, '')
      .replace(/[@.].*$/, ''),
  ).replace(/[^a-z0-9]/g, '');

function placeOf(doc: WriterDocument): string {
  if (doc.platform === 'news' && doc.outlet) return `writing for ${doc.outlet}`;
  return whereOf(doc);
}

/** Who each record is by, people merged across platforms (a handle whose letters are a display name's, normalised). */
function peopleOf(documents: WriterDocument[]): PersonName[] {
  const named = new Set(documents.map((d) => (d.author ? displayKey(d.author) : null)).filter((k): k is string => Boolean(k && k.length >= 5)));
  const keys = documents.map((d, i) => {
    if (!d.author) return `anonymous:${i}`;
    const key = displayKey(d.author) ?? handleKey(d.author);
    return named.has(key) ? `person:${key}` : `author:${d.author}`;
  });
  const mentioned = mentionedPeople(documents);
  return documents.map((doc, i) => {
    const key = keys[i];
    const group = documents.map((_, j) => j).filter((j) => keys[j] === key);
    const full = group.find((j) => displayKey(documents[j].author));
    if (!key.startsWith('person:') || full === undefined || group.every((j) => documents[j].author === documents[full].author)) {
      // A handle that spells the initial and surname (or the whole name) of a person another record names in its
      // text ("@qfairweather…" and "…said Quentin Fairweather, a technology lawyer") is that person: named in full,
      // the handle kept beside the platform, the naming record cited.
      const handle = doc.author && !displayKey(doc.author) ? handleKey(doc.author) : '';
      const match = handle.length >= 5 ? mentioned.find((m) => m.keys.includes(handle)) : undefined;
      if (match) return { key: `person:${match.keys[0]}`, name: match.name, where: `${platformName(doc.platform)}, as ${doc.author}`, sources: [match.record] };
      return { key, name: attribution(doc), where: null, sources: [] };
    }
    const places = [...new Set([placeOf(doc), ...group.map((j) => placeOf(documents[j]))])];
    return { key, name: documents[full].author, where: places.length > 1 ? places.join(', and ') : null, sources: full === i ? [] : [full] };
  });
}

/** People the records name in their text (compromise), with the handle spellings that would be theirs. */
function mentionedPeople(documents: WriterDocument[]): Array<{ name: string; keys: string[]; record: number }> {
  const out: Array<{ name: string; keys: string[]; record: number }> = [];
  documents.forEach((doc, record) => {
    for (const raw of nlp(`${doc.title}. ${doc.text}`).people().out('array') as string[]) {
      const name = raw.replace(/[^\p{L}\s'’-]+$/u, '').trim();
      const words = name.split(/\s+/);
      if (words.length !== 2 || !words.every((w) => /^\p{Lu}\p{Ll}+(?:-\p{Lu}\p{Ll}+)?$/u.test(w))) continue;
      const [first, last] = words.map((w) => fold(w).replace(/[^a-z]/g, ''));
      if (out.some((m) => m.name === name)) continue;
      out.push({ name, keys: [first + last, first[0] + last, first + last[0]], record });
    }
  });
  return out;
}

const NEGATED = /\b(?:not|no|never|nobody|nothing|none|isn['’]t|aren['’]t|wasn['’]t|doesn['’]t|don['’]t|didn['’]t|won['’]t|can['’]t|cannot)\b/i;

/** The sentence of an earlier post that a reply contradicts without a marker: shared words, opposite polarity. */
function contestedSentence(reply: string, doc: WriterDocument): string | null {
  for (const sentence of sentencesOf(cleanPostText(doc.text))) {
    if (sentence.length < 20 || sentence.length > 240 || !/[.!?]["”’)]?$/.test(sentence) || LEANS_BACK.test(sentence) || sentence.endsWith('?')) continue;
    // A wish or a guess ("I'd love to see…") is not a claim to contradict.
    if (/^(?:I['’]d|I would|I wish|I hope|my guess)\b/i.test(sentence)) continue;
    // The storyline's common words count here: a contradiction repeats the very words it contradicts.
    if (sharedWords(sentence, reply, new Set()) < 3 || NEGATED.test(sentence) === NEGATED.test(reply)) continue;
    // The negation must sit in the clause that repeats the other's words ("X does not allow Y" / "X allows Y"), not
    // in an aside ("Not shocked.", "worklist prioritisation, not diagnosis").
    const [negated, plain] = NEGATED.test(sentence) ? [sentence, reply] : [reply, sentence];
    const clause = negated.split(/[,;:()]|\.\s/).find((c) => NEGATED.test(c)) ?? '';
    if (sharedWords(clause, plain, new Set()) >= 3 && !/\bnot (?:just|only|shocked|surprised|sure)\b/i.test(clause)) return sentence;
  }
  return null;
}

/**
 * What each rebuttal answers: the earlier post in its own thread that it takes on (the sentence sharing its words),
 * or the coverage it names; and a reply that contradicts its thread without any marker is read as a rebuttal too.
 */
function findAnswers(
  voices: Voice[],
  docs: Array<{ doc: WriterDocument; index: number }>,
  people: PersonName[],
  reports: Array<{ doc: WriterDocument; index: number }>,
  topic: Set<string>,
): void {
  for (const v of voices) {
    const thread = threadTitle(v.doc);
    const earlierInThread = thread
      ? docs.filter(({ doc, index }) => people[index].key !== people[v.index].key && doc.publishedAt < v.doc.publishedAt && sameThread(doc, thread)).reverse()
      : [];
    if (!v.reading.rebuttal) {
      for (const a of earlierInThread) {
        // Only a reply on the same platform can answer a post (a Reddit comment does not reply to Hacker News).
        const sentence = a.doc.platform === v.doc.platform ? contestedSentence(v.quote, a.doc) : null;
        if (sentence) {
          v.reading = { ...v.reading, rebuttal: v.quote };
          v.answers = { voice: a.index, report: null, sentence, thread: true };
          break;
        }
      }
      continue;
    }
    const rebuttal = v.reading.rebuttal;
    for (const a of earlierInThread) {
      const sentence = answeredSentence(rebuttal, a.doc, topic);
      if (sentence) {
        v.answers = { voice: a.index, report: null, sentence, thread: true };
        break;
      }
    }
    if (v.answers) continue;
    // A rebuttal that names the coverage ("the headline is wrong") answers the report it shares words with.
    if (/\b(?:headlines?|coverage|article|press)\b/i.test(v.quote)) {
      const report =
        reports.find((r) => r.doc.publishedAt <= v.doc.publishedAt && sharedWords(`${r.doc.title} ${r.doc.text}`, v.quote, topic) >= 1) ?? reports[0];
      if (report) v.answers = { voice: null, report: report.index, sentence: null, thread: false };
    }
  }
}

/** What a voice does, read from its own words: it contests, objects, approves, asks, warns, reports or argues. */
type Act = 'contests' | 'objects' | 'approves' | 'asks' | 'warns' | 'reports' | 'argues' | 'notes';

const WARNING =
  /\b(?:risk|risks|risky|dangerous|danger|harm|harms|unsafe|liable|liability|concern|worried|worry|beware|will get fought|trust that isn['’]t)\b/i;

function actOf(v: Voice): Act {
  if (v.reading.rebuttal) return 'contests';
  if (v.reading.evaluation === 'objects') return WARNING.test(v.quote) ? 'warns' : 'objects';
  if (v.reading.evaluation === 'approves') return 'approves';
  if (/\?["”’)]?$/.test(v.quote)) return 'asks';
  if (WARNING.test(v.quote)) return 'warns';
  if (/\b(?:should|must|needs? to|ought to|has to|have to|is the real|the real contribution|matters)\b/i.test(v.quote)) return 'argues';
  if (/\d/.test(v.quote) || /^(?:I|I['’]m|I['’]ve|We|My|Our)\b/.test(v.quote)) return 'reports';
  return 'notes';
}

const VERBS: Record<Act, string[]> = {
  contests: ['countered', 'disagreed'],
  objects: ['objected', 'was critical'],
  approves: ['welcomed it', 'approved'],
  asks: ['asked'],
  warns: ['warned'],
  reports: ['reported', 'wrote'],
  argues: ['argued', 'made the case'],
  notes: ['wrote', 'noted', 'observed', 'pointed out'],
};

function verbFor(v: Voice, seed: number, offset: number): string {
  return pick(VERBS[actOf(v)], seed, offset);
}

type Stance = 'critical' | 'approving' | 'divided' | 'asking' | 'figures' | null;

interface PreviousStance {
  stance: Stance;
  issue: string | null;
  voices: Voice[];
}

/** What the voices quoted for one position do, by majority of their own words. */
function stanceOf(voices: Voice[]): Stance {
  const acts = voices.map(actOf);
  const n = (kinds: Act[]) => acts.filter((a) => kinds.includes(a)).length;
  const critical = n(['objects', 'warns', 'contests']);
  const approving = n(['approves']);
  // A position is the majority's: more than half of the voices quoted for it.
  const half = voices.length / 2 + 0.01;
  if (critical && approving) return 'divided';
  if (critical >= half) return 'critical';
  if (approving >= half) return 'approving';
  if (n(['asks']) >= half) return 'asking';
  if (n(['reports']) >= half) return 'figures';
  return null;
}

/**
 * How a position comes in: a sentence of the writer's own when the voices' words give it a stance (and it answers the
 * position before it when that one went the other way), or an opener for the first voice ("On clause 4(b), ",
 * "Beyond the incident reporting, "); never a filler line ahead of three quotes.
 */
function positionLine(input: {
  stance: Stance;
  issue: string | null;
  seed: number;
  previous: PreviousStance | null;
  firstIssue: string | null;
  names: (v: Voice) => string;
  announced: boolean;
}): { sentence: string | null; opener: string; cites?: Voice[] } {
  const { stance, issue, seed, previous } = input;
  const prev = previous?.issue && previous.stance && previous.stance !== stance ? previous : null;
  if (issue === null) {
    // The first voices of a story with no issue come in plainly; later ones move on from what was said before.
    const beyond = input.firstIssue ? pick([`Beyond ${input.firstIssue}, `, `Away from ${input.firstIssue}, `], seed) : previous ? 'Elsewhere, ' : '';
    if (stance === 'asking') return { sentence: `${beyond}the posts were mostly questions.`, opener: '' };
    if (stance === 'critical') return { sentence: `${beyond}the criticism went on.`, opener: '' };
    return { sentence: null, opener: beyond };
  }
  // A contrast with the position before, when the two went opposite ways.
  if (prev && ((stance === 'critical' && prev.stance === 'approving') || (stance === 'approving' && prev.stance === 'critical'))) {
    const who = input.names(prev.voices[0]);
    return {
      sentence:
        stance === 'critical'
          ? `While ${who} welcomed ${prev.issue}, the criticism centred on ${issue}.`
          : `While ${who} was critical of ${prev.issue}, ${issue} drew approval.`,
      opener: '',
      cites: [prev.voices[0]],
    };
  }
  if (stance === 'divided') return { sentence: `Opinion on ${issue} divided.`, opener: '' };
  if (stance === 'critical') return { sentence: pick([`The criticism centred on ${issue}.`, `Much of the criticism was about ${issue}.`], seed), opener: '' };
  if (stance === 'approving') return { sentence: pick([`Those who welcomed it pointed to ${issue}.`, `The approval centred on ${issue}.`], seed), opener: '' };
  if (stance === 'asking') return { sentence: `Much of the talk about ${issue} took the form of questions.`, opener: '' };
  if (input.announced) return { sentence: null, opener: '' };
  return { sentence: null, opener: pick([`On ${issue}, `, `As for ${issue}, `, `Turning to ${issue}, `], seed) };
}
