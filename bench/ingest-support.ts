// Shared by the ingest benchmarks: the public parser test suites used as a corpus, and crafted hostile feeds.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import iconv from 'iconv-lite';

/** Parser test suites (MIT/BSD licensed, fetched, never committed): repository, folders holding feed files. */
export const CORPUS_REPOS: Array<{ repo: string; folders: string[] }> = [
  { repo: 'kurtmckee/feedparser', folders: ['tests'] },
  { repo: 'mmcdole/gofeed', folders: ['testdata/parser', 'testdata/translator'] },
  { repo: 'rbren/rss-parser', folders: ['test/input'] },
];

/**
 * Puts each corpus repository's feed files under `dir`: from a local mirror (BENCH_CORPUS_MIRROR, default
 * /work/.mirror/<owner>+<name>/repo, a bare git directory) or by a shallow clone from GitHub.
 */
export function prepareCorpus(dir: string): { files: string[]; sources: Record<string, string> } {
  const files: string[] = [];
  const sources: Record<string, string> = {};
  for (const { repo, folders } of CORPUS_REPOS) {
    const target = join(dir, repo.replace('/', '+'));
    mkdirSync(target, { recursive: true });
    const mirror = join(process.env.BENCH_CORPUS_MIRROR ?? '/work/.mirror', repo.replace('/', '+'), 'repo');
    if (existsSync(mirror)) {
      execFileSync('sh', ['-c', `git --git-dir="${mirror}" archive HEAD ${folders.join(' ')} | tar -x -C "${target}"`]);
      sources[repo] = `${execFileSync('git', ['--git-dir', mirror, 'rev-parse', 'HEAD']).toString().trim()} (mirror)`;
    } else {
      execFileSync('git', ['clone', '--depth', '1', `https://github.com/${repo}.git`, join(target, '.clone')], { stdio: 'ignore' });
      execFileSync('sh', ['-c', `cd "${join(target, '.clone')}" && tar -c ${folders.join(' ')} | tar -x -C "${target}"`]);
      sources[repo] = execFileSync('git', ['-C', join(target, '.clone'), 'rev-parse', 'HEAD'])
        .toString()
        .trim();
    }
    const walk = (d: string) => {
      for (const name of readdirSync(d)) {
        if (name === '.clone') continue;
        const p = join(d, name);
        const st = statSync(p);
        if (st.isDirectory()) walk(p);
        // gofeed's *.json next to a feed are its expected outputs, not feeds; its JSON Feed inputs live under json/.
        else if (/\.(xml|rss|atom|rdf)$/i.test(name) || (/\.json$/i.test(name) && /\/(json|input)\//.test(p))) files.push(p);
      }
    };
    walk(target);
  }
  return { files: files.sort(), sources };
}

const rss = (items: string, head = '<?xml version="1.0" encoding="UTF-8"?>') =>
  `${head}<rss version="2.0"><channel><title>hostile</title><link>https://hostile.example/</link><description>d</description>${items}</channel></rss>`;
const item = (n: number, extra = '') =>
  `<item><title>item ${n}</title><link>https://hostile.example/${n}</link><guid>h-${n}</guid><pubDate>${new Date(Date.UTC(2026, 10, 1) + n * 1000).toUTCString()}</pubDate>${extra}</item>`;

/** The big feed of the issue: about 20.8 MB and 286,764 items (`round` makes other items of the same shape). */
export function bigFeed(round = 0): Buffer {
  const parts: string[] = [];
  const host = round ? `b${round}.example` : 'b.example';
  for (let n = 0; n < 286_764; n++) parts.push(`<item><title>t${n}</title><link>https://${host}/${n}</link></item>`);
  return Buffer.from(rss(parts.join('')));
}

/** Crafted hostile documents: name → bytes. */
export function hostileFiles(): Array<[string, Buffer]> {
  const latin = 'Caf\u00e9 cr\u00e8me br\u00fbl\u00e9e, na\u00efve gar\u00e7on \u00e0 la fran\u00e7aise';
  const zh = '\u4eca\u5929\u7684\u65b0\u805e\u5831\u5c0e\uff1a\u958b\u6e90\u6a21\u578b\u767c\u5e03\u4e86\u65b0\u7248\u672c';
  const plain = (t: string) => rss(`<item><title>${t}</title><link>https://hostile.example/c</link><description>${t} ${t} ${t}</description></item>`, '');
  return [
    [
      'html nested 3,000 deep (9 KB)',
      Buffer.from(rss(item(1, `<description><![CDATA[${'<div>'.repeat(3000)}x${'</div>'.repeat(3000)}]]></description>`) + item(2))),
    ],
    ['XML nested 100,000 deep', Buffer.from(rss(item(1, `<x>${'<a>'.repeat(100_000)}${'</a>'.repeat(100_000)}</x>`)))],
    [
      'NUL and ESC in every field',
      Buffer.from(
        rss(
          `<item><title>a\u0000b\u001b[31m</title><link>https://hostile.example/n\u0000</link><guid>g\u0000</guid><description>x\u0000\u0001y</description></item>${item(2)}`,
        ),
      ),
    ],
    ['20.8 MB, 286,764 items', bigFeed()],
    [
      'attribute-heavy (15 MB of attributes)',
      Buffer.from(rss(item(1, '<category a="1" b="2" c="3" d="4" e="5" f="6" g="7" h="8">c</category>'.repeat(180_000)))),
    ],
    ['one 19 MB description', Buffer.from(rss(item(1, `<description><![CDATA[<p>${'word '.repeat(3_800_000)}</p>]]></description>`)))],
    ['undeclared ISO-8859-1', Buffer.from(plain(latin), 'latin1')],
    ['undeclared Big5', iconv.encode(plain(zh), 'big5')],
    ['UTF-16LE without BOM', iconv.encode(`<?xml version="1.0" encoding="UTF-16"?>${plain(latin)}`, 'utf-16le')],
    ['UTF-32BE', iconv.encode(`<?xml version="1.0" encoding="UTF-32"?>${plain(latin)}`, 'utf-32be')],
    [
      'dates "0", "12", "2026-02-30", "-2026-01-01"',
      Buffer.from(
        rss(
          ['0', '12', '2026-02-30', '-2026-01-01']
            .map((d, n) => `<item><title>d${n}</title><link>https://hostile.example/d${n}</link><pubDate>${d}</pubDate></item>`)
            .join(''),
        ),
      ),
    ],
    [
      'RSS xml:base with a relative link',
      Buffer.from(
        rss('<item xml:base="https://base.example/posts/"><title>rel</title><link>a.html</link></item>').replace(
          '<rss version="2.0">',
          '<rss version="2.0" xml:base="https://base.example/">',
        ),
      ),
    ],
    [
      'Atom entry with only rel="replies"',
      Buffer.from(
        '<feed xmlns="http://www.w3.org/2005/Atom"><title>a</title><id>urn:a</id><updated>2026-11-01T00:00:00Z</updated><entry><id>tag:x,2026:1</id><title>r</title><updated>2026-11-01T00:00:00Z</updated><link rel="replies" href="https://hostile.example/comments"/></entry></feed>',
      ),
    ],
    [
      'namespaced RSS root <r:rss>',
      Buffer.from(
        '<r:rss xmlns:r="http://backend.userland.com/rss2" version="2.0"><r:channel><r:title>t</r:title><r:item><r:title>p</r:title><r:link>https://hostile.example/p</r:link></r:item></r:channel></r:rss>',
      ),
    ],
    [
      'billion laughs (entity expansion)',
      Buffer.from(
        `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">${Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i || ''};`.repeat(10)}">`).join('')}]><rss version="2.0"><channel><title>&lol9;</title><item><title>&lol9;</title><link>https://hostile.example/l</link></item></channel></rss>`,
      ),
    ],
    [
      'external entity (XXE file:///etc/passwd)',
      Buffer.from(
        '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><rss version="2.0"><channel><title>x</title><item><title>&xxe;</title><link>https://hostile.example/x</link><description>&xxe;</description></item></channel></rss>',
      ),
    ],
    [
      'one bad item among good ones (JSON Feed)',
      Buffer.from(
        JSON.stringify({
          version: 'https://jsonfeed.org/version/1.1',
          title: 'j',
          items: [
            { id: 1, url: 'https://hostile.example/1', title: 'ok' },
            { id: 2, url: { x: 1 } },
            { id: 3, url: 'https://hostile.example/3', title: 'ok too' },
          ],
        }),
      ),
    ],
    ['HTML page, not a feed', Buffer.from('<!doctype html><html><head><title>x</title></head><body><p>hello</p></body></html>')],
    ['binary garbage', Buffer.from(Array.from({ length: 65536 }, (_, i) => (i * 2654435761) % 256))],
  ];
}
