/**
 * The digest's short summary of a story: the sentences that carry the conversation (who said what, on which
 * platform, where they disagree), not the first paragraphs, which are usually the news sites' quotes.
 */
export interface SummarySource {
  platform: string;
  author: string;
  title: string;
  url: string;
}

export interface SummarySentence {
  text: string;
  sources: SummarySource[];
}

interface StoryLike {
  paragraphs: ReadonlyArray<ReadonlyArray<{ text: string; cites: readonly number[] }>>;
  citations: ReadonlyArray<{ number: number; record: { platform: string; author: string; title: string; url: string } }>;
}

const COMMUNITY = new Set(['reddit', 'hackernews', 'bluesky', 'mastodon']);
const CONTRAST = /\b(but|while|whereas|however|disagre\w*|push(?:ed)? back|countered|objected|skeptic\w*|sceptic\w*|critic\w*|argued|others|instead|rather)\b/i;

/** A sentence end, but not after an abbreviation such as "Dr." or "St." or a single initial. */
const BOUNDARY = /(?<!\b(?:Dr|Mr|Mrs|Ms|Mx|St|Prof|Sen|Rep|Gov|Gen|Jr|Sr|Inc|Ltd|Co|vs|No|Fig|e\.g|i\.e|[A-Z])\.)(?<=[.!?…]["”’)]?)\s+(?=["“‘(]?[A-Z0-9])/;
const ENDS_SENTENCE = /(?<!\b(?:Dr|Mr|Mrs|Ms|Mx|St|Prof|Sen|Rep|Gov|Gen|Jr|Sr|Inc|Ltd|Co|vs|No|Fig|e\.g|i\.e|[A-Z]))[.!?…]["”’)]?\s*$/;
const STARTS_SENTENCE = /^\s+["“‘(]?[A-Z0-9]/;

/** Sentences of a paragraph, each with the citation numbers of the runs that end in it. */
function sentences(paragraph: ReadonlyArray<{ text: string; cites: readonly number[] }>): Array<{ text: string; cites: number[] }> {
  const out: Array<{ text: string; cites: number[] }> = [];
  let text = '';
  let cites: number[] = [];
  const flush = () => {
    if (text.trim()) out.push({ text: text.trim(), cites });
    text = '';
    cites = [];
  };
  for (const run of paragraph) {
    if (ENDS_SENTENCE.test(text) && STARTS_SENTENCE.test(run.text)) flush();
    const parts = run.text.split(BOUNDARY);
    parts.forEach((part, i) => {
      if (i > 0) flush();
      text += part;
    });
    cites = [...cites, ...run.cites];
  }
  flush();
  return out;
}

/**
 * Up to `max` sentences (and about `maxChars` characters), chosen greedily for the community platforms they add and
 * for disagreement, then put back in story order. Each keeps its sources (deduplicated), so nothing needs `[N]`.
 */
export function conversationSummary(story: StoryLike, max = 3, maxChars = 520): SummarySentence[] {
  const byNumber = new Map(story.citations.map((c) => [c.number, c.record]));
  // Fragments ("On blogs, Dr.") say nothing on their own.
  const all = story.paragraphs
    .flatMap((p) => sentences(p))
    .filter((s) => s.text.length >= 30)
    .map((s, index) => {
      const records = [...new Set(s.cites)].map((n) => byNumber.get(n)).filter((r): r is NonNullable<typeof r> => Boolean(r));
      return { index, text: s.text, records };
    });
  const picked: typeof all = [];
  const heard = new Set<string>();
  let chars = 0;
  while (picked.length < max) {
    let best: (typeof all)[number] | null = null;
    let bestScore = -1;
    for (const s of all) {
      if (picked.includes(s) || chars + s.text.length > maxChars) continue;
      const platforms = new Set(s.records.map((r) => r.platform));
      const fresh = [...platforms].filter((p) => COMMUNITY.has(p) && !heard.has(p)).length;
      const community = [...platforms].some((p) => COMMUNITY.has(p)) ? 1 : 0;
      const score = fresh * 4 + community * 2 + (CONTRAST.test(s.text) ? 2 : 0) - s.index * 0.01;
      if (score > bestScore) {
        best = s;
        bestScore = score;
      }
    }
    if (!best) break;
    picked.push(best);
    chars += best.text.length;
    for (const r of best.records) heard.add(r.platform);
  }
  return picked
    .sort((a, b) => a.index - b.index)
    .map((s) => ({
      text: s.text,
      sources: s.records
        .filter((r, i, list) => list.findIndex((o) => o.url === r.url) === i)
        .map((r) => ({ platform: r.platform, author: r.author, title: r.title, url: r.url })),
    }));
}
