import { DataSource } from 'typeorm';
import { DemoSeeder } from '../../src/admin/demo-seeder';
import { weekContaining } from '../../src/kernel/clock/week';
import { NarrativesService } from '../../src/narratives/narratives.service';
import { SourcesService } from '../../src/sources/sources.service';
import { startFakeAnthropic, type FakeAnthropic, type FakeContentBlock } from '../fakes/fake-anthropic';
import { startTestApp, type TestApp } from '../support/test-app';

/** A reversal no lexical check sees: no name, number or quote, no negation word; only a reader of the post knows. */
const REVERSAL = 'Others in the thread took the opposite view.';

/**
 * NARRATIVES_ENTAILMENT_JUDGE=true: the second, cheap model call (the real AnthropicClaimJudge and SDK against the
 * fake) judges each cited sentence; its verdicts go into the fidelity report, an unsupported one holds the story,
 * and a judge that fails holds it too (never a silent publish).
 */
describe('the entailment judge', () => {
  let claude: FakeAnthropic;
  let t: TestApp;
  let db: DataSource;
  let narratives: NarrativesService;
  const isJudge = (body: Record<string, unknown>) =>
    Array.isArray(body.tools) && (body.tools as Array<{ name: string }>).some((tool) => tool.name === 'record_verdicts');

  beforeAll(async () => {
    claude = await startFakeAnthropic();
    claude.respondWith((body) => {
      if (isJudge(body)) {
        // The judge's answer: every sentence supported but the reversal.
        const document = (body.messages as Array<{ content: Array<{ type: string; source?: { data: string } }> }>)[0].content.find(
          (b) => b.type === 'document',
        )!;
        const verdicts = [...document.source!.data.matchAll(/<sentence id="(\d+)">\n([^\n]*)/g)].map((m) => ({
          id: Number(m[1]),
          supported: !m[2].includes('opposite view'),
          reason: m[2].includes('opposite view') ? 'The cited post agrees with the others; nobody took an opposite view.' : 'The post says this.',
        }));
        return [{ type: 'tool_use', name: 'record_verdicts', input: { verdicts } }];
      }
      // The writer's answer: one faithful cited sentence, then the reversal citing the same post.
      const texts = (body.messages as Array<{ content: Array<{ type: string; source?: { content: Array<{ text: string }> } }> }>)[0].content
        .find((b) => b.type === 'document')!
        .source!.content.map((b) => b.text);
      const first = texts[0].replace(/^\[[^\]]*\]\s*/, '');
      const sentence = (/^[\s\S]*?[.!?](?=\s|$)/.exec(first)?.[0] ?? first).trim();
      const cite = (i: number) => [
        {
          type: 'content_block_location',
          cited_text: texts[i],
          document_index: 0,
          document_title: null,
          start_block_index: i,
          end_block_index: i + 1,
          file_id: null,
        },
      ];
      const blocks: FakeContentBlock[] = [
        {
          type: 'text',
          text: `Headline: ${first
            .split(/\s+/)
            .slice(0, 6)
            .join(' ')
            .replace(/[.,;:!?]+$/, '')}\nDek: ${sentence}\n\n`,
          citations: null,
        },
        { type: 'text', text: sentence, citations: cite(0) },
        { type: 'text', text: '\n\n', citations: null },
        { type: 'text', text: REVERSAL, citations: cite(0) },
      ];
      return blocks;
    }, Infinity);
    t = await startTestApp({
      ANTHROPIC_API_KEY: claude.apiKey,
      ANTHROPIC_BASE_URL: claude.url,
      ANTHROPIC_MAX_RETRIES: '0',
      NARRATIVES_ENTAILMENT_JUDGE: 'true',
      NARRATIVES_PER_BEAT: '1',
      ANTHROPIC_CONCURRENCY: '1',
    });
    db = t.get(DataSource);
    narratives = t.get(NarrativesService);
    await t.get(DemoSeeder).seed();
    await t.get(SourcesService).pollAll();
    await narratives.build(weekContaining((await t.get(SourcesService).latestRecordAt())!));
  }, 120_000);

  afterAll(async () => {
    await t?.close();
    await claude?.close();
  });

  it('holds a reversal the lexical checks pass, and records every verdict in the fidelity report', async () => {
    const held = await narratives.held(20);
    expect(held.length).toBeGreaterThan(0);
    expect(await narratives.countPublished()).toBe(0);
    for (const story of held) {
      const report = story.fidelityReport;
      // Only the judge found anything: the lexical checks let the reversal through.
      expect(report.failed.map((f) => f.kind)).toEqual(['entailment']);
      expect(report.failed[0]).toMatchObject({
        value: REVERSAL,
        reason: expect.stringMatching(/the judge \(claude-haiku-4-5\) found it unsupported: .*nobody took an opposite view/),
      });
      expect(report.judge?.model).toBe('claude-haiku-4-5');
      expect(report.judge?.verdicts.map((v) => v.supported)).toEqual([true, false]);
      expect(report.heldBecause).toMatch(/entailment/);
    }
    // One judge call per narrative, on the configured cheap model, with its usage counted in the version's cost.
    const judged = claude.requests.filter((r) => r.status === 200 && isJudge(r.body as Record<string, unknown>));
    expect(judged).toHaveLength(held.length);
    expect(judged.every((r) => (r.body as { model: string }).model === 'claude-haiku-4-5')).toBe(true);
  });

  it('a judge that fails holds the narrative and says why, instead of publishing it unjudged', async () => {
    const [story] = await narratives.held(1);
    claude.failNext(1, { status: 529, type: 'overloaded_error', when: isJudge });
    const rewritten = await narratives.regenerate(story.id);
    expect(rewritten.status).toBe('held');
    expect(rewritten.fidelityReport.failed).toEqual([
      expect.objectContaining({ kind: 'entailment', where: 'narrative', reason: expect.stringMatching(/the entailment judge failed: .*529/) }),
    ]);
    expect(rewritten.version).toBe(story.version + 1);
    const rows: Array<{ status: string }> = await db.query(`SELECT status FROM narratives WHERE id = $1`, [story.id]);
    expect(rows[0].status).toBe('held');
  });
});
