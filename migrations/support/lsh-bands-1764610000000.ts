/**
 * A frozen copy of `lshBands` (src/sources/parsing/fingerprint.ts) as it was when migration 1764610000000 was
 * written, for its backfill: a migration must do tomorrow exactly what it did the day it shipped, so it never
 * imports live code. test/unit/migration-support.spec.ts checks that this copy still gives the same keys as the
 * live function; if the live one ever changes, that test fails and the change needs its own migration (to
 * recompute stored keys), while this copy stays as it is.
 */

/** Signature length, rows per band and band count at 1764610000000. */
const MINHASH_SIZE = 64;
const ROWS_PER_BAND = 4;
export const LSH_BANDS_1764610000000 = MINHASH_SIZE / ROWS_PER_BAND;

/** MurmurHash3's 32-bit finaliser. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The LSH band keys of a signed 64-value MinHash signature, in band order (signed 32-bit integers). */
export function lshBands1764610000000(signed: readonly number[]): number[] {
  const bands: number[] = [];
  for (let b = 0; b < LSH_BANDS_1764610000000; b++) {
    let h = fmix32(b + 1);
    for (let r = 0; r < ROWS_PER_BAND; r++) h = fmix32(h ^ signed[b * ROWS_PER_BAND + r]);
    bands.push(h | 0);
  }
  return bands;
}
