import { EmbeddingsProvider } from '../../src/kernel/embeddings/embeddings.port';

/**
 * A test adapter of the embeddings port: vectors from a function the test chooses (so a test can say which records
 * are "about the same thing" regardless of their words), every call recorded, and an optional failure.
 */
export class TestEmbeddings extends EmbeddingsProvider {
  readonly name = 'test';
  readonly enabled = true;
  readonly calls: string[][] = [];
  failWith: Error | null = null;

  constructor(private readonly vectorOf: (text: string) => number[]) {
    super();
  }

  embed(texts: string[]): Promise<number[][]> {
    this.calls.push(texts);
    if (this.failWith) return Promise.reject(this.failWith);
    return Promise.resolve(texts.map((t) => this.vectorOf(t)));
  }
}
