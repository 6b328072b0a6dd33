import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Piscina } from 'piscina';
import { FeedParseError } from './feed-parse-error';
import { type ParsedFeed } from './feed-parser';
import { type ParseOutcome, type ParseTask } from './feed-parse.worker';

export interface FeedParsePoolOptions {
  threads: number;
  /** Old-generation heap of each worker: a document that needs more fails alone, with a clear reason. */
  memoryMb: number;
  timeoutMs: number;
}

/**
 * Parses feeds in worker threads (piscina): a 20 MB document never stalls page requests, a runaway document is
 * stopped at the memory budget or the time limit (its worker is replaced), and nothing else is affected.
 */
export class FeedParsePool {
  private readonly pool: Piscina;

  constructor(private readonly options: FeedParsePoolOptions) {
    const built = join(__dirname, 'feed-parse.worker.js');
    this.pool = new Piscina({
      filename: existsSync(built) ? built : join(__dirname, 'ts-worker-loader.cjs'),
      minThreads: 0,
      maxThreads: options.threads,
      idleTimeout: 30_000,
      resourceLimits: { maxOldGenerationSizeMb: options.memoryMb, maxYoungGenerationSizeMb: Math.min(64, Math.max(16, options.memoryMb / 8)) },
    });
  }

  async parse(bytes: Buffer, task: Omit<ParseTask, 'bytes' | 'fetchedAt' | 'format'> & { fetchedAt: Date; format?: ParseTask['format'] }): Promise<ParsedFeed> {
    let outcome: ParseOutcome;
    try {
      outcome = (await this.pool.run(
        { ...task, format: task.format ?? 'feed', bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), fetchedAt: task.fetchedAt.getTime() } satisfies ParseTask,
        { signal: AbortSignal.timeout(this.options.timeoutMs) },
      )) as ParseOutcome;
    } catch (error) {
      const e = error as Error & { code?: string };
      if (e.code === 'ERR_WORKER_OUT_OF_MEMORY' || /out of memory/i.test(e.message)) {
        throw new FeedParseError(`the document needs more than the ${this.options.memoryMb} MB parse budget`);
      }
      if (e.name === 'AbortError' || e.name === 'TimeoutError') throw new FeedParseError(`parsing took longer than ${Math.round(this.options.timeoutMs / 1000)} s`);
      throw new FeedParseError(`the parser stopped: ${e.message}`);
    }
    if (!outcome.ok) throw new FeedParseError(outcome.error);
    return outcome.feed;
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}
