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
  /** Tasks waiting for a thread: the time limit starts when a task starts, not while it waits its turn. */
  private readonly waiting: Array<() => void> = [];
  private running = 0;

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

  /**
   * `transfer`: the caller hands `bytes` over (a fetched body it never reads again). Its memory moves to the
   * worker instead of being copied on the event loop, and `bytes` is empty afterwards. Only a buffer at the start of an
   * ArrayBuffer larger than Node's shared pool moves (never a slice of the pool); any other is copied as usual.
   */
  async parse(
    bytes: Buffer,
    task: Omit<ParseTask, 'bytes' | 'fetchedAt' | 'format'> & { fetchedAt: Date; format?: ParseTask['format']; transfer?: boolean },
  ): Promise<ParsedFeed> {
    let outcome: ParseOutcome;
    // A finishing task hands its slot straight to the next waiting one.
    if (this.running >= this.options.threads) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running++;
    try {
      const { transfer, ...rest } = task;
      const owned = transfer === true && bytes.byteOffset === 0 && bytes.buffer instanceof ArrayBuffer && bytes.buffer.byteLength > Buffer.poolSize;
      outcome = (await this.pool.run(
        {
          ...rest,
          format: task.format ?? 'feed',
          bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength),
          fetchedAt: task.fetchedAt.getTime(),
        } satisfies ParseTask,
        { signal: AbortSignal.timeout(this.options.timeoutMs), ...(owned ? { transferList: [bytes.buffer as ArrayBuffer] } : {}) },
      )) as ParseOutcome;
    } catch (error) {
      const e = error as Error & { code?: string };
      if (e.code === 'ERR_WORKER_OUT_OF_MEMORY' || /out of memory/i.test(e.message)) {
        throw new FeedParseError(`the document needs more than the ${this.options.memoryMb} MB parse budget`);
      }
      if (e.name === 'AbortError' || e.name === 'TimeoutError')
        throw new FeedParseError(`parsing took longer than ${Math.round(this.options.timeoutMs / 1000)} s`);
      throw new FeedParseError(`the parser stopped: ${e.message}`);
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
    if (!outcome.ok) throw new FeedParseError(outcome.error);
    return outcome.feed;
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}
