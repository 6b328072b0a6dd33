import nlp, { NLP_RELEASE_AFTER_MS, nlpLoaded, releaseNlp } from './nlp';

// Dropping the module-cache entry is seen only outside jest (jest keeps its own registry): bench/memory.mjs
// measures what the release gives back.
describe('nlp (compromise, loaded on use and released when idle)', () => {
  afterEach(() => {
    jest.useRealTimers();
    releaseNlp();
  });

  it('loads compromise on first use and answers as compromise does', () => {
    releaseNlp();
    expect(nlpLoaded()).toBe(false);
    expect(nlp('Critics denied it on Tuesday.').has('#Verb')).toBe(true);
    expect(nlpLoaded()).toBe(true);
    const lexicon = (nlp.model() as { one: { lexicon: Record<string, unknown> } }).one.lexicon;
    expect(lexicon.tuesday).toBeDefined();
  });

  it('lets compromise go once unused for the release time, and loads it again on the next call', () => {
    jest.useFakeTimers();
    expect(nlp('Nine in ten readers agree.').nouns().out('array')).toEqual(['ten readers']);
    jest.advanceTimersByTime(NLP_RELEASE_AFTER_MS - 1);
    // A call before the time is up keeps it another full period.
    expect(nlp('The council met.').has('#Noun')).toBe(true);
    jest.advanceTimersByTime(NLP_RELEASE_AFTER_MS - 1);
    expect(nlpLoaded()).toBe(true);
    jest.advanceTimersByTime(1);
    expect(nlpLoaded()).toBe(false);
    expect(nlp('Nine in ten readers agree.').nouns().out('array')).toEqual(['ten readers']);
    expect(nlpLoaded()).toBe(true);
  });
});
