import { DataSource } from 'typeorm';
import { NarrativesService } from '../../src/narratives/narratives.service';
import { HOSTILE, seedGeneratedYear, type GeneratedYear } from '../factories/generated-year.factory';
import { startTestApp, type TestApp } from '../support/test-app';

/**
 * Full-text search over stories on the real database (PGlite by default, the server with DATABASE_URL): ranking,
 * ts_headline highlights that stay text, pagination, conditional GET, and hostile queries.
 */
describe('story search', () => {
  let t: TestApp;
  let year: GeneratedYear;

  beforeAll(async () => {
    t = await startTestApp({ DEMO: 'false' });
    year = await seedGeneratedYear(t.get(DataSource), { weeks: 4, perWeek: 6 });
    const db = t.get(DataSource);
    // One story names the word in its headline, another only in its text: the headline match ranks first.
    await db.query(`UPDATE narratives SET headline = 'The zephyrine licence argument' WHERE slug = 'gen-story-5'`);
    await db.query(
      `UPDATE narratives SET paragraphs = jsonb_set(paragraphs, '{1,0,text}', '"Someone on Mastodon mentioned zephyrine once."') WHERE slug = 'gen-story-8'`,
    );
  }, 240_000);

  afterAll(async () => {
    await t?.close();
  });

  const search = (query: string, headers: Record<string, string> = {}) => fetch(`${t.url}/search?${query}`, { headers });

  it('ranks a headline match above a match in the text, and marks the words found in both', async () => {
    const res = await search('q=zephyrine');
    expect(res.status).toBe(200);
    const page = await res.text();
    const first = page.indexOf('href="/stories/gen-story-5"');
    const second = page.indexOf('href="/stories/gen-story-8"');
    expect(first).toBeGreaterThan(0);
    expect(second).toBeGreaterThan(first);
    expect(page).toContain('The <mark>zephyrine</mark> licence argument');
    expect(page).toMatch(/<p class="snippet">[^<]*mentioned <mark>zephyrine<\/mark> once/);
    expect(page).toContain('2 stories match <strong>zephyrine</strong>');
    expect(page).toContain('<meta name="robots" content="noindex">');
    expect(page).toContain('value="zephyrine"');
  });

  it('keeps hostile story text intact as text: the highlighted runs give back the exact headline, the page escapes it', async () => {
    const results = await t.get(NarrativesService).search({ query: 'agents weekly', limit: 50 });
    const hit = results.hits.find((h) => h.story.slug === year.hostileSlug)!;
    expect(hit.headline.map((r) => r.text).join('')).toBe(`Story 1: ${HOSTILE}`);
    expect(hit.headline.filter((r) => r.match).map((r) => r.text)).toEqual(['agents', 'weekly']);
    // A snippet is cut at word boundaries, so it may end inside the markup; what it has is the text as written.
    expect(hit.snippet.map((r) => r.text).join('')).toContain('and wrote Devs & "agents" <weekly> ]]> it\'s <script>alert(1)');
    const page = await (await search('q=agents+weekly')).text();
    expect(page).not.toContain('<script>alert');
    expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page).toContain('&quot;<mark>agents</mark>&quot; &lt;<mark>weekly</mark>&gt; ]]&gt;');
    expect(page).toContain('🎉🧪 שלום עולם');
  });

  it('pages through the results, ten at a time, every story once', async () => {
    const seen: string[] = [];
    for (let page = 1; page <= 3; page++) {
      const body = await (await search(`q=${year.commonWord}&page=${page}`)).text();
      seen.push(...[...body.matchAll(/<h2><a href="\/stories\/([^"]+)"/g)].map((m) => m[1]));
      expect(body).toContain(`Page ${page} of 3`);
      if (page < 3) expect(body).toContain(`href="/search?q=${year.commonWord}&amp;page=${page + 1}" rel="next"`);
    }
    expect(seen).toHaveLength(year.stories);
    expect(new Set(seen).size).toBe(year.stories);
    expect((await search(`q=${year.commonWord}&page=4`)).status).toBe(404);
  });

  it('answers 304 to the tag of results the client already has', async () => {
    const first = await search('q=zephyrine');
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^"[^"]+"$/);
    expect(first.headers.get('cache-control')).toMatch(/^public, max-age=60/);
    expect(first.headers.get('content-security-policy')).toContain("default-src 'none'");
    const again = await search('q=zephyrine', { 'If-None-Match': etag });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
  });

  it('answers hostile queries with a page, never an error from the database, and echoes them as text', async () => {
    const hostile = [
      "q=' OR 1=1; DROP TABLE narratives; --",
      'q=%3Cscript%3Ealert(1)%3C%2Fscript%3E',
      'q=%22unclosed',
      'q=!!!%26%26%26|||(((%3A*%3C-%3E',
      'q=-quillwort',
      'q=a%00b%01c',
      'q=%F0%9F%8E%89+%D7%A9%D7%9C%D7%95%D7%9D',
      'q=%ED%A0%80',
      'q=the+and+of',
      'q[]=x&q[a]=y',
      'q=',
      '',
    ];
    for (const query of hostile) {
      const res = await search(query);
      const body = await res.text();
      expect({ query, status: res.status, type: res.headers.get('content-type') }).toEqual({ query, status: 200, type: 'text/html; charset=utf-8' });
      expect(body).not.toContain('<script>alert');
    }
    expect(await (await search('q=%3Cscript%3Ealert(1)%3C%2Fscript%3E')).text()).toContain('value="&lt;script&gt;alert(1)&lt;/script&gt;"');
    expect(await (await search('q=the+and+of')).text()).toContain('No stories match');
    const [{ count }] = await t.get(DataSource).query(`SELECT count(*)::int AS count FROM narratives`);
    expect(count).toBe(year.stories);
  });

  it('refuses a query over 200 characters with 400 and says why; a page that is not a positive number is a 404', async () => {
    const long = await search(`q=${'word '.repeat(41)}`);
    expect(long.status).toBe(400);
    expect(await long.text()).toContain('A search is at most 200 characters');
    for (const page of ['0', '-1', 'abc', '1e3', '9999999']) expect((await search(`q=quillwort&page=${page}`)).status).toBe(404);
  });

  it('puts the search form in every page’s masthead', async () => {
    const home = await (await fetch(`${t.url}/`)).text();
    expect(home).toContain('<form class="search" role="search" method="get" action="/search">');
    expect(home).toContain('<label class="visually-hidden" for="site-search">Search stories</label>');
  });
});
