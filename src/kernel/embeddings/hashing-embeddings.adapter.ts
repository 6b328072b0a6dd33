import { createHash } from 'node:crypto';
import { EmbeddingsProvider } from './embeddings.port';

/**
 * A local embedder needing no model or network: signed feature hashing of lower-cased words and word pairs into a
 * fixed number of dimensions, L2-normalised (the "hashing trick"). It captures shared vocabulary across wording
 * order and inflection poorly, but it is deterministic and free, and stands in for a model-backed provider
 * behind the same port.
 */
export class HashingEmbeddings extends EmbeddingsProvider {
  readonly name = 'hashing';
  readonly enabled = true;

  constructor(private readonly dimensions = 256) {
    super();
  }

  embed(texts: string[]): Promise<number[][]> {
    return Promise.resolve(texts.map((text) => this.vector(text)));
  }

  private vector(text: string): number[] {
    const out = new Array<number>(this.dimensions).fill(0);
    const words =
      text
        .toLowerCase()
        .normalize('NFKD')
        .match(/[\p{L}\p{N}]{3,}/gu) ?? [];
    const features = [...words, ...words.slice(1).map((w, i) => `${words[i]} ${w}`)];
    for (const feature of features) {
      const digest = createHash('sha1').update(feature).digest();
      const index = digest.readUInt32BE(0) % this.dimensions;
      out[index] += digest[4] & 1 ? 1 : -1;
    }
    const norm = Math.sqrt(out.reduce((sum, v) => sum + v * v, 0)) || 1;
    return out.map((v) => v / norm);
  }
}
