import { type WriterDocument } from '../../src/kernel/llm/narrative-writer.port';
import { OfflineNarrativeWriter } from '../../src/kernel/llm/offline-narrative-writer.adapter';
import { assessDraft } from '../../src/narratives/draft-assessment';

/**
 * The offline writer's stories go through the same grounding check as Claude's (DESIGN.md invariant 6): the new
 * prose it writes (a paragraph naming platforms and issues, names read from other records, cleaned titles) must
 * pass it, or every newcomer's demo story would be held.
 */
const at = (day: number, hour = 10) => new Date(Date.UTC(2026, 10, day, hour));
const doc = (over: Partial<WriterDocument>): WriterDocument => ({
  platform: 'reddit',
  author: '/u/someone',
  title: '',
  text: '',
  url: 'https://example.com/x',
  publishedAt: at(16),
  ...over,
});
const report = (text: string) =>
  doc({ platform: 'news', author: 'Halcyon Reyes', outlet: 'Civic Wire', title: 'Bill 114 passes second reading 61–38', text, publishedAt: at(17) });
const write = (documents: WriterDocument[], topic = 'bill') =>
  new OfflineNarrativeWriter().write({ beat: { name: 'AI policy', description: '' }, topic, documents });
const assess = async (documents: WriterDocument[], topic?: string) => {
  const draft = await write(documents, topic);
  return { draft, result: assessDraft({ draft, records: documents.map((d, i) => ({ ...d, id: `r${i}`, outlet: d.outlet ?? null })) }) };
};

describe('offline stories pass the grounding check', () => {
  it('with the paragraph that names where the talk happened (four platforms in a row) and what it turned on', async () => {
    const { draft, result } = await assess([
      report('The Calder Assembly voted 61–38 on Tuesday to pass the Model Transparency Act at second reading.'),
      doc({
        author: '/u/ledger_lines',
        text: 'The incident window is the part to read first, because 72 hours is tight for a small lab.',
        publishedAt: at(18),
      }),
      doc({
        platform: 'hackernews',
        author: 'saltmarsh',
        text: 'The incident window should start when the lab learns of the incident.',
        publishedAt: at(18, 11),
      }),
      doc({
        platform: 'mastodon',
        author: '@statecraft@social.example',
        text: 'I read the incident window section twice this morning and it holds up.',
        publishedAt: at(18, 12),
      }),
      doc({ platform: 'bluesky', author: 'b.bsky.social', text: 'Small labs will need a lawyer for the audit rules either way.', publishedAt: at(18, 13) }),
    ]);
    expect(draft.paragraphs.flat().some((s) => s.text.startsWith('Across Reddit, Hacker News, Mastodon and Bluesky'))).toBe(true);
    expect(result.report.failed).toEqual([]);
    expect(result.publishable).toBe(true);
  });

  it('with a handle named by the full name another record gives it', async () => {
    const { draft, result } = await assess([
      report('The Calder Assembly voted 61–38 on Tuesday. "Nobody has read section 2," said Quentin Fairweather, a technology lawyer.'),
      doc({
        platform: 'bluesky',
        author: '@qfairweather.bsky.social',
        text: 'If you read "AI copyright precedent" in a headline today, the headline is wrong.',
        publishedAt: at(18),
      }),
      doc({ author: '/u/a', text: 'The section 2 definitions are the part to read first, because they decide who is covered.', publishedAt: at(18, 12) }),
    ]);
    expect(draft.paragraphs.flat().some((s) => s.text.includes('Quentin Fairweather (Bluesky, as @qfairweather.bsky.social)'))).toBe(true);
    expect(result.report.failed).toEqual([]);
  });

  it('with a thread title that set a word in angle brackets (held for markup before)', async () => {
    const { draft, result } = await assess(
      [
        doc({ platform: 'hackernews', author: 'kerfuffle_42', title: "Open weights: why <Larchmont> isn't what it seems", publishedAt: at(17) }),
        doc({
          platform: 'hackernews',
          author: 'hedgerow',
          title: `New comment by hedgerow in "Open weights: why <Larchmont> isn't what it seems"`,
          text: 'The post is right about clause 4(b) but overstates clause 7.',
          publishedAt: at(17, 12),
        }),
      ],
      'larchmont',
    );
    expect(draft.headline).toBe("Open weights: why Larchmont isn't what it seems");
    expect(result.report.failed).toEqual([]);
  });
});
