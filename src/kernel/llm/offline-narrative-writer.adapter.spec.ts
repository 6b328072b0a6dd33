import { OfflineNarrativeWriter, firstSentence, keyQuote, sentencesOf } from './offline-narrative-writer.adapter';
import { cleanPostText } from './post-text';
import { type WriterDocument } from './narrative-writer.port';

const doc = (over: Partial<WriterDocument>): WriterDocument => ({
  platform: 'reddit',
  author: '/u/someone',
  title: '',
  text: 'Something happened here today. And more.',
  url: 'https://example.com/x',
  publishedAt: new Date('2026-11-16T10:00:00Z'),
  ...over,
});
const at = (day: number, hour = 10) => new Date(Date.UTC(2026, 10, day, hour));

describe('OfflineNarrativeWriter', () => {
  const documents = [
    doc({
      platform: 'news',
      author: 'Rosalind Achterberg',
      outlet: 'Civic Wire',
      title: 'Calder committee backs Bill 114',
      text: 'A committee of the Calder Assembly voted to advance Bill 114 on Monday. The vote was close.',
      publishedAt: at(16),
    }),
    doc({
      platform: 'bluesky',
      author: 'mara.bsky.social',
      text: 'People keep saying this is a copyright "precedent". It isn\'t. The bill is about incident reporting.',
      publishedAt: at(17),
    }),
    doc({
      platform: 'reddit',
      author: '/u/amicus',
      text: '**Three asks** for the bill:\n- 72-hour incident reporting is too short\n- the threshold is wrong\n\nThe first is negotiable.',
      publishedAt: at(18),
    }),
    doc({
      platform: 'news',
      author: 'Yusuf Penhaligon',
      outlet: 'The Signal',
      title: 'Bill 114 passes second reading 61–38',
      text: 'The Calder Assembly passed Bill 114 at second reading on Thursday, 61 votes to 38. Third reading is set for December 1.',
      publishedAt: at(19),
    }),
    doc({ platform: 'hackernews', author: 'mara.bsky.social', text: 'The bill does not ban open weights, it only asks for reports.', publishedAt: at(19, 12) }),
    doc({
      platform: 'mastodon',
      author: '@clerk@civic.example',
      text: 'Good to see the incident reporting rule survive second reading. It works.',
      publishedAt: at(20),
    }),
  ];
  const write = () => new OfflineNarrativeWriter().write({ beat: { name: 'AI policy', description: '' }, topic: 'bill, reading, incident', documents });

  it('leads with the latest reported development: headline and dek from the newest news report, outlet named', async () => {
    const draft = await write();
    expect(draft.writer).toBe('offline');
    expect(draft.headline).toBe('Bill 114 passes second reading 61–38');
    expect(draft.dek).toBe('The Calder Assembly passed Bill 114 at second reading on Thursday, 61 votes to 38.');
    expect(draft.paragraphs[0][0]).toEqual({
      text: 'Yusuf Penhaligon of The Signal reported on Thursday: “Third reading is set for December 1.”',
      sources: [3],
    });
    // Earlier developments follow, in order.
    expect(draft.paragraphs[1].map((s) => s.text).join('')).toMatch(/Monday.*“Calder committee backs Bill 114”.*Rosalind Achterberg of Civic Wire/);
  });

  it('quotes complete thoughts verbatim, never cutting before a reversal, with Markdown and list residue removed', async () => {
    const draft = await write();
    const text = draft.paragraphs
      .flat()
      .map((s) => s.text)
      .join(' ');
    expect(text).toContain('“People keep saying this is a copyright "precedent". It isn\'t.');
    expect(text).not.toMatch(/\*\*|^- |\s-\s72/m);
    for (const segment of draft.paragraphs.flat().filter((s) => s.sources.length)) {
      for (const [, quote] of segment.text.matchAll(/“([^”]+)”/g)) {
        const source = documents[segment.sources[0]];
        expect(cleanPostText(`${source.title}\n${source.text}`).replace(/\s+/g, ' ')).toContain(quote.replace(/…$/, ''));
      }
    }
  });

  it('groups voices by what they say, across platforms, and never quotes one author twice in a row', async () => {
    const draft = await write();
    const quoted = (s: { text: string }) => s.text.includes('“');
    const authors = draft.paragraphs
      .flat()
      .filter((s) => s.sources.length && quoted(s))
      .map((s) => documents[s.sources[0]].author);
    for (let i = 1; i < authors.length; i++) expect(authors[i]).not.toBe(authors[i - 1]);
    // Critical and supportive voices are quoted in different paragraphs, whatever their platform.
    const paragraphOf = (author: string) =>
      draft.paragraphs.findIndex((p) => p.some((s) => quoted(s) && s.sources.some((i) => documents[i].author === author)));
    expect(paragraphOf('@clerk@civic.example')).not.toBe(paragraphOf('mara.bsky.social'));
  });

  it('says who holds which position and who disagrees with whom, every name cited to its post', async () => {
    const draft = await write();
    const overview = draft.paragraphs.find((p) => p.some((s) => /pushed back|more favourable|focused on the specifics/.test(s.text)))!;
    expect(overview).toBeDefined();
    const text = overview.map((s) => s.text).join('');
    expect(text).toMatch(/read the same development differently/);
    // It comes before the positions are quoted, and names only posts it cites.
    expect(draft.paragraphs.indexOf(overview)).toBeLessThan(
      draft.paragraphs.findIndex((p) => p.some((s) => s.text.includes('“') && documents[s.sources[0]]?.platform !== 'news')),
    );
    for (const segment of overview.filter((s) => s.sources.length)) {
      for (const i of segment.sources) expect(segment.text).toContain(documents[i].author);
    }
  });

  it('varies its connective prose between stories', async () => {
    const openers = new Set<string>();
    for (const topic of ['bill, reading, incident', 'licence, weights', 'benchmark, leak', 'scribe, notes']) {
      const draft = await new OfflineNarrativeWriter().write({ beat: { name: 'AI policy', description: '' }, topic, documents });
      openers.add(draft.paragraphs.map((p) => (p[0].sources.length ? '' : p[0].text)).join('|'));
    }
    expect(openers.size).toBeGreaterThan(1);
  });

  it('says "offline" nowhere in the story: the disclosure line is the one label', async () => {
    const draft = await write();
    expect(
      `${draft.headline} ${draft.dek} ${draft.paragraphs
        .flat()
        .map((s) => s.text)
        .join(' ')}`,
    ).not.toMatch(/offline|language model/i);
  });

  it('says when the storyline continues last week’s', async () => {
    const draft = await new OfflineNarrativeWriter().write({
      beat: { name: 'AI policy', description: '' },
      topic: 'bill',
      documents,
      previous: { headline: 'Calder committee backs Bill 114', dek: '' },
    });
    expect(draft.paragraphs[0].map((s) => s.text).join('')).toMatch(/last week’s coverage/);
  });

  it('refuses to write from nothing', async () => {
    await expect(new OfflineNarrativeWriter().write({ beat: { name: 'x', description: '' }, topic: 'x', documents: [] })).rejects.toThrow(/no documents/);
  });
});

describe('keyQuote and sentences', () => {
  it('keeps a reversal with the sentence it reverses', () => {
    expect(keyQuote('People keep saying this is a copyright "precedent". It isn\'t.', new Set(['copyright']))).toBe(
      'People keep saying this is a copyright "precedent". It isn\'t.',
    );
  });
  it('treats line breaks as sentence ends', () => {
    expect(sentencesOf('Three asks:\n- one thing\n- another')).toEqual(['Three asks:', '- one thing', '- another']);
  });
  it('cuts at the first sentence end or at a word boundary', () => {
    expect(firstSentence('Short one? No.')).toBe('Short one?');
    expect(firstSentence('This is the first sentence. This is another.')).toBe('This is the first sentence.');
    expect(firstSentence('word '.repeat(100), 30)).toMatch(/^(word ){5}word…$/);
    expect(firstSentence('Errors appeared in 4.2% of notes during a pilot at St. Aldric Health. Then more.')).toBe(
      'Errors appeared in 4.2% of notes during a pilot at St. Aldric Health.',
    );
    expect(firstSentence('A report by Dr. Ama Whitlock found 1.9% errors. Next.')).toBe('A report by Dr. Ama Whitlock found 1.9% errors.');
  });
});
