import { parseHackerNewsSearch, parseRedditListing } from '../adapters/platform-parsers';
import { dateFromEpochSeconds, parseFeedDate } from './feed-date';

describe('parseFeedDate', () => {
  it.each([
    ['2026-01-01T10:00:00Z', '2026-01-01T10:00:00.000Z'],
    ['2026-01-01T10:00:00.5+02:00', '2026-01-01T08:00:00.500Z'],
    ['2026-01-01', '2026-01-01T00:00:00.000Z'],
    ['2026-01-01 10:00:00', '2026-01-01T10:00:00.000Z'],
    ['20031231T101455Z', '2003-12-31T10:14:55.000Z'],
    ['Thu, 01 Jan 2026 10:00:00 GMT', '2026-01-01T10:00:00.000Z'],
    // Wrong weekday (Jan 1st 2099 is a Thursday), "UT", names and 2-digit years all occur in real feeds.
    ['Fri, 01 Jan 2099 00:00:00 GMT', '2099-01-01T00:00:00.000Z'],
    ['Mon, 5 Nov 2026 10:00:00 UT', '2026-11-05T10:00:00.000Z'],
    ['Tue, 10 Jun 03 04:00:00 PDT', '2003-06-10T11:00:00.000Z'],
    ['2 October 2002 13:00 +0100', '2002-10-02T12:00:00.000Z'],
  ])('reads %p', (input, expected) => {
    expect(parseFeedDate(input)?.toISOString()).toBe(expected);
  });

  it.each([
    '0',
    '12',
    '2026',
    '2026-02-30',
    'Sat, 31 Feb 2026 10:00:00 GMT',
    '-2026-01-01',
    '-002026-01-01T00:00:00Z',
    '+002026-01-01',
    '1970-01-01T00:00:00Z',
    'yesterday',
    '2026-13-01',
    '',
    '   ',
  ])('refuses %p (the item is then dated when first seen)', (input) => {
    expect(parseFeedDate(input)).toBeNull();
  });
});

describe('dateFromEpochSeconds (Reddit created_utc, Algolia created_at_i)', () => {
  it.each([
    [1763460000, '2025-11-18T10:00:00.000Z'],
    [1763460000.5, '2025-11-18T10:00:00.500Z'],
    [0, null],
    [-62_200_000_000, null], // year 0: PostgreSQL refuses its ISO form, which failed the source's whole write
    [1e15, null],
    [Number.NaN, null],
    [Number.POSITIVE_INFINITY, null],
    ['1763460000', null],
    [null, null],
  ])('%p gives %p', (input, expected) => {
    expect(dateFromEpochSeconds(input)?.toISOString() ?? null).toBe(expected);
  });

  it('a platform item with an absurd timestamp is kept, undated (dated when first seen), not refused by the database', () => {
    const options = { fetchedAt: new Date('2026-11-20T00:00:00Z'), maxItems: 10 };
    const reddit = parseRedditListing(
      JSON.stringify({
        kind: 'Listing',
        data: {
          children: [
            { kind: 't3', data: { name: 't3_a', id: 'a', permalink: '/r/x/comments/a/', title: 'Year zero', selftext: 'text', created_utc: -62_200_000_000 } },
          ],
        },
      }),
      options,
    );
    expect(reddit.items.map((i) => [i.dated, i.publishedAt.toISOString()])).toEqual([[false, '2026-11-20T00:00:00.000Z']]);
    const hn = parseHackerNewsSearch(
      JSON.stringify({ hits: [{ objectID: '1', title: 'Far future', created_at_i: 1e15, created_at: '2026-11-19T08:00:00.000Z' }] }),
      options,
    );
    expect(hn.items.map((i) => [i.dated, i.publishedAt.toISOString()])).toEqual([[true, '2026-11-19T08:00:00.000Z']]);
  });
});
