import { stripPlatformBoilerplate } from './record-text';

describe('stripPlatformBoilerplate', () => {
  it('drops hnrss link and score lines but keeps Ask HN text', () => {
    expect(
      stripPlatformBoilerplate(
        'Is anyone evaluating scribes?\n\nArticle URL: https://x.example/a\nComments URL: https://news.ycombinator.com/item?id=1\nPoints: 312\n# Comments: 148',
      ),
    ).toBe('Is anyone evaluating scribes?');
  });
  it("drops Reddit's submitted-by tail", () => {
    expect(stripPlatformBoilerplate('Weights are up.\n\nsubmitted by &#32; /u/gradient_gardener \n[link] [comments]')).toBe('Weights are up.');
  });
  it('leaves ordinary text alone', () => {
    expect(stripPlatformBoilerplate('Points: are made here, in the middle.\nArticle URL: is a phrase')).toBe(
      'Points: are made here, in the middle.\nArticle URL: is a phrase',
    );
  });
});
