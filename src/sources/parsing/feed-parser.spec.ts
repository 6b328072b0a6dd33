import { decodeFeedBytes, parseFeedDocument } from './feed-parser';

const rss = (items: string) =>
  `<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><link>https://x.example/</link><description>d</description>${items}</channel></rss>`;

describe('decodeFeedBytes', () => {
  it('decodes windows-1252 and ISO-8859-1 declared feeds, curly quotes, dashes and euro included', () => {
    const body = Buffer.concat([
      Buffer.from('<?xml version="1.0" encoding="windows-1252"?><t>'),
      Buffer.from([0x93, 0x48, 0x69, 0x94, 0x20, 0x96, 0x20, 0x80, 0x35, 0xa3]),
      Buffer.from('</t>'),
    ]);
    expect(decodeFeedBytes(body)).toContain('“Hi” – €5£');
    expect(decodeFeedBytes(Buffer.from(body.toString('latin1').replace('windows-1252', 'ISO-8859-1'), 'latin1'))).toContain('“Hi” – €5£');
  });
  it('honours a UTF-8 BOM and refuses an unknown encoding clearly', () => {
    expect(decodeFeedBytes(Buffer.from('\uFEFF<rss/>', 'utf8'))).toBe('<rss/>');
    expect(() => decodeFeedBytes(Buffer.from('<?xml version="1.0" encoding="x-klingon"?><rss/>'))).toThrow('unsupported character encoding "x-klingon"');
  });
});

describe('parseFeedDocument', () => {
  const fetchedAt = new Date('2026-11-20T12:00:00Z');

  it('dates undated items when first seen and caps future dates at that moment', () => {
    const feed = parseFeedDocument(
      rss(
        `<item><title>a</title><link>https://x.example/a</link></item><item><title>b</title><link>https://x.example/b</link><pubDate>Fri, 01 Jan 2099 00:00:00 GMT</pubDate></item>`,
      ),
      { fetchedAt },
    );
    expect(feed.items.map((i) => i.publishedAt.toISOString())).toEqual([fetchedAt.toISOString(), fetchedAt.toISOString()]);
  });

  it('rejects items without an http(s) link and counts them, keeping the rest', () => {
    const feed = parseFeedDocument(
      rss(`<item><title>a</title><link>javascript:alert(1)</link></item><item><title>b</title><link>https://x.example/b</link></item>`),
      { fetchedAt },
    );
    expect(feed.items.map((i) => i.url)).toEqual(['https://x.example/b']);
    expect(feed.rejected).toEqual([{ index: 0, reason: 'item has no http(s) link' }]);
  });

  it('turns HTML into text and keeps a title’s angle brackets as text', () => {
    const feed = parseFeedDocument(
      rss(
        `<item><title>Why &lt;Larchmont&gt; &amp; "open"</title><link>https://x.example/c</link><description>&lt;p&gt;One &lt;script&gt;alert(1)&lt;/script&gt;&lt;b&gt;two&lt;/b&gt;&lt;/p&gt;</description></item>`,
      ),
      { fetchedAt },
    );
    expect(feed.items[0].title).toBe('Why <Larchmont> & "open"');
    expect(feed.items[0].text).not.toContain('<');
    expect(feed.items[0].text).toContain('two');
  });

  it('explains what is wrong with something that is not a feed', () => {
    expect(() => parseFeedDocument('')).toThrow('the document is empty');
    expect(() => parseFeedDocument('{"title": ')).toThrow(/not valid JSON/);
    expect(() => parseFeedDocument('<html><body>hello</body></html>')).toThrow('not an RSS, Atom, RDF or JSON feed');
  });
});
