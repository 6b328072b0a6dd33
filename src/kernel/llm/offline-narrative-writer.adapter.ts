import { NarrativeWriter, type DraftSegment, type NarrativeBrief, type NarrativeDraft, type WriterDocument } from './narrative-writer.port';

const PLATFORM_NAMES: Record<string, string> = {
  reddit: 'Reddit',
  hackernews: 'Hacker News',
  bluesky: 'Bluesky',
  mastodon: 'Mastodon',
  news: 'the news sites',
  blog: 'blogs',
};

const WEEKDAY = new Intl.DateTimeFormat('en-GB', { weekday: 'long', timeZone: 'UTC' });

export function platformName(platform: string): string {
  return PLATFORM_NAMES[platform] ?? platform;
}

const ABBREVIATIONS = new Set(['st', 'dr', 'mr', 'mrs', 'ms', 'prof', 'sen', 'rep', 'gov', 'gen', 'jr', 'sr', 'inc', 'ltd', 'co', 'corp', 'vs', 'etc', 'e.g', 'i.e', 'no', 'vol', 'fig', 'approx', 'u.s', 'u.k']);

/** First sentence of a text (not fooled by "St." or "Dr."), cut at a word boundary. */
export function firstSentence(text: string, max = 220): string {
  const clean = text.replace(/\s+/g, ' ').trim();
  let end = clean.length;
  for (const match of clean.matchAll(/[.!?](?=\s|$)/g)) {
    const index = match.index;
    if (index < 20) continue;
    const word = /([A-Za-z.]+)$/.exec(clean.slice(0, index))?.[1].toLowerCase() ?? '';
    if (match[0] === '.' && (ABBREVIATIONS.has(word) || /^[a-z]$/.test(word))) continue;
    end = index + 1;
    break;
  }
  let sentence = clean.slice(0, end);
  if (sentence.length > max) sentence = `${sentence.slice(0, max).replace(/\s+\S*$/, '')}…`;
  return sentence;
}

/**
 * Composes a clearly labelled draft from the records themselves, with no model: who said what, where and
 * when, in their own words (quoted verbatim, so every quote is grounded). Used when no ANTHROPIC_API_KEY is set.
 */
export class OfflineNarrativeWriter extends NarrativeWriter {
  readonly name = 'offline' as const;

  async write(brief: NarrativeBrief): Promise<NarrativeDraft> {
    const docs = brief.documents.map((doc, index) => ({ doc, index }));
    if (docs.length === 0) throw new Error('cannot write a narrative from no documents');
    const byTime = [...docs].sort((a, b) => a.doc.publishedAt.getTime() - b.doc.publishedAt.getTime());
    // The lead is the earliest record with a real headline (news or a link post) if any.
    // The lead is the earliest reported article if any, else the earliest link post, else the earliest post.
    const lead =
      byTime.find(({ doc }) => doc.title && (doc.platform === 'news' || doc.platform === 'blog')) ??
      byTime.find(({ doc }) => doc.title && (doc.platform === 'hackernews' || doc.platform === 'reddit')) ??
      byTime[0];
    const platforms = [...new Set(docs.map(({ doc }) => doc.platform))];

    const paragraphs: DraftSegment[][] = [];
    const opening =
      lead === byTime[0]
        ? `The conversation started on ${platformName(lead.doc.platform)} on ${WEEKDAY.format(lead.doc.publishedAt)}, when ${attribution(lead.doc)} posted “${headlineOf(lead.doc)}”.`
        : `On ${WEEKDAY.format(lead.doc.publishedAt)}, ${attribution(lead.doc)} posted “${headlineOf(lead.doc)}” on ${platformName(lead.doc.platform)}.`;
    paragraphs.push([
      { text: opening, sources: [lead.index] },
      { text: ` ${lead.doc.text ? `It opened: “${firstSentence(lead.doc.text)}”` : ''}`.trimEnd(), sources: lead.doc.text ? [lead.index] : [] },
    ].filter((s) => s.text));

    // One paragraph per platform, quoting up to two voices from each, earliest first.
    for (const platform of platforms) {
      const voices = byTime.filter(({ doc, index }) => doc.platform === platform && index !== lead.index && doc.text).slice(0, 2);
      if (voices.length === 0) continue;
      const segments: DraftSegment[] = [{ text: `On ${platformName(platform)}, `, sources: [] }];
      voices.forEach(({ doc, index }, i) => {
        const lead = i === 0 ? `${attribution(doc)} wrote: ` : ` ${attribution(doc)} added: `;
        segments.push({ text: `${lead}“${firstSentence(doc.text)}”`, sources: [index] });
      });
      paragraphs.push(segments);
      if (paragraphs.length >= 7) break;
    }

    const first = byTime[0].doc.publishedAt;
    const last = byTime[byTime.length - 1].doc.publishedAt;
    paragraphs.push([
      {
        text: `Between ${WEEKDAY.format(first)} and ${WEEKDAY.format(last)} the conversation drew posts from ${listOf(platforms.map(platformName))}. This is an offline draft assembled from the posts themselves, without a language model; an editor should review it before it is relied on.`,
        sources: [],
      },
    ]);

    return {
      headline: headlineOf(lead.doc),
      dek: `An offline draft from ${docs.length} posts on ${listOf(platforms.map(platformName))}.`,
      paragraphs,
      writer: 'offline',
      model: null,
      usage: null,
    };
  }
}

function listOf(items: string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

function attribution(doc: WriterDocument): string {
  return doc.author ? doc.author : 'an anonymous poster';
}

function headlineOf(doc: WriterDocument): string {
  const title = (doc.title || firstSentence(doc.text, 90)).replace(/\s+/g, ' ').trim();
  return title.length > 140 ? `${title.slice(0, 137).replace(/\s+\S*$/, '')}…` : title;
}
