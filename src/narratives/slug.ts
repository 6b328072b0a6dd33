import { transliterate } from 'transliteration';

const MAX_SLUG = 80;

/**
 * A URL slug from a headline: transliterated to Latin (the `transliteration` library covers Cyrillic, Greek, CJK,
 * Arabic and more), lower case, hyphens between words, and cut at a word boundary, never inside a word.
 */
export function slugify(text: string): string {
  const latin = transliterate(text.normalize('NFKC'))
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/&/g, ' and ')
    .replace(/['’]/g, '')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  if (latin.length <= MAX_SLUG) return latin;
  const cut = latin.slice(0, MAX_SLUG + 1);
  const boundary = cut.lastIndexOf('-');
  return (boundary > 0 ? cut.slice(0, boundary) : latin.slice(0, MAX_SLUG)).replace(/-+$/, '');
}
