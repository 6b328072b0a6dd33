import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { preProcessFile } from 'typescript';
import { lshBands, MINHASH_SIZE, LSH_BANDS, textSignature } from '../../src/sources/parsing/fingerprint';
import { LSH_BANDS_1764610000000, lshBands1764610000000 } from '../../migrations/support/lsh-bands-1764610000000';

const MIGRATIONS = join(__dirname, '..', '..', 'migrations');

function migrationSources(dir = MIGRATIONS): Array<{ file: string; text: string }> {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? migrationSources(join(dir, entry.name))
      : entry.name.endsWith('.ts')
        ? [{ file: join(dir, entry.name).slice(MIGRATIONS.length + 1), text: readFileSync(join(dir, entry.name), 'utf8') }]
        : [],
  );
}

describe('migrations', () => {
  it('import no live code: only typeorm and their own frozen support files', () => {
    // TypeScript's own scanner finds every form: `from '…'` and `from "…"`, bare `import '…'`, `export … from`,
    // `import x = require(…)`, `require(…)` and `import(…)`.
    const imports = migrationSources().flatMap(({ file, text }) => preProcessFile(text, true, true).importedFiles.map((f) => ({ file, from: f.fileName })));
    expect(imports.length).toBeGreaterThan(0);
    const live = imports.filter(({ from }) => from !== 'typeorm' && !(from.startsWith('./') && !from.includes('..')));
    expect(live).toEqual([]);
  });

  it('the import scanner sees every way a migration could load live code', () => {
    const text = [
      `import "../src/a";`,
      `import '../src/b';`,
      `export { x } from "../src/c";`,
      `import y = require('../src/d');`,
      `const z = require("../src/e");`,
      `const w = await import('../src/f');`,
    ].join('\n');
    expect(preProcessFile(text, true, true).importedFiles.map((f) => f.fileName)).toEqual([
      '../src/a',
      '../src/b',
      '../src/c',
      '../src/d',
      '../src/e',
      '../src/f',
    ]);
  });
});

describe('the frozen lshBands of migration 1764610000000', () => {
  // A change to the live function fails this test: stored band keys were computed by the old one, so changing it
  // needs a new migration that recomputes them; the frozen copy keeps doing what 1764610000000 did.
  it('gives the same band keys as the live function today, for real signatures and arbitrary ones', () => {
    expect(LSH_BANDS_1764610000000).toBe(LSH_BANDS);
    const texts = [
      'The committee voted on Monday to send the open-weights bill to a second reading after a long debate about liability.',
      'Open-weights models are not a copyright precedent, whatever people keep saying on the forums this week; it is not.',
      'Ein längerer Text auf Deutsch über Modelle, Lizenzen und die Frage, wer für die Schäden haftet, wenn etwas passiert.',
    ];
    const signatures = texts.map((t) => textSignature(t)!.minhash);
    // Arbitrary signed 32-bit signatures from a fixed linear congruential sequence (the extremes included).
    let x = 0x2545f491;
    for (let s = 0; s < 200; s++) {
      signatures.push(
        Array.from({ length: MINHASH_SIZE }, () => {
          x = (Math.imul(x, 1664525) + 1013904223) | 0;
          return x;
        }),
      );
    }
    signatures.push(
      new Array<number>(MINHASH_SIZE).fill(-1),
      new Array<number>(MINHASH_SIZE).fill(0x7fffffff),
      new Array<number>(MINHASH_SIZE).fill(-0x80000000),
    );
    for (const signature of signatures) {
      const frozen = lshBands1764610000000(signature);
      expect(frozen).toHaveLength(LSH_BANDS);
      expect(frozen).toEqual(lshBands(signature));
    }
  });
});
