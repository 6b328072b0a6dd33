import { OfflineNarrativeWriter, firstSentence } from './offline-narrative-writer.adapter';
import { type WriterDocument } from './narrative-writer.port';

const doc = (over: Partial<WriterDocument>): WriterDocument => ({
  platform: 'reddit', author: '/u/someone', title: '', text: 'Something happened here today. And more.', url: 'https://example.com/x', publishedAt: new Date('2026-11-16T10:00:00Z'), ...over,
});

describe('OfflineNarrativeWriter', () => {
  const documents = [
    doc({ platform: 'bluesky', author: 'mara.bsky.social', text: 'Reading the QCL now. Clause 7 is wild.', publishedAt: new Date('2026-11-16T18:00:00Z') }),
    doc({ platform: 'news', author: 'Rosalind Achterberg', title: 'Quillfeather releases Larchmont-70B', text: 'Quillfeather Labs on Monday released Larchmont-70B. More text.', publishedAt: new Date('2026-11-16T15:00:00Z') }),
    doc({ platform: 'hackernews', author: 'tptacek_fan', text: 'The licence is not open source by any definition.', publishedAt: new Date('2026-11-17T09:00:00Z') }),
  ];

  it('leads with the earliest headline and quotes each platform verbatim, citing the quoted record', async () => {
    const draft = await new OfflineNarrativeWriter().write({ beat: { name: 'Open-source AI', description: '' }, topic: 'larchmont-70b, licence', documents });
    expect(draft.writer).toBe('offline');
    expect(draft.headline).toBe('Quillfeather releases Larchmont-70B');
    expect(draft.dek).toBe('An offline draft from 3 posts on Bluesky, the news sites and Hacker News.');
    expect(draft.paragraphs[0][0]).toEqual({ text: expect.stringContaining('“Quillfeather releases Larchmont-70B”'), sources: [1] });
    const cited = draft.paragraphs.flat().filter((s) => s.sources.length);
    for (const segment of cited) {
      const quote = /“([^”]+)”/.exec(segment.text)![1].replace(/…$/, '');
      expect(documents[segment.sources[0]].text + documents[segment.sources[0]].title).toContain(quote);
    }
    expect(draft.paragraphs.at(-1)![0].text).toMatch(/offline draft/);
  });

  it('refuses to write from nothing', async () => {
    await expect(new OfflineNarrativeWriter().write({ beat: { name: 'x', description: '' }, topic: 'x', documents: [] })).rejects.toThrow(/no documents/);
  });
});

describe('firstSentence', () => {
  it('cuts at the first sentence end or at a word boundary', () => {
    expect(firstSentence('Short one? No.')).toBe('Short one? No.');
    expect(firstSentence('This is the first sentence. This is another.')).toBe('This is the first sentence.');
    expect(firstSentence('word '.repeat(100), 30)).toMatch(/^(word ){5}word…$/);
    expect(firstSentence('Errors appeared in 4.2% of notes during a pilot at St. Aldric Health. Then more.')).toBe('Errors appeared in 4.2% of notes during a pilot at St. Aldric Health.');
    expect(firstSentence('A report by Dr. Ama Whitlock found 1.9% errors. Next.')).toBe('A report by Dr. Ama Whitlock found 1.9% errors.');
  });
});
