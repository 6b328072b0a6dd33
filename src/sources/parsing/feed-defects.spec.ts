import iconv from 'iconv-lite';
import { decodeFeedBytes, parseFeedDocument } from './feed-parser';

/** The defects found by running 2,703 real-world and crafted feeds through the import path (issue 7). */
const fetchedAt = new Date('2026-11-20T12:00:00Z');
const rss = (items: string, attrs = '') =>
  `<?xml version="1.0"?><rss version="2.0"${attrs}><channel><title>t</title><link>https://x.example/</link><description>d</description>${items}</channel></rss>`;
const item = (n: number, extra = '') => `<item><title>item ${n}</title><link>https://x.example/${n}</link>${extra}</item>`;

describe('feed parsing defects', () => {
  it('reads HTML nested 3,000 tags deep without overflowing the stack', () => {
    const deep = '<div>'.repeat(3000) + 'deep text' + '</div>'.repeat(3000);
    const feed = parseFeedDocument(rss(`${item(1, `<description><![CDATA[${deep}]]></description>`)}${item(2)}`), { fetchedAt });
    expect(feed.items.map((i) => i.title)).toEqual(['item 1', 'item 2']);
  });

  it('cuts a huge description before converting it (what lies past the cut is never parsed)', () => {
    const huge = `<p>${'word '.repeat(40_000)}</p>` + '<span>'.repeat(5000) + 'x' + '</span>'.repeat(5000);
    const feed = parseFeedDocument(rss(item(1, `<description><![CDATA[${huge}]]></description>`)), { fetchedAt });
    expect(feed.items[0].text.length).toBeLessThanOrEqual(8000);
    expect(feed.items[0].text.startsWith('word word')).toBe(true);
  });

  it('removes NUL and other control characters from every field, keeping tabs and newlines', () => {
    const feed = parseFeedDocument(
      rss(
        `<item><title>a\u0000b\u0001c\u001bd</title><link>https://x.example/n\u0000ul</link><guid isPermaLink="false">id\u0000 1</guid><author>x@y.example (Ann\u0000 Lee)</author><description>one\u0000 two\u001b[31m red\u0007</description></item>${item(2)}`,
      ),
      { fetchedAt },
    );
    const all = JSON.stringify(feed.items);
    expect(all).not.toMatch(/\\u000[0-8bcef]|\\u001[0-9a-f]/);
    expect(feed.items[0].title).toBe('abcd');
    expect(feed.items[0].text).toBe('one two[31m red');
    expect(feed.items[1].title).toBe('item 2');
  });

  it('removes NUL from JSON Feed fields, which JSON can carry as \\u0000', () => {
    const json = JSON.stringify({
      version: 'https://jsonfeed.org/version/1.1',
      title: 'j',
      items: [{ id: 'a\u0000', url: 'https://x.example/j', title: 'ti\u0000tle', content_text: 'bo\u0000dy\u001b' }],
    });
    const feed = parseFeedDocument(json, { fetchedAt });
    expect(feed.items[0]).toMatchObject({ title: 'title', text: 'body', externalId: 'a' });
  });

  it('caps the items taken from one document, newest first, and counts the rest', () => {
    // Newest first, as feeds list them.
    const items = Array.from({ length: 3000 }, (_, i) => 2999 - i)
      .map((n) => item(n, `<pubDate>${new Date(Date.UTC(2026, 0, 1) + n * 60_000).toUTCString()}</pubDate>`))
      .join('');
    const feed = parseFeedDocument(rss(items), { fetchedAt, maxItems: 100 });
    expect(feed.items).toHaveLength(100);
    expect(feed.items.map((i) => i.title)).toContain('item 2999');
    expect(feed.items.map((i) => i.title)).not.toContain('item 0');
    expect(feed).toMatchObject({ overCap: 2900 });
  });

  it('reads only a bounded piece of a huge RSS, RDF or Atom document, which stays well-formed', () => {
    const atom = `<feed xmlns="http://www.w3.org/2005/Atom"><title>a</title><id>urn:a</id>${Array.from({ length: 1000 }, (_, n) => `<entry><id>urn:e${n}</id><title>e${n}</title><link href="https://x.example/e${n}"/></entry>`).join('')}</feed>`;
    expect(parseFeedDocument(atom, { fetchedAt, maxItems: 10 })).toMatchObject({
      overCap: 990,
      items: expect.arrayContaining([expect.objectContaining({ title: 'e0' })]),
    });
    const rdf = `<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"><channel rdf:about="https://x.example/"><title>r</title><link>https://x.example/</link></channel>${Array.from({ length: 1000 }, (_, n) => `<item rdf:about="https://x.example/r${n}"><title>r${n}</title><link>https://x.example/r${n}</link></item>`).join('')}</rdf:RDF>`;
    expect(parseFeedDocument(rdf, { fetchedAt, maxItems: 10 }).items).toHaveLength(10);
    // An "</item>" inside CDATA that confuses the cut: the whole document is read instead, nothing is lost.
    const tricky = rss(Array.from({ length: 300 }, (_, n) => item(n, n === 50 ? '<description><![CDATA[a </item> b]]></description>' : '')).join(''));
    expect(parseFeedDocument(tricky, { fetchedAt, maxItems: 10 }).items).toHaveLength(10);
  });

  it('refuses a document with more attributes than any feed needs, saying so', () => {
    expect(() => parseFeedDocument(rss(item(1, '<category a="1" b="2" c="3" d="4">c</category>'.repeat(60_000))), { fetchedAt })).toThrow(
      'the document has more than 200000 attributes, far more than a feed needs',
    );
  });

  it.each(['0', '12', '2026-02-30', '-2026-01-01', '-000001-01-01T00:00:00Z', 'Sat, 31 Feb 2026 10:00:00 GMT'])(
    'dates an item with the bogus date %p when first seen',
    (date) => {
      const feed = parseFeedDocument(rss(item(1, `<pubDate>${date}</pubDate>`)), { fetchedAt });
      expect(feed.items[0].publishedAt.toISOString()).toBe(fetchedAt.toISOString());
    },
  );

  it('resolves relative RSS links against xml:base', () => {
    const feed = parseFeedDocument(rss('<item xml:base="/posts/"><title>a</title><link>a.html</link></item>', ' xml:base="https://base.example/blog/"'), {
      fetchedAt,
    });
    expect(feed.items.map((i) => i.url)).toEqual(['https://base.example/posts/a.html']);
  });

  it('never takes an Atom entry’s rel="replies" link as its own', () => {
    const atom = `<feed xmlns="http://www.w3.org/2005/Atom"><title>a</title><id>urn:f</id><updated>2026-11-01T00:00:00Z</updated>
      <entry><id>tag:x.example,2026:1</id><title>only replies</title><updated>2026-11-01T00:00:00Z</updated><link rel="replies" href="https://x.example/1/comments"/></entry>
      <entry><id>tag:x.example,2026:2</id><title>two links</title><updated>2026-11-01T00:00:00Z</updated><link rel="replies" href="https://x.example/2/comments"/><link rel="alternate" href="https://x.example/2"/></entry></feed>`;
    const feed = parseFeedDocument(atom, { fetchedAt });
    expect(feed.items.map((i) => i.url)).toEqual(['https://x.example/2']);
    expect(feed.rejected).toEqual([{ index: 0, reason: 'item has no http(s) link' }]);
  });

  it('reads an RSS document whose root element is namespace-prefixed', () => {
    const xml = `<?xml version="1.0"?><r:rss xmlns:r="http://backend.userland.com/rss2" version="2.0"><r:channel><r:title>t</r:title><r:item><r:title>pref</r:title><r:link>https://x.example/p</r:link></r:item></r:channel></r:rss>`;
    expect(parseFeedDocument(xml, { fetchedAt }).items.map((i) => i.title)).toEqual(['pref']);
  });

  it('skips one malformed item with its reason and keeps its siblings', () => {
    const json = JSON.stringify({
      version: 'https://jsonfeed.org/version/1.1',
      title: 'j',
      items: [
        { id: 1, url: 'https://x.example/1', title: 'ok' },
        { id: 2, url: { evil: true }, content_html: 42 },
        { id: 3, url: 'https://x.example/3', content_html: { x: 1 }, title: 'fine' },
      ],
    });
    const feed = parseFeedDocument(json, { fetchedAt });
    expect(feed.items.map((i) => i.title)).toEqual(['ok', 'fine']);
    expect(feed.rejected).toEqual([{ index: 1, reason: expect.any(String) }]);
  });
});

describe('charset detection', () => {
  const latin = 'Caf\u00e9 cr\u00e8me br\u00fbl\u00e9e \u00e0 la fran\u00e7aise, \u00e9t\u00e9 na\u00efve, gar\u00e7on d\u00e9j\u00e0 vu';
  const doc = (title: string) =>
    rss(`<item><title>${title}</title><link>https://x.example/c</link><description>${title} ${title}</description></item>`).replace(
      '<?xml version="1.0"?>',
      '',
    );

  it('detects undeclared ISO-8859-1', () => {
    expect(parseFeedDocument(decodeFeedBytes(Buffer.from(doc(latin), 'latin1')), { fetchedAt }).items[0].title).toBe(latin);
  });

  it('detects undeclared Big5', () => {
    const zh =
      '\u4eca\u5929\u7684\u65b0\u805e\u5831\u5c0e\uff1a\u958b\u6e90\u6a21\u578b\u767c\u5e03\u4e86\u65b0\u7248\u672c\uff0c\u793e\u7fa4\u8a0e\u8ad6\u71b1\u70c8';
    expect(parseFeedDocument(decodeFeedBytes(iconv.encode(doc(zh), 'big5')), { fetchedAt }).items[0].title).toBe(zh);
  });

  it.each(['utf-16le', 'utf-16be', 'utf-32le', 'utf-32be'])('reads %s without a byte-order mark', (encoding) => {
    const bytes = iconv.encode(`<?xml version="1.0" encoding="${encoding.slice(0, 6).toUpperCase()}"?>${doc(latin)}`, encoding, { addBOM: false });
    expect(parseFeedDocument(decodeFeedBytes(bytes), { fetchedAt }).items[0].title).toBe(latin);
  });
});
