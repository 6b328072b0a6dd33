import { FeedParsePool } from './feed-parse-pool';

const rss = (items: string) => `<rss version="2.0"><channel><title>t</title><link>https://x.example/</link>${items}</channel></rss>`;

describe('FeedParsePool', () => {
  const pool = new FeedParsePool({ threads: 1, memoryMb: 96, timeoutMs: 20_000 });
  afterAll(() => pool.close());
  const fetchedAt = new Date('2026-11-20T12:00:00Z');

  it('parses in a worker thread and returns plain items with their dates', async () => {
    const feed = await pool.parse(
      Buffer.from(rss('<item><title>a</title><link>https://x.example/a</link><pubDate>Thu, 19 Nov 2026 10:00:00 GMT</pubDate></item>')),
      { fetchedAt, maxItems: 10 },
    );
    expect(feed.items).toEqual([expect.objectContaining({ title: 'a', url: 'https://x.example/a', publishedAt: new Date('2026-11-19T10:00:00Z') })]);
  });

  it('keeps the event loop free while a big document parses', async () => {
    const big = rss(
      Array.from(
        { length: 40_000 },
        (_, n) => `<item><title>item ${n}</title><link>https://x.example/${n}</link><description>&lt;p&gt;text ${n}&lt;/p&gt;</description></item>`,
      ).join(''),
    );
    // Ordered events, not a count of timer ticks: on the main thread a parse would finish (and its promise settle)
    // before the event loop could turn once; in a worker the loop turns first, whatever the machine's load.
    const order: string[] = [];
    const parsed = pool.parse(Buffer.from(big), { fetchedAt, maxItems: 50 }).then((result) => {
      order.push('parsed');
      return result;
    });
    await new Promise<void>((resolve) => setImmediate(resolve));
    order.push('event loop turned');
    const feed = await parsed;
    expect(feed.items).toHaveLength(50);
    expect(feed.overCap).toBe(39_950);
    expect(order).toEqual(['event loop turned', 'parsed']);
  });

  it('fails a document past the memory budget with a clear reason, and the next parse works', async () => {
    const heavy = rss(
      Array.from({ length: 1 }, () => `<item><title>x</title><link>https://x.example/m</link>${'<category>c</category><x>y</x>'.repeat(600_000)}</item>`).join(
        '',
      ),
    );
    await expect(pool.parse(Buffer.from(heavy), { fetchedAt, maxItems: 10 })).rejects.toThrow(/more than the 96 MB parse budget/);
    await expect(
      pool.parse(Buffer.from(rss('<item><title>b</title><link>https://x.example/b</link></item>')), { fetchedAt, maxItems: 10 }),
    ).resolves.toMatchObject({ items: [expect.objectContaining({ title: 'b' })] });
  });

  it('reports what is wrong with a document that is not a feed', async () => {
    await expect(pool.parse(Buffer.from('<html><body>hi</body></html>'), { fetchedAt, maxItems: 10 })).rejects.toThrow('not an RSS, Atom, RDF or JSON feed');
  });

  it('with two threads, a small document is not held behind a big one (a backlog uses the second thread)', async () => {
    const two = new FeedParsePool({ threads: 2, memoryMb: 256, timeoutMs: 60_000 });
    try {
      const small = () => two.parse(Buffer.from(rss('<item><title>s</title><link>https://x.example/s</link></item>')), { fetchedAt, maxItems: 10 });
      // Both threads started (two documents at once), so what follows does not wait for a thread to start.
      await Promise.all([small(), small()]);
      const big = rss(Array.from({ length: 150_000 }, (_, n) => `<item><title>item ${n}</title><link>https://x.example/${n}</link></item>`).join(''));
      const order: string[] = [];
      const parsing = [two.parse(Buffer.from(big), { fetchedAt, maxItems: 10 }).then(() => order.push('big')), small().then(() => order.push('small'))];
      await Promise.all(parsing);
      expect(order).toEqual(['small', 'big']);
    } finally {
      await two.close();
    }
  });
});
