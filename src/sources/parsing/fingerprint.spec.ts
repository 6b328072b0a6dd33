import { NEAR_DUPLICATE_SIMILARITY, similarity, textSignature } from './fingerprint';

const POST =
  'Mistral released a new open-weights model today that beats Llama on most coding benchmarks, according to the company. ' +
  'The weights are on Hugging Face under Apache 2.0 and early testers report it runs on a single 24 GB card with 4-bit quantisation. ' +
  'Commenters are skeptical of the benchmark choice.';

describe('text signatures', () => {
  const of = (text: string) => {
    const signature = textSignature(text);
    if (!signature) throw new Error('no signature');
    return signature;
  };

  it('rates a copy with small edits as a near-duplicate, sharing an LSH band', () => {
    const edited = of(POST.replace('today', 'on Tuesday').replace('skeptical of', 'sceptical about') + ' (via r/LocalLLaMA)');
    const original = of(POST);
    expect(similarity(original.minhash, edited.minhash)).toBeGreaterThanOrEqual(NEAR_DUPLICATE_SIMILARITY);
    expect(original.bands.some((b) => edited.bands.includes(b))).toBe(true);
    expect(edited.fingerprint).not.toBe(original.fingerprint);
  });

  it('does not confuse two posts on the same subject', () => {
    const other = of(
      'Llama 4 weights leaked on a torrent site today; commenters argue about benchmark choice and whether the 24 GB card figures are real or quantisation tricks.',
    );
    const original = of(POST);
    expect(similarity(original.minhash, other.minhash)).toBeLessThan(0.2);
    expect(original.bands.some((b) => other.bands.includes(b))).toBe(false);
  });

  it('is the same for text that differs only in case, punctuation, links and spacing; none for short texts', () => {
    expect(of(POST.toUpperCase().replace(/\./g, '!') + ' https://t.co/x').fingerprint).toBe(of(POST).fingerprint);
    expect(textSignature('Thanks, great post!')).toBeNull();
  });
});
