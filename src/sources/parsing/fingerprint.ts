import { createHash } from 'node:crypto';

/**
 * What a text says, for dedupe, computed in the parse worker:
 * - `fingerprint`: a hash of the normalised words (blind to case, punctuation, links and whitespace): the same
 *   text under another URL;
 * - `minhash`: a MinHash signature of the text's word 3-shingles, and `bands`, its LSH band keys: the same
 *   post syndicated with small edits (a word changed, a sentence added, a different sign-off).
 * Texts under twelve words get neither: short texts ("Thanks!", a bare link) collide by chance.
 *
 * MinHash with LSH banding, rather than SimHash: with 16 bands of 4 values, two texts whose shingle sets have a
 * Jaccard similarity of 0.7 share a band 98.9% of the time (0.6: 89%; two words changed in a 50-word post is
 * about 0.7) and unrelated ones almost never, so the candidate
 * lookup is an exact match on an indexed integer, however many records there are; the similarity is then
 * estimated from the signatures. SimHash needs a Hamming-distance search, which a b-tree cannot index at the
 * distances small edits produce. The npm MinHash/SimHash packages (minhash 0.0.9, simhash-js 1.0.0) are
 * unmaintained, so the few lines are here.
 */
export interface TextSignature {
  fingerprint: string;
  minhash: number[];
  bands: number[];
}

export const MINHASH_SIZE = 64;
const ROWS_PER_BAND = 4;
const MIN_WORDS = 12;
const SHINGLE = 3;
/** Estimated Jaccard similarity of shingles at or above which two texts are near-duplicates. */
export const NEAR_DUPLICATE_SIMILARITY = 0.6;

/** Seeds of the 64 hash functions (fixed: signatures are stored and compared across polls and processes). */
const SEEDS = Array.from({ length: MINHASH_SIZE }, (_, i) => fmix32(Math.imul(i + 1, 0x9e3779b1)));

/** MurmurHash3's 32-bit finaliser: a good bit mixer. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** FNV-1a over a string's UTF-16 code units. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export function normalisedWords(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/https?:\/\/\S+/g, ' ')
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean);
}

export function textSignature(text: string): TextSignature | null {
  const words = normalisedWords(text.slice(0, 20_000));
  if (words.length < MIN_WORDS) return null;
  const fingerprint = createHash('sha256').update(words.join(' ')).digest('hex').slice(0, 32);
  const shingles = new Set<number>();
  for (let i = 0; i + SHINGLE <= words.length; i++) shingles.add(fnv1a(words.slice(i, i + SHINGLE).join(' ')));
  const minhash = new Array<number>(MINHASH_SIZE).fill(0xffffffff);
  for (const h of shingles) {
    for (let k = 0; k < MINHASH_SIZE; k++) {
      const v = fmix32(h ^ SEEDS[k]);
      if (v < minhash[k]) minhash[k] = v;
    }
  }
  // Stored as PostgreSQL int4: signed 32-bit.
  const signed = minhash.map((v) => v | 0);
  return { fingerprint, minhash: signed, bands: lshBands(signed) };
}

/**
 * The LSH band keys of a (signed) MinHash signature, in band order: band `b` hashes its number with its 4 values,
 * so equal keys mean the same band of two signatures. Fixed, like the seeds: stored keys are compared with new ones.
 */
export function lshBands(signed: readonly number[]): number[] {
  const bands: number[] = [];
  for (let b = 0; b < MINHASH_SIZE / ROWS_PER_BAND; b++) {
    let h = fmix32(b + 1);
    for (let r = 0; r < ROWS_PER_BAND; r++) h = fmix32(h ^ signed[b * ROWS_PER_BAND + r]);
    bands.push(h | 0);
  }
  return bands;
}

/** Number of LSH bands of a signature (`lshBands(…).length`). */
export const LSH_BANDS = MINHASH_SIZE / ROWS_PER_BAND;

/** The exact fingerprint alone (kept for callers that need only it). */
export function textFingerprint(text: string): string | null {
  return textSignature(text)?.fingerprint ?? null;
}

/** Estimated Jaccard similarity of two texts' shingle sets, from their signatures. */
export function similarity(a: readonly number[], b: readonly number[]): number {
  if (a.length !== MINHASH_SIZE || b.length !== MINHASH_SIZE) return 0;
  let same = 0;
  for (let i = 0; i < MINHASH_SIZE; i++) if (a[i] === b[i]) same++;
  return same / MINHASH_SIZE;
}
