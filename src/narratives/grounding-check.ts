import { type FidelityReport, type NarrativeParagraph } from './narrative.entity';

/** Words that look like names but are ours (platforms, days, months, sentence openers). */
const COMMON = new Set(
  `The This That These Those There Their They Then When Where While What Which Who Why How Some Many Most Other Others Another
One Two Three Four Five Several Both Each Every Meanwhile However Still Yet But And Or Not Also Others On In At By For From
Between Among After Before During Over Under It Its He She His Her We Our You Your I A An As If So To Of With Without
Reddit Hacker News Bluesky Mastodon Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March April
May June July August September October November December Offline Broadsheet Claude Commenters Users Posters Critics
Supporters Skeptics Several Across Many Much Few No Yes Others Some Members Readers`.split(/\s+/),
);

const normaliseText = (s: string) =>
  s.toLowerCase().replace(/[’‘]/g, "'").replace(/[“”]/g, '"').replace(/[–—]/g, '-').replace(/\s+/g, ' ').trim();

/** The checkable specifics of a piece of text: quotes, numbers and proper names. */
export function extractClaims(text: string): Array<{ kind: 'quote' | 'number' | 'name'; value: string }> {
  const claims: Array<{ kind: 'quote' | 'number' | 'name'; value: string }> = [];
  const quoted = new Set<string>();
  for (const match of text.matchAll(/[“"]([^”"]{4,})[”"]/g)) {
    const value = match[1].replace(/…$|\.\.\.$/, '').trim();
    if (value) {
      claims.push({ kind: 'quote', value });
      quoted.add(match[0]);
    }
  }
  // Numbers and names outside the quotes (the quote check already covers its own contents).
  let rest = text;
  for (const q of quoted) rest = rest.split(q).join(' ');
  for (const match of rest.matchAll(/(?<![\w.])\$?\d[\d,]*(\.\d+)?%?/g)) {
    claims.push({ kind: 'number', value: match[0].replace(/,/g, '') });
  }
  for (const match of rest.matchAll(/\b[A-Z][\w'’-]*[A-Za-z0-9](?:[ -][A-Z][\w'’-]*[A-Za-z0-9])*/g)) {
    const before = rest.slice(0, match.index).trimEnd();
    const sentenceStart = before === '' || /[.!?:;]$/.test(before);
    const words = match[0].split(/[ -]/);
    // A lone capitalised word opening a sentence is usually just grammar, not a name.
    if (sentenceStart && words.length === 1) continue;
    const named = words.filter((w) => !COMMON.has(w));
    if (named.length) claims.push({ kind: 'name', value: named.join(' ') });
  }
  return claims;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Numbers match whole (1,000 is not 10000; 50% is not 150); names match whole words; quotes verbatim. */
function supported(claim: { kind: string; value: string }, haystack: string): boolean {
  if (claim.kind === 'number') {
    const digits = claim.value.replace(/[$%]/g, '');
    return new RegExp(`(?<![\\d.])${escapeRegExp(digits)}(?![\\d]|\\.\\d)`).test(haystack.replace(/(\d),(?=\d{3})/g, '$1'));
  }
  if (claim.kind === 'name') {
    return claim.value.split(' ').every((word) => new RegExp(`(?<![\\p{L}\\p{N}])${escapeRegExp(normaliseText(word))}(?![\\p{L}\\p{N}])`, 'u').test(haystack));
  }
  return haystack.includes(normaliseText(claim.value));
}

/**
 * Checks that every quote, number and proper name in each cited run appears in the records it cites
 * (text, title or author). Uncited runs must carry no specifics. Headline and dek are checked against all the
 * records given to the writer. Fidelity is the share of checks that passed.
 */
export function checkGrounding(input: {
  headline: string;
  dek: string;
  paragraphs: NarrativeParagraph[];
  /** Citation number → the text of the record it cites. */
  sources: Map<number, string>;
  /** Every record given to the writer (for headline and dek). */
  all?: string[];
}): { fidelity: number; report: FidelityReport } {
  const all = normaliseText((input.all ?? [...input.sources.values()]).join(' \n '));
  const failed: FidelityReport['failed'] = [];
  let checks = 0;
  const run = (text: string, haystack: string, where: string, kinds: Array<'quote' | 'number' | 'name'>) => {
    for (const claim of extractClaims(text)) {
      if (!kinds.includes(claim.kind)) continue;
      checks++;
      if (!supported(claim, haystack)) failed.push({ ...claim, where });
    }
  };
  run(input.headline, all, 'headline', ['quote', 'number', 'name']);
  run(input.dek, all, 'dek', ['quote', 'number', 'name']);
  input.paragraphs.forEach((paragraph, p) => {
    paragraph.forEach((segment) => {
      const haystack = normaliseText(segment.cites.map((n) => input.sources.get(n) ?? '').join(' \n '));
      run(segment.text, haystack, `paragraph ${p + 1}`, ['quote', 'number', 'name']);
    });
  });
  return { fidelity: checks === 0 ? 1 : (checks - failed.length) / checks, report: { checks, failed } };
}
