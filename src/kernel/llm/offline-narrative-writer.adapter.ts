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

/**
 * The sentence (or two) of a post that best carries its point, as a complete thought: never cut before a reversal
 * ("People keep saying X." is followed by "It isn't."), never a fragment that leans on a sentence left out.
 */
export function keyQuote(text: string, topic: Set<string>, max = 200): string | null {
  const sentences = sentencesOf(cleanPostText(text)).filter((s) => s.trim());
  if (!sentences.length) return null;
  let best = -1;
  let bestScore = -Infinity;
  sentences.forEach((s, i) => {
    if (s.length < 12 || s.endsWith(':')) return;
    // A fragment that starts mid-thought ("most common: …") or a hashtag run is not a quotable sentence.
    if (/^#/.test(s) || (/^\p{Ll}/u.test(s) && !/^(?:i|e\.g|i\.e)\b/.test(s))) return;
    const words = s.toLowerCase().match(/[\p{L}\p{N}-]+/gu) ?? [];
    const onTopic = words.filter((w) => topic.has(w)).length;
    let score = onTopic * 2 + Math.min(words.length, 30) / 10 - (s.endsWith('?') ? 2 : 0) - (s.length > max ? 3 : 0) - i * 0.3;
    if (/\d/.test(s)) score += 0.5;
    if (score > bestScore) [best, bestScore] = [i, score];
  });
  if (best < 0) return null;
  let start = best;
  let end = best;
  // A reversal or a pronoun opener needs the sentence before it; a short reversal after it belongs to it.
  if (start > 0 && (REVERSAL.test(sentences[start]) || LEANS_BACK.test(sentences[start]))) start--;
  while (
    end + 1 < sentences.length &&
    (REVERSAL.test(sentences[end + 1]) || sentences[end + 1].length < 40) &&
    sentences.slice(start, end + 2).join(' ').length <= max + 60
  )
    end++;
  let quote = stripHashtags(sentences.slice(start, end + 1).join(' '));
  if (quote.length > max + 60) {
    // Too long as a whole: fall back to the single best sentence, if it stands alone.
    quote = stripHashtags(sentences[best]);
    if (quote.length > max + 60 || REVERSAL.test(quote) || LEANS_BACK.test(quote)) return null;
  }
  return quote;
}

type Stance = 'critical' | 'supportive' | 'practical';
const CRITICAL =
  /\b(?:not|isn['’]t|aren['’]t|doesn['’]t|don['’]t|won['’]t|can['’]t|never|no one|nobody|ban|bans|banned|worse|worst|wrong|bad|risk|risky|concern|concerned|worried|worry|problem|problems|fail|fails|failed|misses|missed|error|errors|unsafe|dangerous|against|oppose|opposed|criticis|critici[sz]e|should have|shouldn['’]t|without consent|unacceptable|misleading|flawed|broken|scam|overreach|loophole|weak)\b/i;
const SUPPORTIVE =
  /\b(?:great|good|useful|works|worked|impressive|saved|saves|better|welcome|finally|love|praise|excellent|helpful|win|progress|right call|smart|glad|happy|support|supports|fair)\b/i;

function stanceOf(quote: string): Stance {
  const critical = (quote.match(new RegExp(CRITICAL, 'gi')) ?? []).length;
  const supportive = (quote.match(new RegExp(SUPPORTIVE, 'gi')) ?? []).length;
  if (critical > supportive) return 'critical';
  if (supportive > critical) return 'supportive';
  return 'practical';
}

/** How a position is introduced, and the verbs its voices are given: several of each, so stories do not repeat. */
const POSITION: Record<Stance, { opener: string[]; verbs: string[]; label: string }> = {
  critical: {
    opener: ['The objections were specific.', 'Sceptics pressed on the details.', 'There were objections, and specific ones.', 'The pushback was pointed.'],
    verbs: ['argued', 'objected', 'warned', 'wrote'],
    label: 'pushed back',
  },
  supportive: {
    opener: ['Some were more welcoming.', 'The change had defenders.', 'A more favourable reading came from others.', 'Not all of it was criticism.'],
    verbs: ['wrote', 'said', 'countered', 'argued'],
    label: 'more favourable',
  },
  practical: {
    opener: [
      'Much of the talk was about how it works in practice.',
      'Others went straight to the particulars.',
      'A good share of the thread was about the specifics.',
      'Practitioners weighed in with specifics.',
    ],
    verbs: ['noted', 'wrote', 'pointed out', 'observed'],
    label: 'focused on the specifics',
  },
};

/** A stable choice for this story (the same storyline always reads the same; different ones read differently). */
function pick<T>(options: T[], seed: number, offset = 0): T {
  return options[(seed + offset) % options.length];
}

function seedOf(text: string): number {
  let h = 0;
  for (const ch of text) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return h;
}

/**
 * Composes an extractive narrative from the records themselves, with no model: the latest reported development
 * leads (headline and dek from the news), earlier developments follow in order, then the main positions in the
 * conversation, each with the voices that hold it, quoted verbatim as complete thoughts and attributed to author,
 * outlet and platform. Every quote is a verbatim piece of the record it cites. The draft is labelled as offline once,
 * by the narratives module's disclosure line, not in the text.
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
    const titled = newestFirst.filter(({ doc }) => doc.title && (doc.platform === 'hackernews' || doc.platform === 'reddit'));
    const lead = reports[0] ?? titled[0] ?? newestFirst[0];

    const paragraphs: DraftSegment[][] = [];
    const leadText = cleanPostText(lead.doc.text);
    const leadSentences = sentencesOf(leadText).filter((s) => s.length >= 20 && !s.endsWith('?') && !s.endsWith(':'));
    const headline = clip(cleanPostText(lead.doc.title) || leadSentences[0] || firstSentence(leadText, 90), 140);
    // The dek says what the conversation is about: the lead report's own summary sentence.
    const dekSentence =
      leadSentences.find((s) => s.length >= 50 && s.length <= 200 && !s.endsWith('?')) ?? leadSentences.find((s) => s.length >= 30 && s.length <= 200) ?? null;
    const dek = dekSentence ?? `${lead.doc.title ? 'Readers react to' : 'A conversation about'} ${brief.topic.split(/,\s*/).slice(0, 3).join(', ')}.`;

    // 1. The latest development, attributed.
    const detail = leadSentences.find((s) => s !== dekSentence && s.length <= 300);
    const who = sourceName(lead.doc);
    const when = WEEKDAY.format(lead.doc.publishedAt);
    const opening: DraftSegment[] = [];
    // One quote from the lead: its next sentence (the dek already carries its first), or its title.
    const said = detail ?? (dekSentence ? null : cleanPostText(lead.doc.title)) ?? dekSentence ?? '';
    if (lead.doc.platform === 'news' || lead.doc.platform === 'blog') {
      opening.push({ text: said ? `${who} reported on ${when}: “${clip(said, 300)}”` : `${who} reported on ${when}.`, sources: [lead.index] });
    } else {
      opening.push({
        text: `On ${when}, ${who} posted on ${platformName(lead.doc.platform)}: “${clip(said || cleanPostText(lead.doc.title) || firstSentence(leadText), 300)}”`,
        sources: [lead.index],
      });
    }
    paragraphs.push(opening);
    if (brief.previous) paragraphs[0].push({ text: ' The conversation picks up from last week’s coverage.', sources: [] });

    // 2. How it got here: earlier reports, oldest first, told as a sequence.
    const earlier = reports
      .filter((r) => r.index !== lead.index)
      .slice(0, 3)
      .sort((a, b) => a.doc.publishedAt.getTime() - b.doc.publishedAt.getTime() || a.index - b.index);
    if (earlier.length) {
      const segments: DraftSegment[] = [];
      earlier.forEach(({ doc, index }, i) => {
        const day = WEEKDAY.format(doc.publishedAt);
        const title = `“${clip(cleanPostText(doc.title), 200)}”`;
        const text =
          i === 0
            ? pick(
                [`It began on ${day}, when ${sourceName(doc)} reported ${title}.`, `The first report came on ${day}: ${title}, from ${sourceName(doc)}.`],
                seed,
              )
            : i === earlier.length - 1
              ? pick([` By ${day}, ${sourceName(doc)} had ${title}.`, ` Then, on ${day}, ${sourceName(doc)} reported ${title}.`], seed).replace(
                  ' had “',
                  ' was reporting “',
                )
              : ` On ${day} came ${title} (${sourceName(doc)}).`;
        segments.push({ text, sources: [index] });
      });
      paragraphs.push(segments);
    }

    // 3. The positions in the conversation, and who holds them.
    // Reports tell what happened (above); the positions come from the people discussing it, and from opinion blogs.
    const voices = docs
      .filter(({ doc, index }) => index !== lead.index && doc.platform !== 'news' && !earlier.some((e) => e.index === index))
      .map(({ doc, index }) => ({ doc, index, quote: keyQuote(doc.text, topic) }))
      .filter((v): v is { doc: WriterDocument; index: number; quote: string } => Boolean(v.quote))
      .sort((a, b) => a.doc.publishedAt.getTime() - b.doc.publishedAt.getTime() || a.index - b.index);
    const groups = new Map<Stance, typeof voices>();
    for (const voice of voices) {
      const stance = stanceOf(voice.quote);
      groups.set(stance, [...(groups.get(stance) ?? []), voice]);
    }
    const order = [...groups.entries()].sort((a, b) => b[1].length - a[1].length || (a[0] < b[0] ? -1 : 1));
    let lastAuthor = lead.doc.author;
    const quotedAuthors = new Set<string>();
    const chosenByStance = new Map<Stance, Array<{ doc: WriterDocument; index: number; quote: string }>>();
    for (const [stance, members] of order) {
      if (paragraphs.length >= 7) break;
      const chosen: typeof voices = [];
      for (const voice of members) {
        const author = voice.doc.author || `anon-${voice.index}`;
        if (quotedAuthors.has(author) || author === lastAuthor) continue;
        // Prefer voices from different platforms within a position.
        if (chosen.length >= 3) break;
        if (
          chosen.some((c) => c.doc.platform === voice.doc.platform) &&
          members.some((m) => !chosen.includes(m) && m !== voice && !chosen.some((c) => c.doc.platform === m.doc.platform) && !quotedAuthors.has(m.doc.author))
        )
          continue;
        chosen.push(voice);
        quotedAuthors.add(author);
        lastAuthor = author;
      }
      if (!chosen.length) continue;
      chosenByStance.set(stance, chosen);
      const position = POSITION[stance];
      const segments: DraftSegment[] = [{ text: `${pick(position.opener, seed, paragraphs.length)} `, sources: [] }];
      chosen.forEach(({ doc, index, quote }, i) => {
        const where = doc.platform === 'blog' && doc.outlet ? `the blog ${doc.outlet}` : platformName(doc.platform);
        const name = attribution(doc);
        const verb = pick(position.verbs, seed, i + paragraphs.length);
        const forms = [
          `On ${where}, ${name} ${verb}: “${quote}”`,
          `“${quote}” ${verb === 'pointed out' ? 'was how' : ''}${verb === 'pointed out' ? ` ${name} put it on ${where}.` : `${name} ${verb} on ${where}.`}`,
          `${capitalise(name)} (${where}) ${verb}: “${quote}”`,
        ];
        const text = forms[(seed + i + paragraphs.length) % forms.length];
        segments.push({ text: `${i ? ' ' : ''}${text}`, sources: [index] });
      });
      paragraphs.push(segments);
    }

    // Where they disagree: name who stands where, before the positions are told (inserted after the news).
    const stances = [...chosenByStance.entries()].filter(([, voices]) => voices.length);
    if (stances.length >= 2) {
      const firstPosition = paragraphs.length - stances.length;
      // Every name is cited to the posts it comes from.
      const segments: DraftSegment[] = [
        { text: `${pick(['The conversation divided.', 'Readers did not agree.', 'The reactions went different ways.'], seed)} `, sources: [] },
      ];
      stances.forEach(([stance, voices], i) => {
        const named = voices.slice(0, 2);
        // "Name (Platform)": the parenthesis keeps two names from reading as one ("Reyes and Juniper Vale").
        const who = named
          .map((v, j) => `${j === 0 && i === 0 ? capitalise(attribution(v.doc)) : attribution(v.doc)} (${platformName(v.doc.platform)})`)
          .join(' and ');
        const label = POSITION[stance].label === 'more favourable' ? `${named.length > 1 ? 'were' : 'was'} more favourable` : POSITION[stance].label;
        const joiner = i === 0 ? '' : i === stances.length - 1 ? ', while ' : '; ';
        segments.push({ text: `${joiner}${who} ${label}`, sources: named.map((v) => v.index) });
      });
      segments.push({ text: '.', sources: [] });
      const critics = chosenByStance.get('critical');
      const others = chosenByStance.get('supportive') ?? chosenByStance.get('practical');
      if (critics?.length && others?.length) {
        segments.push({
          text: ` On one side stood ${attribution(critics[0].doc)}, on the other ${attribution(others[0].doc)}: they read the same development differently.`,
          sources: [critics[0].index, others[0].index],
        });
      }
      paragraphs.splice(firstPosition, 0, segments);
    }

    return { headline, dek, paragraphs, writer: 'offline', model: null, usage: null };
  }
}

function topicWords(brief: NarrativeBrief): Set<string> {
  const counts = new Map<string, number>();
  for (const doc of brief.documents) {
    for (const word of new Set(`${doc.title} ${doc.text}`.toLowerCase().match(/[\p{L}\p{N}-]{4,}/gu) ?? [])) counts.set(word, (counts.get(word) ?? 0) + 1);
  }
  const floor = Math.max(2, Math.ceil(brief.documents.length * 0.15));
  const common = new Set([
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
  return new Set(
    [...counts]
      .filter(([w, n]) => n >= floor && !common.has(w))
      .map(([w]) => w)
      .concat(brief.topic.toLowerCase().split(/[,\s]+/)),
  );
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
