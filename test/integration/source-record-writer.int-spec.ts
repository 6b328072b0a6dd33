import { DataSource } from 'typeorm';
import { DiscourseRecordRepository, type NewRecord } from '../../src/sources/discourse-record.repository';
import { lshBands, textSignature } from '../../src/sources/parsing/fingerprint';
import { RecordWriter } from '../../src/sources/record-writer';
import { Platform } from '../../src/sources/source.entity';
import { PollStatus } from '../../src/sources/source-poll.entity';
import { type PollSuccess } from '../../src/sources/source.repository';
import { SourcesService } from '../../src/sources/sources.service';
import { openTestDatabase } from '../support/test-db';
import { startTestApp, type TestApp } from '../support/test-app';

/**
 * The write-behind RecordWriter on the real database: the pieces of several sources written in one transaction
 * dedupe against each other as they would across transactions, each poll's bookkeeping is written with them, and a
 * transaction that fails is retried piece by piece so only the bad piece fails. And the migration that moved the
 * LSH band keys into the records keeps stored records findable as near-duplicates.
 */
jest.setTimeout(180_000);

const POST =
  'Our city council voted on Tuesday to turn the old rail yard into a public park with a community orchard, after three years of hearings. ' +
  'The plan keeps the brick roundhouse as a covered market, adds a protected bike path along the river, and sets aside one fifth of the land for allotments.';
const SYNDICATED = POST.replace('on Tuesday', 'this week') + ' Originally published on the Riverside Ledger.';
const OTHER =
  'The library board approved longer opening hours for the central branch, open until nine on weekdays from January, paid for by closing the mobile van.';

function row(sourceId: string, externalId: string, url: string, text: string): NewRecord {
  const signature = textSignature(text);
  return {
    sourceId,
    platform: Platform.News,
    externalId,
    url,
    canonicalUrl: url.replace(/^https?:\/\//, ''),
    title: externalId,
    author: '',
    text,
    publishedAt: new Date('2026-11-18T10:00:00Z'),
    dated: true,
    engagement: {},
    rawJson: JSON.stringify({ id: externalId }),
    textFingerprint: signature?.fingerprint ?? null,
    textMinhash: signature?.minhash ?? null,
    bands: signature?.bands ?? [],
  };
}

const success = (sourceId: string, items: number): PollSuccess => ({
  sourceId,
  startedAt: new Date('2026-11-18T10:00:00Z'),
  finishedAt: new Date('2026-11-18T10:00:01Z'),
  record: {
    status: PollStatus.Succeeded,
    itemsSeen: items,
    itemsNew: 0,
    itemsUpdated: 0,
    itemsDuplicate: 0,
    itemsInvalid: 0,
    itemsOverCap: 0,
    httpStatus: 200,
    responseMs: 12,
    notModified: false,
    rejected: [],
    error: null,
  },
  lastItems: items,
  lastResponseMs: 12,
  etag: '"e1"',
  lastModified: null,
  nextPollAt: new Date('2026-11-18T10:30:01Z'),
});

describe('RecordWriter', () => {
  let t: TestApp;
  let writer: RecordWriter;
  let repository: DiscourseRecordRepository;
  let sources: SourcesService;
  let db: DataSource;

  beforeAll(async () => {
    t = await startTestApp({ DEMO: 'false' });
    writer = t.get(RecordWriter);
    repository = t.get(DiscourseRecordRepository);
    sources = t.get(SourcesService);
    db = t.get(DataSource);
  });
  afterAll(() => t?.close());
  afterEach(() => jest.restoreAllMocks());

  const newSource = async (name: string) => (await sources.add({ kind: 'rss', target: `https://${name}.example/feed.xml` })).id;
  const urlsOf = async (sourceId: string): Promise<string[]> =>
    (await db.query(`SELECT url FROM discourse_records WHERE source_id = $1 ORDER BY url`, [sourceId])).map((r: { url: string }) => r.url);

  it('writes the pieces of several sources in one transaction, deduping each against the pieces before it', async () => {
    const [a, b, c] = [await newSource('writer-a'), await newSource('writer-b'), await newSource('writer-c')];
    const upserts = jest.spyOn(repository, 'upsertPieces');
    // A poll still parsing: the writer holds the pieces handed over meanwhile, then writes them together.
    const parsing = writer.producing();
    const written = [
      writer.write(a, [row(a, 'a1', 'https://ledger.example/park', POST)], () => success(a, 1)),
      writer.write(
        b,
        [
          row(b, 'b1', 'http://ledger.example/park', 'A different text under the same canonical URL as the record of source a.'),
          row(b, 'b2', 'https://newswire.example/park', SYNDICATED),
        ],
        () => success(b, 2),
      ),
      writer.write(c, [row(c, 'c1', 'https://copy.example/park', POST), row(c, 'c2', 'https://library.example/hours', OTHER)], () => success(c, 2)),
    ];
    parsing();
    const [outA, outB, outC] = await Promise.all(written);
    expect(upserts).toHaveBeenCalledTimes(1);
    expect(upserts.mock.calls[0][1].map((p) => p.sourceId)).toEqual([a, b, c]);
    expect(outA).toMatchObject({ inserted: 1, duplicate: 0 });
    // b1: a's canonical URL; b2: a's text with small edits. c1: a's exact text under another URL.
    expect(outB).toMatchObject({ inserted: 0, duplicate: 2, nearDuplicate: 1 });
    expect(outC).toMatchObject({ inserted: 1, duplicate: 1, nearDuplicate: 0 });
    expect(await urlsOf(a)).toEqual(['https://ledger.example/park']);
    expect(await urlsOf(b)).toEqual([]);
    expect(await urlsOf(c)).toEqual(['https://library.example/hours']);
    // Each poll's bookkeeping committed with the records: its poll row and its source's health.
    const polls: Array<{ source_id: string; items_seen: number; status: string }> = await db.query(
      `SELECT source_id, items_seen, status FROM source_polls WHERE source_id = ANY($1::uuid[]) ORDER BY items_seen`,
      [[a, b, c]],
    );
    expect(polls).toHaveLength(3);
    expect(polls.every((p) => p.status === 'succeeded')).toBe(true);
    const health: Array<{ id: string; last_items: number; etag: string; lease_until: Date | null; consecutive_failures: number }> = await db.query(
      `SELECT id, last_items, etag, lease_until, consecutive_failures FROM sources WHERE id = ANY($1::uuid[])`,
      [[a, b, c]],
    );
    expect(new Map(health.map((h) => [h.id, h.last_items]))).toEqual(
      new Map([
        [a, 1],
        [b, 2],
        [c, 2],
      ]),
    );
    expect(health.every((h) => h.etag === '"e1"' && h.lease_until === null && h.consecutive_failures === 0)).toBe(true);
  });

  it('retries a failed transaction piece by piece: only the bad piece fails', async () => {
    const good = await newSource('writer-good');
    const gone = '00000000-0000-4000-8000-000000000001'; // no such source: its records break the foreign key
    const upserts = jest.spyOn(repository, 'upsertPieces');
    const parsing = writer.producing();
    const written = [
      writer.write(good, [row(good, 'g1', 'https://good.example/1', 'One plain item of the good source.')], () => success(good, 1)),
      writer.write(gone, [row(gone, 'x1', 'https://gone.example/1', 'short')], () => success(gone, 1)),
    ];
    parsing();
    const [outGood, outGone] = await Promise.allSettled(written);
    expect(outGood).toEqual({ status: 'fulfilled', value: expect.objectContaining({ inserted: 1 }) });
    expect(outGone).toEqual({ status: 'rejected', reason: expect.objectContaining({ message: expect.stringMatching(/foreign key/) }) });
    // Together once, then each alone.
    expect(upserts.mock.calls.map((call) => call[1].map((p) => p.sourceId))).toEqual([[good, gone], [good], [gone]]);
    expect(await urlsOf(good)).toEqual(['https://good.example/1']);
    const [{ n }] = await db.query(`SELECT count(*)::int AS n FROM source_polls WHERE source_id = $1`, [good]);
    expect(n).toBe(1);
  });

  it('stores a lone surrogate (left by cutting a string mid-pair) as U+FFFD, in the text and in the raw payload, and a written \\u as it is', async () => {
    const source = await newSource('writer-surrogates');
    const cut = '\u{1F600}'.slice(0, 1); // the high half of an emoji
    const first = { ...row(source, 's1', 'https://surrogates.example/1', 'A text whose author wrote C:\\ud800\\ and a lone half.'), title: `title ${cut}` };
    // As rawPayload leaves it when its cut at MAX_RAW_CHARS splits a pair: JSON.stringify writes the half as \ud83d.
    first.rawJson = JSON.stringify({ truncated: true, json: `{"title":"x${cut}` });
    const out = await writer.write(source, [first], () => success(source, 1));
    expect(out).toMatchObject({ inserted: 1 });
    const [stored] = await db.query(`SELECT title, text, raw FROM discourse_records WHERE source_id = $1`, [source]);
    expect(stored.title).toBe('title \uFFFD');
    expect(stored.text).toBe('A text whose author wrote C:\\ud800\\ and a lone half.');
    expect(stored.raw).toEqual({ truncated: true, json: '{"title":"x\uFFFD' });
    // An edit goes through the same path.
    const edited = await writer.write(source, [{ ...first, text: `edited ${cut}` }], () => success(source, 1));
    expect(edited).toMatchObject({ updated: 1 });
    const [again] = await db.query(`SELECT text FROM discourse_records WHERE source_id = $1`, [source]);
    expect(again.text).toBe('edited \uFFFD');
  });
});

describe('migration 1764610000000 (band keys move into the records)', () => {
  it('gives stored records their band keys from their signatures, so a near-duplicate of one is still found', async () => {
    const { dataSource, close } = await openTestDatabase();
    try {
      // Undo every migration down to and including 1764610000000 (later ones, whoever adds them, first).
      const newest = async (): Promise<number> => Number((await dataSource.query(`SELECT max(timestamp) AS t FROM migrations`))[0].t);
      while ((await newest()) >= 1764610000000) await dataSource.undoLastMigration({ transaction: 'each' });
      expect(await newest()).toBeLessThan(1764610000000);
      const [{ id: sourceId }] = await dataSource.query(
        `INSERT INTO sources (slug, name, platform, kind, location, beat_slugs, enabled) VALUES ('m', 'm', 'news', 'rss', 'https://m.example/', '{}', true) RETURNING id`,
      );
      const signature = textSignature(POST);
      const [{ id: recordId }] = await dataSource.query(
        `INSERT INTO discourse_records (source_id, platform, external_id, url, canonical_url, text, published_at, text_fingerprint, text_minhash)
         VALUES ($1, 'news', 'm1', 'https://ledger.example/park', 'ledger.example/park', $2, now(), $3, $4::int[]) RETURNING id`,
        [sourceId, POST, signature?.fingerprint, signature?.minhash],
      );
      await dataSource.query(`INSERT INTO discourse_record_bands (band, record_id) SELECT unnest($1::int[]), $2`, [signature?.bands, recordId]);
      await dataSource.runMigrations({ transaction: 'each' });

      const [{ bands }] = await dataSource.query(`SELECT text_bands AS bands FROM discourse_records WHERE id = $1`, [recordId]);
      expect(bands).toEqual(lshBands(signature?.minhash ?? []));
      expect(bands).toEqual(signature?.bands);
      const [{ tables }] = await dataSource.query(`SELECT count(*)::int AS tables FROM information_schema.tables WHERE table_name = 'discourse_record_bands'`);
      expect(tables).toBe(0);
      const repository = new DiscourseRecordRepository(dataSource);
      const [outcome] = await dataSource.transaction((m) =>
        repository.upsertPieces(m, [{ sourceId, rows: [row(sourceId, 'm2', 'https://newswire.example/park', SYNDICATED)] }]),
      );
      expect(outcome).toMatchObject({ inserted: 0, duplicate: 1, nearDuplicate: 1 });
    } finally {
      await close();
    }
  });
});
