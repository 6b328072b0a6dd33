import { type DraftSegment } from '../kernel/llm/narrative-writer.port';
import { assessDraft, type SourceRecord } from './draft-assessment';

const at = (day: number) => new Date(Date.UTC(2026, 10, day, 9));
const record = (over: Partial<SourceRecord> & Pick<SourceRecord, 'id' | 'text'>): SourceRecord => ({
  platform: 'reddit',
  author: 'quietgradient',
  title: '',
  url: `https://www.reddit.com/r/LocalModels/comments/${over.id}`,
  publishedAt: at(16),
  ...over,
});

const records: SourceRecord[] = [
  record({
    id: 'r0',
    platform: 'news',
    author: 'Yusuf Penhaligon',
    outlet: 'The Signal',
    title: 'Quillfeather Labs releases Larchmont-70B under a restrictive licence',
    text: 'Quillfeather Labs released Larchmont-70B on Monday with a 4.2% error rate on the benchmark. The licence bans companies with over $38 million in revenue. Google declined to comment.',
    publishedAt: at(16),
  }),
  record({
    id: 'r1',
    platform: 'bluesky',
    author: 'Mara Lind',
    text: 'People keep saying this is a copyright "precedent". It isn\'t. Nine in ten licences I read are worse, and it costs 12 dollars to run.',
    publishedAt: at(17),
  }),
  record({
    id: 'r2',
    platform: 'hackernews',
    author: 'Ostrava',
    text: 'Systems like this should be open. Quillfeather did release the weights, which I appreciate.',
    publishedAt: at(18),
  }),
];

const seg = (text: string, ...sources: number[]): DraftSegment => ({ text, sources });
const assess = (paragraphs: DraftSegment[][], headline = 'Larchmont-70B arrives with a licence fight', dek = 'Readers argue over a restrictive licence.') =>
  assessDraft({ draft: { headline, dek, paragraphs }, records });
const failures = (paragraphs: DraftSegment[][], headline?: string) => assess(paragraphs, headline).report.failed.map((f) => `${f.kind}:${f.value}`);

const faithful: DraftSegment[][] = [
  [
    seg('Quillfeather Labs released Larchmont-70B with a 4.2% error rate on the benchmark', 0),
    seg(', and its licence bans companies with over $38 million in revenue.', 0),
  ],
  [seg("On Bluesky, Mara Lind wrote that people call it a copyright “precedent”, adding: “It isn't.”", 1)],
];

describe('assessDraft: the grounding check holds what it cannot support', () => {
  it('publishes a faithful narrative with no failures', () => {
    const result = assess(faithful);
    expect(result.report.failed).toEqual([]);
    expect(result.publishable).toBe(true);
  });

  it('holds one invented quote among three true ones (no averaging away)', () => {
    const result = assess([
      ...faithful,
      [seg("Mara Lind called it a “precedent” and said “It isn't.”, then “Nine in ten licences I read are worse”, and “this changes everything”.", 1)],
    ]);
    expect(result.report.failed.map((f) => f.value)).toEqual(['this changes everything']);
    expect(result.publishable).toBe(false);
  });

  it('reads "a second reading" as grammar, not the fraction one half (a faithful sentence was held)', () => {
    const bill = [
      record({
        id: 'b0',
        platform: 'news',
        text: "The Calder Assembly's Digital Affairs Committee on Monday approved Bill 114, the Model Transparency Act, sending the most ambitious AI legislation in the province's history to a second reading vote as early as Tuesday.",
      }),
    ];
    const result = assessDraft({
      draft: {
        headline: 'Bill heads to a second reading',
        dek: 'A vote could come on Tuesday.',
        paragraphs: [
          [
            seg(
              "The Calder Assembly's Digital Affairs Committee on Monday approved Bill 114, the Model Transparency Act, sending the most ambitious AI legislation in the province's history to a second reading vote as early as Tuesday.",
              0,
            ),
          ],
        ],
      },
      records: bill,
    });
    expect(result.report.failed).toEqual([]);
  });

  it('does not find a number in the record’s date prefix or metadata', () => {
    expect(failures([[seg('The thread opened on the 16th with 2026 in view.', 0)]])).toEqual(expect.arrayContaining(['number:16th', 'number:2026']));
    expect(assess([[seg('Something happened in 2026.', 0)]]).publishable).toBe(false);
  });

  it('keeps magnitude: $38 billion is not $38 million', () => {
    expect(failures([[seg('The licence bans companies with over $38 billion in revenue.', 0)]])).toEqual(['number:$38 billion']);
    expect(failures([[seg('The licence bans companies with over $38 million in revenue.', 0)]])).toEqual([]);
  });

  it('keeps units: 4.2% is not 4.2 dollars, 12 dollars is not 12%', () => {
    expect(failures([[seg('It scored an error rate of 4.2 dollars.', 0)]])).toEqual(['number:4.2 dollars']);
    expect(failures([[seg('Mara Lind said it has a 12% cost.', 1)]])).toEqual(['number:12%']);
  });

  it('checks a sentence-initial name', () => {
    expect(failures([[seg('Microsoft declined to comment.', 0)]])).toEqual(['name:Microsoft']);
    expect(failures([[seg('Google declined to comment.', 0)]])).toEqual([]);
  });

  it('lets platform names run together in a list ("Reddit, Bluesky and Mastodon"), but not a name beside them', () => {
    // Before, "Bluesky and Mastodon" was read as one invented name and the offline writer's sentence was held.
    expect(failures([[seg('Across Reddit, Hacker News, Bluesky and Mastodon, people argued over the licence.', 0)]])).toEqual([]);
    expect(failures([[seg('Across Reddit and Microsoft, people argued over the licence.', 0)]])).toEqual(['name:Reddit and Microsoft']);
  });

  it('holds a negation the record does not make (and its reverse)', () => {
    expect(failures([[seg('Quillfeather Labs did not release Larchmont-70B.', 0)]])).toEqual([expect.stringMatching(/^negation:/)]);
    expect(failures([[seg('Ostrava said Quillfeather never released the weights.', 2)]])).toEqual([expect.stringMatching(/^negation:/)]);
    expect(failures([[seg('Ostrava said Quillfeather did release the weights.', 2)]])).toEqual([]);
  });

  it('checks quotes in every style', () => {
    for (const [open, close] of [
      ['“', '”'],
      ['‘', '’'],
      ['«', '»'],
      ['„', '“'],
      ['"', '"'],
      ["'", "'"],
    ]) {
      expect(failures([[seg(`Mara Lind wrote ${open}this is the end of open models${close}.`, 1)]])).toEqual(['quote:this is the end of open models']);
      expect(failures([[seg(`Mara Lind wrote ${open}Nine in ten licences I read are worse${close}.`, 1)]])).toEqual([]);
    }
  });

  it('checks numbers written in words', () => {
    expect(failures([[seg('Mara Lind said eight in ten licences are worse.', 1)]])).toEqual(expect.arrayContaining(['number:eight']));
    expect(failures([[seg('Nine in ten licences are worse, according to Mara Lind.', 1)]])).toEqual([]);
  });

  it('finds a two-word name whole in one place, not one word from the author field and one from the text', () => {
    // "Ostrava" is r2's author; "Systems" is in its text: "Ostrava Systems" is in neither.
    expect(failures([[seg('Ostrava Systems said it should be open.', 2)]])).toEqual(['name:Ostrava Systems']);
    expect(failures([[seg('Ostrava said systems like this should be open.', 2)]])).toEqual([]);
  });

  it('looks only in the records a segment cites, and only in their title and body', () => {
    // The quote is in r1, but the segment cites r0: misattributed.
    expect(failures([[seg("The Signal reported “It isn't.”", 0)]])).toEqual(["quote:It isn't."]);
    // The outlet and author are who said it: names may come from there, whole.
    expect(failures([[seg('Yusuf Penhaligon of The Signal reported the release.', 0)]])).toEqual([]);
  });

  it('fails a specific that carries no citation, but lets an attribution lean on the citation of its own sentence', () => {
    expect(failures([[seg('Quillfeather Labs has a 4.2% error rate.')]])).toEqual(expect.arrayContaining(['uncited:Quillfeather Labs', 'uncited:4.2%']));
    expect(failures([[seg('According to Mara Lind, '), seg('nine in ten licences are worse.', 1)]])).toEqual([]);
  });

  it('names each failure for the editor, with where and why', () => {
    const report = assess([[seg('Zed Corp said “nothing” about 99%.', 0)]]).report;
    expect(report.failed).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'name', value: 'Zed Corp', where: 'paragraph 1', reason: expect.stringMatching(/record it cites/) }),
        expect.objectContaining({ kind: 'quote', value: 'nothing' }),
        expect.objectContaining({ kind: 'number', value: '99%' }),
      ]),
    );
  });

  it('names the citation the narrative shows, not the record’s place in the list', () => {
    // The draft cites the third record first: the narrative shows it as [1].
    const result = assess([[seg('Zed Corp said systems like this should be open.', 2)]]);
    expect(result.paragraphs[0][0].cites).toEqual([1]);
    expect(result.report.failed).toEqual([{ kind: 'name', value: 'Zed Corp', where: 'paragraph 1', reason: 'not found whole in the record it cites [1]' }]);
  });

  it('keeps the citation numbers an edit already uses, in its report and its flagged citations', () => {
    // An editor's text cites the third record as [5] and the second as [2] (the narrative's numbers, kept on edit).
    const result = assessDraft({
      draft: {
        headline: 'Larchmont-70B arrives with a licence fight',
        dek: '',
        paragraphs: [[seg('Zed Corp said it should be open.', 2), seg(' Mara Lind agreed.', 1)]],
      },
      records,
      numbers: new Map([
        [1, 2],
        [2, 5],
      ]),
      flagged: new Set([2]),
    });
    expect(result.paragraphs[0].map((s) => s.cites)).toEqual([[5], [2]]);
    expect([...result.citations]).toEqual([
      [5, 'r2'],
      [2, 'r1'],
    ]);
    expect(result.report.flaggedCitations).toEqual([5]);
    expect(result.report.failed).toContainEqual({
      kind: 'name',
      value: 'Zed Corp',
      where: 'paragraph 1',
      reason: 'not found whole in the record it cites [5]',
    });
  });

  it('checks the headline and dek against every record given to the writer', () => {
    expect(failures(faithful, 'Larchmont-70B ships with a 9.9% error rate')).toEqual(['number:9.9%']);
    expect(failures(faithful, 'Larchmont-70B ships with a 4.2% error rate')).toEqual([]);
  });

  it('holds Markdown, lists, links and HTML in the text', () => {
    for (const text of [
      'Quillfeather Labs **released** Larchmont-70B.',
      '- Quillfeather Labs released Larchmont-70B.',
      'See [the post](https://evil.example).',
      'Quillfeather Labs <b>released</b> it.',
      '## Quillfeather Labs',
    ]) {
      expect(failures([[seg(text, 0)]])).toEqual(expect.arrayContaining([expect.stringMatching(/^markup:/)]));
    }
  });
});
