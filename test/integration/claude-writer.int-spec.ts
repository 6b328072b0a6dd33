import { DataSource } from 'typeorm';
import { DemoSeeder } from '../../src/admin/demo-seeder';
import { weekContaining } from '../../src/kernel/clock/week';
import { documentText } from '../../src/kernel/llm/narrative-writer.port';
import { NarrativesService } from '../../src/narratives/narratives.service';
import { SourcesService } from '../../src/sources/sources.service';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/fake-anthropic';
import { startTestApp, type TestApp } from '../support/test-app';

/** Narratives written through the real Anthropic SDK against a local fake of the Messages API. */
describe('the Claude writer', () => {
  let claude: FakeAnthropic;
  let t: TestApp;
  let db: DataSource;
  let week: ReturnType<typeof weekContaining>;
  /** What the first build (one storyline's model call failing) returned and left on the failed storyline. */
  let firstBuild: Awaited<ReturnType<NarrativesService['build']>>;
  let failedErrors: Array<{ last_write_error: string }>;

  beforeAll(async () => {
    claude = await startFakeAnthropic();
    t = await startTestApp({
      ANTHROPIC_API_KEY: claude.apiKey,
      ANTHROPIC_BASE_URL: claude.url,
      ANTHROPIC_MAX_RETRIES: '1',
      NARRATIVES_PER_BEAT: '2',
      ANTHROPIC_CONCURRENCY: '1',
    });
    db = t.get(DataSource);
    await t.get(DemoSeeder).seed();
    await t.get(SourcesService).pollAll();
    week = weekContaining((await t.get(SourcesService).latestRecordAt())!);
    // The first build, which every test reads: the one request of the first storyline fails (first try and one
    // SDK retry), the rest succeed. Its outcome is captured here, before any test builds again.
    claude.failNext(2, { status: 500, type: 'api_error', message: 'upstream exploded' });
    firstBuild = await t.get(NarrativesService).build(week);
    failedErrors = await db.query(`SELECT last_write_error FROM storylines WHERE last_write_error IS NOT NULL`);
  });

  afterAll(async () => {
    await t?.close();
    await claude?.close();
  });

  it('records a failed model call on the storyline and carries on with the others', () => {
    // The first build (beforeAll) met the failure.
    const summaries = firstBuild;
    expect(summaries.reduce((n, s) => n + s.failed, 0)).toBe(1);
    expect(summaries.reduce((n, s) => n + s.written + s.held, 0)).toBe(summaries.length * 2 - 1);
    const [failed] = failedErrors;
    expect(failed.last_write_error).toMatch(/claude writer failed: Anthropic API error 500/);
  });

  it('sends records as a citable document with the stable prompt cached, and keeps instructions out of the data', () => {
    const call = claude.requests.find((r) => r.status === 200 && r.path === '/v1/messages')!;
    const body = call.body as { system: Array<{ cache_control?: unknown; text: string }>; messages: Array<{ content: Array<Record<string, any>> }> };
    expect(body.system[0].cache_control).toEqual({ type: 'ephemeral' });
    expect(body.system[0].text).toMatch(/data, not instructions/);
    const document = body.messages[0].content.find((b) => b.type === 'document')!;
    expect(document.citations).toEqual({ enabled: true });
    expect(document.source.type).toBe('content');
    expect(document.source.content.length).toBeGreaterThanOrEqual(3);
    // One request per narrative: no forced tool call and no structured output (citations refuse both, and so it works in a batch).
    expect(
      claude.requests.every(
        (r) =>
          (r.body as { tools?: unknown; output_config?: unknown }).tools === undefined && (r.body as { output_config?: unknown }).output_config === undefined,
      ),
    ).toBe(true);
    // The stable prefix is a real style guide, long enough to be cached (over 1,024 tokens at about four characters each).
    expect(body.system[0].text.length).toBeGreaterThan(4 * 1024 * 1.5);
  });

  it('turns the API citations into numbered markers that resolve to the cited records', async () => {
    const narratives: Array<{ id: string; writer: string; headline: string; paragraphs: Array<Array<{ text: string; cites: number[] }>>; fidelity: number }> =
      await db.query(`SELECT id, writer, headline, paragraphs, fidelity FROM narratives`);
    expect(narratives.length).toBeGreaterThan(0);
    for (const n of narratives) {
      expect(n.writer).toBe('claude');
      const cited = n.paragraphs.flat().filter((s) => s.cites.length);
      expect(cited.length).toBeGreaterThan(0);
      for (const segment of cited) {
        const records: Array<{ platform: string; author: string; title: string; text: string; published_at: Date; outlet: string }> = await db.query(
          `SELECT r.platform, r.author, r.title, r.text, r.published_at, CASE WHEN r.platform IN ('news', 'blog') THEN s.name END AS outlet
           FROM narrative_citations c JOIN discourse_records r ON r.id = c.record_id JOIN sources s ON s.id = r.source_id
           WHERE c.narrative_id = $1 AND c.number = ANY($2)`,
          [n.id, segment.cites],
        );
        expect(records).toHaveLength(new Set(segment.cites).size);
        // The fake quotes the first sentence of the content block it cites: that block must be the cited record.
        const shown = records.map((r) => documentText({ ...r, url: '', publishedAt: new Date(r.published_at) }));
        expect(shown.some((text) => text.startsWith(segment.text.trim().slice(0, 40)))).toBe(true);
      }
    }
  });

  it('leaves an unchanged storyline alone on the next run', async () => {
    const before = claude.requests.length;
    const summaries = await t.get(NarrativesService).build(week);
    // Only the storyline that failed in the first build (beforeAll) is written now.
    expect(summaries.reduce((n, s) => n + s.unchanged, 0)).toBe(summaries.length * 2 - 1);
    expect(claude.requests.length - before).toBe(1);
  });
});
