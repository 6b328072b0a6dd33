import { type PGlite } from '@electric-sql/pglite';
import { CLIENT_IDLE_IN_SESSION_MS } from './embedded-settings';

/** The Sync message: ends an extended-protocol exchange (and the skipping of messages after an error in one). */
const SYNC = new Uint8Array([0x53, 0, 0, 0, 4]);

interface QueueItem {
  handlerId: number;
  /** Runs the message; resolves with whether the session is free afterwards (no transaction, no exchange half done). */
  run: () => Promise<boolean>;
  reject: (error: Error) => void;
}

/** Whether a response ends with ReadyForQuery reporting an idle session ('Z', length 5, status 'I'). */
function endsIdle(tail: Uint8Array): boolean {
  const n = tail.length;
  return n >= 6 && tail[n - 6] === 0x5a && tail[n - 5] === 0 && tail[n - 4] === 0 && tail[n - 3] === 0 && tail[n - 2] === 5 && tail[n - 1] === 0x49;
}

/**
 * Runs wire-protocol messages on PGlite one at a time, in arrival order: what pglite-socket's own query queue
 * does (its class is not exported), made safe for several connections at once, plus a clean stop.
 * PGlite has one session, so the session belongs to one connection from its first message until a
 * ReadyForQuery says it is idle again: through a transaction, and through an extended-protocol exchange
 * (Parse/Bind/Execute … Sync), whose unnamed statement and portal another connection's messages would replace
 * (the interleaving of upstream bug electric-sql/pglite#1046). While a connection owns it, only that
 * connection's messages run; the others wait in order. A connection that closes while it owns the session has
 * its exchange ended and its transaction rolled back before anyone else runs. A local client (`external`) that
 * owns the session and goes quiet for `stallMs` is disconnected, so a stopped command cannot stall the server.
 * After `drain()` every message is refused, so nothing reaches a closed PGlite.
 */
export class SerialQueue {
  private readonly items: QueueItem[] = [];
  private busy: Promise<void> | null = null;
  private stopped = false;
  private owner: number | null = null;
  private readonly external = new Map<number, () => void>();
  private stallTimer?: NodeJS.Timeout;

  constructor(
    private readonly db: PGlite,
    private readonly stallMs = CLIENT_IDLE_IN_SESSION_MS,
  ) {}

  enqueue(handlerId: number, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      if (this.stopped) return reject(new Error('the embedded database is stopping'));
      let bytes = 0;
      let tail = new Uint8Array(0);
      const run = async () => {
        await this.db.runExclusive(() =>
          this.db.execProtocolRawStream(message, {
            onRawData: (data) => {
              bytes += data.length;
              tail = data.length >= 6 ? data.slice(-6) : Uint8Array.from([...tail, ...data].slice(-6));
              onData(data);
            },
          }),
        );
        resolve(bytes);
        return !this.db.closed && !this.db.isInTransaction() && endsIdle(tail);
      };
      this.items.push({ handlerId, run, reject });
      this.watchOwner();
      this.pump();
    });
  }

  /** A connection from another process: disconnected by `drop` if it holds the session idle for too long. */
  addExternal(handlerId: number, drop: () => void): void {
    this.external.set(handlerId, drop);
  }

  removeExternal(handlerId: number): void {
    this.external.delete(handlerId);
  }

  clearQueueForHandler(handlerId: number): void {
    for (let i = this.items.length - 1; i >= 0; i--) {
      if (this.items[i].handlerId === handlerId) this.items.splice(i, 1)[0].reject(new Error('connection closed'));
    }
  }

  /** Called when a connection closes: if it owned the session, end its exchange and roll back its transaction. */
  async clearTransactionIfNeeded(handlerId: number): Promise<void> {
    if (this.stopped || this.owner !== handlerId) return;
    await new Promise<void>((resolve, reject) => {
      const run = async () => {
        await this.db.runExclusive(() => this.db.execProtocolRawStream(SYNC, { onRawData: () => undefined }));
        if (this.db.isInTransaction()) await this.db.exec('ROLLBACK');
        resolve();
        return true;
      };
      this.items.unshift({ handlerId, run, reject });
      this.pump();
    });
  }

  /** Refuses new messages, drops queued ones and waits for the one running. */
  async drain(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.stallTimer);
    for (const item of this.items.splice(0)) item.reject(new Error('the embedded database is stopping'));
    await this.busy;
  }

  /** The next message allowed to run: any while the session is free, else only its owner's. */
  private nextIndex(): number {
    if (this.items.length === 0) return -1;
    return this.owner === null ? 0 : this.items.findIndex((item) => item.handlerId === this.owner);
  }

  private next(): QueueItem | undefined {
    const index = this.nextIndex();
    return index === -1 ? undefined : this.items.splice(index, 1)[0];
  }

  /** Arms the stall timer while a local client owns the session with nothing queued; disarms it otherwise. */
  private watchOwner(): void {
    clearTimeout(this.stallTimer);
    this.stallTimer = undefined;
    const owner = this.owner;
    const drop = owner === null || this.stopped ? undefined : this.external.get(owner);
    if (!drop || this.items.some((item) => item.handlerId === owner)) return;
    this.stallTimer = setTimeout(() => {
      if (this.owner === owner) drop();
    }, this.stallMs);
    this.stallTimer.unref();
  }

  private pump(): void {
    if (this.busy) return;
    this.busy = (async () => {
      for (let item = this.next(); item && !this.stopped; item = this.next()) {
        let free: boolean;
        try {
          free = await item.run();
        } catch (error) {
          item.reject(error as Error);
          free = !this.db.closed && !this.db.isInTransaction();
        }
        this.owner = free ? null : item.handlerId;
      }
    })().finally(() => {
      this.busy = null;
      this.watchOwner();
      if (!this.stopped && this.nextIndex() !== -1) this.pump();
    });
  }
}
