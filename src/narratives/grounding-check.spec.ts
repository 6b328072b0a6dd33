import { checkGrounding, extractClaims } from './grounding-check';

const sources = new Map([
  [1, 'quietgradient\nLarchmont-70B weights are out\nQuillfeather Labs released Larchmont-70B with a 4.2% error rate on the benchmark.'],
  [2, 'mara.bsky.social\n\nThe licence bans use by companies with over $38 million in revenue.'],
]);

describe('grounding check', () => {
  it('extracts quotes, numbers and names', () => {
    const claims = extractClaims('Critics said “it is not open” while Quillfeather Labs cited 4.2% and $38 million.');
    expect(claims).toEqual(
      expect.arrayContaining([
        { kind: 'quote', value: 'it is not open' },
        { kind: 'number', value: '4.2%' },
        { kind: 'number', value: '$38' },
        { kind: 'name', value: 'Quillfeather Labs' },
      ]),
    );
  });

  it('scores a faithful narrative 1', () => {
    const result = checkGrounding({
      headline: 'Larchmont-70B arrives',
      dek: 'A licence fight.',
      paragraphs: [[{ text: 'Quillfeather Labs reported a 4.2% error rate', cites: [1] }, { text: ', and the licence draws a line at $38 million.', cites: [2] }]],
      sources,
    });
    expect(result.report.failed).toEqual([]);
    expect(result.fidelity).toBe(1);
  });

  it('catches numbers, names and quotes that are not in the cited records', () => {
    const result = checkGrounding({
      headline: 'Larchmont-70B arrives',
      dek: 'A licence fight.',
      paragraphs: [
        [{ text: 'Quillfeather Labs reported a 9.9% error rate', cites: [1] }],
        [{ text: 'Ostrava Systems said “this changes everything”', cites: [2] }],
        [{ text: 'It cost $38 million.', cites: [] }],
      ],
      sources,
    });
    expect(result.report.failed.map((f) => f.value)).toEqual(expect.arrayContaining(['9.9%', 'Ostrava Systems', 'this changes everything', '$38']));
    expect(result.fidelity).toBeLessThan(0.7);
  });

  it('matches numbers and names whole, and checks the headline’s numbers too', () => {
    const records = new Map([[1, 'quietgradient\nThe thread got 150 comments and 10000 views; a banana sleeve was mentioned. It cost 4.25 dollars.']]);
    const check = (text: string, headline = 'A thread') => checkGrounding({ headline, dek: 'x', paragraphs: [[{ text, cites: [1] }]], sources: records }).report.failed.map((f) => f.value);
    expect(check('It drew 1,000 views')).toEqual(['1000']);
    expect(check('Half, 50%, agreed')).toEqual(['50%']);
    expect(check('Ana Lee disagreed')).toEqual(['Ana Lee']);
    expect(check('It cost 4.2 dollars')).toEqual(['4.2']);
    expect(check('It got 150 comments and 10,000 views')).toEqual([]);
    expect(check('fine', '10,000 developers quit')).toEqual([]);
    expect(check('fine', '20,000 developers quit')).toEqual(['20000']);
  });
});
