import { slugify } from './slug';

describe('slugify', () => {
  it('ends at a word boundary, never inside a word', () => {
    const slug = slugify('Calder Assembly passes the Model Transparency Act at second reading as an AI startup coalition objects');
    expect(slug.length).toBeLessThanOrEqual(80);
    expect(slug).toBe('calder-assembly-passes-the-model-transparency-act-at-second-reading-as-an-ai');
    expect(slugify('Quillfeather’s licence')).toBe('quillfeathers-licence');
    expect(slugify('a'.repeat(120))).toHaveLength(80);
  });

  it('gives non-Latin headlines real slugs', () => {
    expect(slugify('Калдерский законопроект прошёл второе чтение')).toBe('kalderskiy-zakonoproekt-proshyol-vtoroe-chtenie');
    expect(slugify('開源模型的許可證之爭')).toBe('kai-yuan-mo-xing-de-xu-ke-zheng-zhi-zheng');
    expect(slugify('Ärzte & Pflege: KI-Schreiber pausiert')).toBe('arzte-and-pflege-ki-schreiber-pausiert');
  });

  it('returns an empty slug for text with no letters or digits (the caller falls back)', () => {
    expect(slugify('🤖 — !!')).toBe('');
  });
});
