import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import {
  addOutcome,
  DiscourseRecordRepository,
  emptyOutcome,
  ROWS_PER_TRANSACTION,
  uniqueRows,
  type NewRecord,
  type RecordPiece,
  type UpsertOutcome,
} from './discourse-record.repository';
import { SourceRepository, type PollSuccess } from './source.repository';

/** Rows waiting to be written above which polls wait before fetching more (what waits in memory stays bounded). */
export const MAX_QUEUED_ROWS = 4 * ROWS_PER_TRANSACTION;
/** Pieces in one transaction at most (polls with nothing new are pieces of no rows). */
const MAX_PIECES_PER_TRANSACTION = 64;
/**
 * How long waiting pieces wait at most for those of polls still fetching or parsing, to be written with them: a
 * transaction has a fixed cost (a lock, a lookup, an insert, the bookkeeping, the commit, each a statement, and on
 * PGlite each run on the event loop), so one of 200 rows costs far less than ten of 20.
 */
export const MAX_WAIT_MS = 50;

interface Job {
  piece: RecordPiece;
  queuedAt: number;
  /** The poll's bookkeeping, from its total outcome: written with its last piece. */
  finish: ((total: UpsertOutcome) => PollSuccess) | null;
  /** The poll's outcome before this piece. */
  before: UpsertOutcome;
  resolve: (outcome: UpsertOutcome) => void;
  reject: (error: unknown) => void;
}

/**
 * Writes the records of polls (write-behind): each poll hands its rows over and waits for its outcome, while the
 * pieces of polls that finish parsing meanwhile queue up. One transaction at a time takes every waiting piece (up
 * to ROWS_PER_TRANSACTION rows), whatever source it comes from, and writes them and their polls' bookkeeping in
 * a few set-based statements under the one advisory lock (`DiscourseRecordRepository.upsertPieces`): a handful of
 * statements per transaction instead of per source. While polls announced with `producing` are still fetching or
 * parsing, waiting pieces wait for theirs (at most MAX_WAIT_MS, or until a transaction's worth has come). A transaction that fails is retried one piece at a time, so
 * one source's failure never fails another's.
 */
@Injectable()
export class RecordWriter {
  private readonly queue: Job[] = [];
  private queuedRows = 0;
  private writing = false;
  private readonly waitingForRoom: Array<() => void> = [];
  /** Polls announced (`producing`) that have not handed their rows over yet. */
  private producers = 0;
  private wake: (() => void) | null = null;

  constructor(
    private readonly dataSource: DataSource,
    private readonly records: DiscourseRecordRepository,
    private readonly sources: SourceRepository,
  ) {}

  /**
   * Writes one poll's rows (one source's), in pieces of at most ROWS_PER_TRANSACTION one after another, and its
   * bookkeeping (`finish`, from the poll's total) in the transaction of its last piece. Rows repeating a provider
   * id or a canonical URL of the same poll are duplicates (the first wins).
   */
  async write(
    sourceId: string,
    rows: NewRecord[],
    finish: (total: UpsertOutcome) => PollSuccess,
    options: { queued?: () => void } = {},
  ): Promise<UpsertOutcome> {
    const unique = uniqueRows(rows);
    const total = emptyOutcome();
    total.duplicate = unique.duplicate;
    for (let i = 0; i === 0 || i < unique.rows.length; i += ROWS_PER_TRANSACTION) {
      const last = i + ROWS_PER_TRANSACTION >= unique.rows.length;
      const piece = { sourceId, rows: unique.rows.slice(i, i + ROWS_PER_TRANSACTION) };
      const written = this.enqueue(piece, last ? finish : null, { ...total });
      if (i === 0) options.queued?.();
      addOutcome(total, await written);
    }
    return total;
  }

  /**
   * Announces a poll that will hand rows over soon (it is fetching or parsing): waiting pieces wait for it, at most
   * MAX_WAIT_MS, to share its transaction. The returned function (idempotent) says it has handed them over, or has
   * none.
   */
  producing(): () => void {
    this.producers++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.producers--;
      this.wake?.();
    };
  }

  /** Resolves once fewer than MAX_QUEUED_ROWS rows wait to be written: a poller waits here before fetching more. */
  room(): Promise<void> {
    if (this.queuedRows < MAX_QUEUED_ROWS) return Promise.resolve();
    return new Promise((resolve) => this.waitingForRoom.push(resolve));
  }

  private enqueue(piece: RecordPiece, finish: Job['finish'], before: UpsertOutcome): Promise<UpsertOutcome> {
    return new Promise((resolve, reject) => {
      this.queue.push({ piece, queuedAt: performance.now(), finish, before, resolve, reject });
      this.queuedRows += piece.rows.length;
      this.wake?.();
      void this.drain();
    });
  }

  private async drain(): Promise<void> {
    if (this.writing) return;
    this.writing = true;
    try {
      while (this.queue.length > 0) {
        const waited = performance.now() - this.queue[0].queuedAt;
        if (this.producers > 0 && this.queuedRows < ROWS_PER_TRANSACTION && this.queue.length < MAX_PIECES_PER_TRANSACTION && waited < MAX_WAIT_MS) {
          await this.moreOr(MAX_WAIT_MS - waited);
          continue;
        }
        const batch = [this.queue.shift() as Job];
        let rows = batch[0].piece.rows.length;
        while (this.queue.length > 0 && batch.length < MAX_PIECES_PER_TRANSACTION && rows + this.queue[0].piece.rows.length <= ROWS_PER_TRANSACTION) {
          const job = this.queue.shift() as Job;
          rows += job.piece.rows.length;
          batch.push(job);
        }
        await this.run(batch);
        this.queuedRows -= rows;
        while (this.queuedRows < MAX_QUEUED_ROWS && this.waitingForRoom.length > 0) (this.waitingForRoom.shift() as () => void)();
      }
    } finally {
      this.writing = false;
    }
  }

  /** Resolves when a piece is queued, a producer hands over, or after `ms`. */
  private moreOr(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => this.wake?.(), ms);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = null;
        resolve();
      };
    });
  }

  /** Settles every job of the batch; never throws. */
  private async run(batch: Job[]): Promise<void> {
    try {
      const outcomes = await this.transact(batch);
      batch.forEach((job, i) => job.resolve(outcomes[i]));
    } catch (error) {
      if (batch.length === 1) return batch[0].reject(error);
      for (const job of batch) {
        try {
          job.resolve((await this.transact([job]))[0]);
        } catch (alone) {
          job.reject(alone);
        }
      }
    }
  }

  private transact(batch: Job[]): Promise<UpsertOutcome[]> {
    return this.dataSource.transaction(async (m) => {
      const outcomes = await this.records.upsertPieces(
        m,
        batch.map((job) => job.piece),
      );
      const finished = batch.flatMap((job, i) => (job.finish ? [job.finish(addOutcome({ ...job.before }, outcomes[i]))] : []));
      await this.sources.saveSuccesses(m, finished);
      return outcomes;
    });
  }
}
