import { parseFeed } from 'feedsmith';
import { DataSource } from 'typeorm';
import { runDemoIfEmpty } from '../../src/bootstrap';
import { weekContaining } from '../../src/kernel/clock/week';
import { NarrativesService } from '../../src/narratives/narratives.service';
import { SourcesService } from '../../src/sources/sources.service';
import { readOutbox } from '../support/outbox';
import { startTestApp, type TestApp } from '../support/test-app';

/** What `npm start` does on a fresh machine: the bundled demo week through every stage, offline. */
describe('the demo week, end to end', () => {
  let t: TestApp;
  let db: DataSource;

  beforeAll(async () => {
    t = await startTestApp();
    db = t.get(DataSource);
    expect(await runDemoIfEmpty(t.app, t.config)).toBe(true);
  }, 180_000);

  afterAll(async () => {
    await t?.close();
  });

  it('imports at least 300 records from at least four platforms, deduplicated', async () => {
    const rows: Array<{ platform: string; n: number }> = await db.query(`SELECT platform, count(*)::int AS n FROM discourse_records GROUP BY platform`);
    const total = rows.reduce((sum, r) => sum + r.n, 0);
    expect(total).toBeGreaterThanOrEqual(300);
    expect(rows.filter((r) => ['reddit', 'hackernews', 'bluesky', 'news'].includes(r.platform)).length).toBe(4);
    const [{ dupes }] = await db.query(`SELECT coalesce(sum(items_duplicate), 0)::int AS dupes FROM source_polls`);
    expect(dupes).toBeGreaterThan(0);
    // A second poll finds nothing new.
    const again = await t.get(SourcesService).pollAll();
    expect(again.every((p) => p.ok && p.new === 0)).toBe(true);
  });

  it('writes cited narratives for every beat, each citation resolving to a record given to the writer', async () => {
    const perBeat: Array<{ slug: string; n: number }> = await db.query(
      `SELECT b.slug, count(n.id)::int AS n FROM beats b LEFT JOIN narratives n ON n.beat_id = b.id AND n.status = 'published' GROUP BY b.slug`,
    );
    expect(perBeat.length).toBeGreaterThanOrEqual(3);
    for (const beat of perBeat) expect(beat.n).toBeGreaterThanOrEqual(1);
    const narratives: Array<{ id: string; paragraphs: Array<Array<{ text: string; cites: number[] }>>; storyline_id: string }> = await db.query(
      `SELECT id, paragraphs, storyline_id FROM narratives`,
    );
    for (const n of narratives) {
      const markers = new Set(n.paragraphs.flat().flatMap((s) => s.cites));
      const citations: Array<{ number: number; in_storyline: boolean }> = await db.query(
        `SELECT c.number, EXISTS (SELECT 1 FROM storyline_records sr WHERE sr.storyline_id = $2 AND sr.record_id = c.record_id) AS in_storyline
         FROM narrative_citations c WHERE c.narrative_id = $1`,
        [n.id, n.storyline_id],
      );
      expect(new Set(citations.map((c) => c.number))).toEqual(markers);
      expect(citations.every((c) => c.in_storyline)).toBe(true);
      expect(n.paragraphs.length).toBeGreaterThanOrEqual(3);
    }
  });

  it('writes offline stories a reader can take: all publish, no one quoted twice in a row, no residue, real headlines', async () => {
    const narratives: Array<{ id: string; headline: string; status: string; paragraphs: Array<Array<{ text: string; cites: number[] }>> }> = await db.query(
      `SELECT id, headline, status, paragraphs FROM narratives WHERE writer = 'offline'`,
    );
    expect(narratives.length).toBeGreaterThanOrEqual(6);
    for (const n of narratives) {
      const authors = new Map<number, string>(
        (
          await db.query(
            `SELECT c.number, r.author FROM narrative_citations c JOIN discourse_records r ON r.id = c.record_id WHERE c.narrative_id = $1 AND r.platform <> 'news'`,
            [n.id],
          )
        ).map((row: { number: number; author: string }) => [row.number, row.author]),
      );
      // Before: two demo stories were held for a headline with "<Larchmont>", one was headlined "/u/x on …".
      expect({ headline: n.headline, status: n.status }).toEqual({ headline: n.headline, status: 'published' });
      expect(n.headline).not.toMatch(/^\/u\/|^New comment by|[<>]/);
      // The voices (a news outlet's run of reports is told as one sentence); one record quoted on is one quotation.
      const quoted = n.paragraphs
        .flat()
        .filter((s) => s.text.includes('“') && authors.has(s.cites[0]))
        .filter((s, i, all) => i === 0 || all[i - 1].cites[0] !== s.cites[0]);
      const by = quoted.map((s) => authors.get(s.cites[0]));
      for (let i = 1; i < by.length; i++) expect(`${n.headline}: ${by[i]}`).not.toBe(`${n.headline}: ${by[i - 1]}`);
      const text = n.paragraphs
        .flat()
        .map((s) => s.text)
        .join(' ');
      expect(text).not.toMatch(/\*\*|__|^#|(?:^|\s)[-*•] |\]\(|DRAFT MODEL ACCEPTANCE/m);
      expect(text).not.toMatch(/Others brought figures|Other voices took up|of Hollis Amberley — Notes/);
    }
  });

  it('assembles, approves and sends issue #1 to the outbox: one digest per reader, under 100 kB, with a text part and both unsubscribe headers', async () => {
    const [issue] = await db.query(`SELECT number, status FROM issues`);
    expect(issue).toEqual({ number: 1, status: 'sent' });
    const [send] = await db.query(`SELECT audience, accepted, suppressed, failed, skipped FROM sends`);
    expect(send.audience).toBe(5);
    expect(send.accepted + send.suppressed + send.failed + send.skipped).toBe(send.audience);
    const messages = await readOutbox(t.config.email.outboxDir);
    expect(messages).toHaveLength(5);
    const recipients = new Set<string>();
    for (const message of messages) {
      expect(message.size).toBeLessThan(100_000);
      recipients.add((message.mail.to as { text: string }).text);
      expect(message.header('list-unsubscribe')).toMatch(/^<http:\/\/127\.0\.0\.1:\d+\/unsubscribe\?token=[\w.-]+>$/);
      expect(message.header('list-unsubscribe-post')).toBe('List-Unsubscribe=One-Click');
      expect(message.mail.text).toContain('Unsubscribe: http://127.0.0.1');
      expect(message.mail.html).toContain('/unsubscribe?token=');
    }
    expect(recipients.size).toBe(5);

    // RFC 8058: the mail client POSTs `List-Unsubscribe=One-Click` to the header's URL; that alone unsubscribes.
    const message = messages[0];
    const url = message.header('list-unsubscribe')!.slice(1, -1);
    const oneClick = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
    expect(oneClick.status).toBe(200);
    const [row] = await db.query(`SELECT status FROM subscribers WHERE email = $1`, [(message.mail.to as { text: string }).text]);
    expect(row.status).toBe('unsubscribed');
  });

  it('publishes the stories on the site and in RSS, Atom and JSON Feed', async () => {
    const home = await fetch(`${t.url}/`);
    expect(home.status).toBe(200);
    const [{ slug, headline }] = await db.query(`SELECT slug, headline FROM narratives WHERE status = 'published' ORDER BY published_at DESC LIMIT 1`);
    const story = await fetch(`${t.url}/stories/${slug}`);
    expect(story.status).toBe(200);
    expect(await story.text()).toContain('id="cite-1"');
    expect((await fetch(`${t.url}/issues/1`)).status).toBe(200);
    for (const path of ['/feed.xml', '/atom.xml', '/feed.json']) {
      const response = await fetch(`${t.url}${path}`);
      expect(response.status).toBe(200);
      const parsed = parseFeed(await response.text()) as { feed: { items?: Array<{ title?: unknown }>; entries?: Array<{ title?: unknown }> } };
      // Atom entry titles are type="text": the parsed value is the headline itself.
      const titles = (parsed.feed.items ?? parsed.feed.entries ?? []).map((i) =>
        typeof i.title === 'string' ? i.title : (i.title as { value: string }).value,
      );
      expect(titles).toContain(headline);
    }
  });

  it('keeps one story per storyline when a late post dated before all the others joins it', async () => {
    const [top] = await db.query(
      `SELECT n.id, n.slug, n.version, s.key, s.window_start, s.beat_id FROM narratives n JOIN storylines s ON s.id = n.storyline_id ORDER BY s.score DESC LIMIT 1`,
    );
    const [first] = await db.query(
      `SELECT r.source_id, r.platform, r.title, r.text, r.published_at FROM discourse_records r JOIN storyline_records sr ON sr.record_id = r.id
       JOIN storylines s ON s.id = sr.storyline_id WHERE s.key = $1 ORDER BY r.published_at LIMIT 1`,
      [top.key],
    );
    await db.query(
      `INSERT INTO discourse_records (source_id, platform, external_id, url, canonical_url, title, author, text, published_at)
       VALUES ($1, $2, 'late-1', 'https://late.example/1', 'https://late.example/1', $3, 'latecomer', $4, $5)`,
      [first.source_id, first.platform, `Re: ${first.title}`, first.text, new Date(new Date(first.published_at).getTime() - 60_000)],
    );
    const before: number = (await db.query(`SELECT count(*)::int AS n FROM narratives`))[0].n;
    await t.get(NarrativesService).build(weekContaining(new Date(first.published_at)));
    expect((await db.query(`SELECT count(*)::int AS n FROM narratives`))[0].n).toBe(before);
    const [after] = await db.query(`SELECT slug, version FROM narratives WHERE id = $1`, [top.id]);
    expect(after).toEqual({ slug: top.slug, version: top.version + 1 });
  });

  it('answers hostile and unknown URLs with a 404, never a 500', async () => {
    for (const path of [
      '/stories/%00',
      '/stories/..%2F..%2Fetc%2Fpasswd',
      `/stories/${'a'.repeat(5000)}`,
      '/issues/0',
      '/issues/abc',
      '/issues/99999999999',
      '/beats/%00',
      '/beats/%00/feed.xml',
    ]) {
      expect([path, (await fetch(`${t.url}${path}`)).status]).toEqual([path, 404]);
    }
    const page = await fetch(`${t.url}/no/such/page`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(404);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(await page.text()).toContain('<title>Not found — Broadsheet</title>');
    const api = await fetch(`${t.url}/no/such/page`, { headers: { accept: 'application/json' } });
    expect(api.status).toBe(404);
    expect(api.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await api.json()).toMatchObject({ status: 404, code: 'not_found', title: 'Not Found' });
  });
});
