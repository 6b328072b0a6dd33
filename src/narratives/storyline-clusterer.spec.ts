import { assignBeat, clusterRecords, storylineScore } from './storyline-clusterer';

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
    expect(clusters[0].score).toBe(storylineScore(4, 4));
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
