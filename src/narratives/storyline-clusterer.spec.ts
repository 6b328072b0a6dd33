import { assignBeat, carryKeys, clusterRecords, entitiesOf, linkToPrevious, storylineScore } from './storyline-clusterer';

const at = (h: number) => new Date(Date.UTC(2026, 10, 16, h));
const records = [
  { id: 'a1', platform: 'news', publishedAt: at(1), text: 'Quillfeather releases Larchmont-70B open weights under a restrictive licence' },
  { id: 'a2', platform: 'hackernews', publishedAt: at(2), text: 'Larchmont-70B weights licence is not open source, says Quillfeather critic' },
  { id: 'a3', platform: 'reddit', publishedAt: at(3), text: 'Running Larchmont-70B weights locally: quantised Quillfeather model on two GPUs' },
  { id: 'a4', platform: 'bluesky', publishedAt: at(4), text: 'The Larchmont-70B licence from Quillfeather bans big companies' },
  { id: 'b1', platform: 'news', publishedAt: at(2), text: 'St. Aldric Health pilots ambient scribe in emergency department' },
  { id: 'b2', platform: 'reddit', publishedAt: at(5), text: 'Nurses at St. Aldric say the ambient scribe misses medication doses' },
  { id: 'b3', platform: 'mastodon', publishedAt: at(6), text: 'Ambient scribe at St. Aldric Health: patients were not asked for consent' },
  { id: 'n1', platform: 'reddit', publishedAt: at(7), text: 'What keyboard do you use for coding?' },
];

describe('clusterRecords', () => {
  it('groups records that share vocabulary and ranks by volume and spread', () => {
    const clusters = clusterRecords(records, { minRecords: 2 });
    expect(clusters.map((c) => [...c.recordIds].sort())).toEqual([
      ['a1', 'a2', 'a3', 'a4'],
      ['b1', 'b2', 'b3'],
    ]);
    expect(clusters[0].key).toBe('a1');
    expect(clusters[0].platformCount).toBe(4);
    expect(clusters[0].score).toBe(storylineScore(4, 4, { authors: clusters[0].signals!.authors, velocity: clusters[0].signals!.velocity, engagement: 0 }));
    expect(clusters[0].signals).toEqual(expect.objectContaining({ volume: 4, platforms: 4, entities: expect.arrayContaining(['larchmont-70b']) }));
    expect(clusters[0].label).toMatch(/larchmont-70b|quillfeather/);
  });

  it('is deterministic and drops storylines below the minimum', () => {
    expect(clusterRecords([...records].reverse(), { minRecords: 2 })).toEqual(clusterRecords(records, { minRecords: 2 }));
    expect(clusterRecords(records, { minRecords: 4 }).map((c) => c.key)).toEqual(['a1']);
  });
});

describe('assignBeat', () => {
  const beats = [
    { slug: 'open-source-ai', keywords: ['open weights', 'licence', 'larchmont-70b'] },
    { slug: 'ai-health', keywords: ['scribe', 'patients', 'hospital'] },
  ];
  it('uses the only beat of a single-beat source', () => {
    expect(assignBeat('anything', ['ai-health'], beats)).toBe('ai-health');
  });
  it('picks the beat whose keywords occur most among the source beats', () => {
    expect(assignBeat('The ambient scribe annoyed patients', ['open-source-ai', 'ai-health'], beats)).toBe('ai-health');
    expect(assignBeat('Larchmont-70B open weights licence', [], beats)).toBe('open-source-ai');
  });
  it('returns null when no keyword occurs', () => {
    expect(assignBeat('keyboards', ['open-source-ai', 'ai-health'], beats)).toBeNull();
  });
});

describe('carryKeys', () => {
  const cluster = (key: string, recordIds: string[]) => ({ key, recordIds, label: '', platformCount: 1, score: recordIds.length, membershipHash: key });
  it('keeps an existing storyline key when a late, earlier-dated post changes the earliest record', () => {
    const out = carryKeys([cluster('late', ['late', 'a1', 'a2', 'a3']), cluster('b1', ['b1', 'b2'])], [{ key: 'a1', recordIds: ['a1', 'a2', 'a3'] }]);
    expect(out.map((c) => c.key)).toEqual(['a1', 'b1']);
  });
  it('matches one to one, best overlap first, and leaves unrelated clusters alone', () => {
    const out = carryKeys(
      [cluster('x', ['a1', 'a2']), cluster('y', ['a1', 'a2', 'a3', 'a4']), cluster('z', ['q'])],
      [{ key: 'a1', recordIds: ['a1', 'a2', 'a3', 'a4'] }],
    );
    expect(out.map((c) => c.key)).toEqual(['x', 'a1', 'z']);
  });
  it('never lets a fresh key collide with a carried one', () => {
    const out = carryKeys([cluster('k', ['n1', 'n2']), cluster('m', ['o1', 'o2'])], [{ key: 'k', recordIds: ['o1', 'o2'] }]);
    expect(new Set(out.map((c) => c.key)).size).toBe(2);
    expect(out[1].key).toBe('k');
  });
});

describe('ranking signals', () => {
  it('ranks many independent voices above one prolific author, and a burst above a trickle', () => {
    expect(storylineScore(6, 2, { authors: 6 })).toBeGreaterThan(storylineScore(6, 2, { authors: 1 }));
    expect(storylineScore(6, 2, { authors: 6, velocity: 4 })).toBeGreaterThan(storylineScore(6, 2, { authors: 6, velocity: 1 }));
    expect(storylineScore(6, 2, { authors: 6, engagement: 500 })).toBeGreaterThan(storylineScore(6, 2, { authors: 6, engagement: 0 }));
  });

  it('counts distinct authors and the busiest day against the beat baseline', () => {
    const day = (d: number, h = 9) => new Date(Date.UTC(2026, 10, d, h));
    const burst = ['x1', 'x2', 'x3', 'x4'].map((id, i) => ({
      id,
      platform: i % 2 ? 'reddit' : 'bluesky',
      author: 'same',
      publishedAt: day(18, 9 + i),
      text: 'Harwick CivicAssist chatbot benefits errors council vote',
    }));
    const spread = ['y1', 'y2', 'y3', 'y4'].map((id, i) => ({
      id,
      platform: i % 2 ? 'reddit' : 'bluesky',
      author: `a${i}`,
      publishedAt: day(16 + i),
      text: 'Lumenloom settlement authors opt-out claims portal guild',
    }));
    const clusters = clusterRecords([...burst, ...spread], { minRecords: 2, window: { start: day(16, 0), end: day(23, 0) } });
    const byKey = new Map(clusters.map((c) => [c.key, c.signals!]));
    expect(byKey.get('x1')).toEqual(expect.objectContaining({ authors: 1, volume: 4 }));
    expect(byKey.get('y1')).toEqual(expect.objectContaining({ authors: 4, volume: 4 }));
    expect(byKey.get('x1')!.velocity).toBeGreaterThan(byKey.get('y1')!.velocity);
  });

  it('finds entities: multi-word names and model names', () => {
    expect(entitiesOf('Quillfeather Labs shipped Larchmont-70B; St. Aldric Health paused it.')).toEqual(
      expect.arrayContaining(['quillfeather labs', 'larchmont-70b']),
    );
  });
});

describe('linkToPrevious', () => {
  const signals = (entities: string[], keyPhrases: string[]) => ({ volume: 5, velocity: 1, platforms: 2, authors: 5, engagement: 0, entities, keyPhrases });
  it('links a storyline to last week’s storyline about the same things, one to one', () => {
    const previous = [
      { id: 'old-bill', label: 'bill, calder, reading', signals: signals(['calder assembly', 'bill 114'], ['second reading']) },
      { id: 'old-scribe', label: 'scribe, aldric', signals: signals(['st. aldric', 'scribewell'], ['ambient scribe']) },
    ];
    const links = linkToPrevious(
      [
        { label: 'bill, calder, third', signals: signals(['calder assembly', 'bill 114'], ['third reading']) },
        { label: 'keyboards', signals: signals(['mechanical keyboards'], ['key switches']) },
      ],
      previous,
    );
    expect(links).toEqual(['old-bill', null]);
  });
});
