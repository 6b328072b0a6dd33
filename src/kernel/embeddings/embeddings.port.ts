/**
 * An optional embeddings provider for clustering storylines (NARRATIVES_EMBEDDINGS). Off by default: clustering
 * then uses titles, entities and key phrases alone. Vectors come back in the order of the texts, all one length.
 */
export abstract class EmbeddingsProvider {
  abstract readonly name: string;
  abstract readonly enabled: boolean;
  abstract embed(texts: string[]): Promise<number[][]>;
}

export class NoEmbeddings extends EmbeddingsProvider {
  readonly name = 'none';
  readonly enabled = false;
  embed(): Promise<number[][]> {
    return Promise.reject(new Error('no embeddings provider is configured (NARRATIVES_EMBEDDINGS=none)'));
  }
}
