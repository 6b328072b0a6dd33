import { execFile } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { duplexPair, type Duplex } from 'node:stream';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketHandler } from '@electric-sql/pglite-socket';
import { DataDirLock, DataDirLockedError } from './data-dir-lock';

export { DataDirLockedError };

/**
 * PostgreSQL settings for the WASM instance. PGlite's defaults are a server's: 128 MB of shared_buffers, which
 * PostgreSQL allocates in the WASM heap at start (a WebAssembly.Memory can grow but never shrinks; pglite.wasm
 * itself declares a 128 MB minimum, so `initialMemory` can't go lower). Broadsheet's
 * embedded database is a few MB to a few hundred MB, read by one session: 16 MB of buffers is plenty, the OS page
 * cache holds the files anyway (PGlite writes through to DATA_DIR). See bench/memory.mjs for the measurements.
 */
export const EMBEDDED_SETTINGS: Readonly<Record<string, string>> = {
  shared_buffers: '16MB',
  wal_buffers: '1MB',
  work_mem: '4MB',
  maintenance_work_mem: '16MB',
  temp_buffers: '4MB',
};

interface QueueItem {
  handlerId: number;
  run: () => Promise<void>;
  reject: (error: Error) => void;
}

/**
 * Runs wire-protocol messages on PGlite one at a time, in arrival order: what pglite-socket's own query queue
 * does (its class is not exported), plus a clean stop. PGlite has one session, so a transaction belongs to the
 * connection that opened it: while one is open, only that connection's messages run (another connection — the
 * pool's next one while a dropped one is being cleaned up — waits), and that connection's disconnect rolls it
 * back. After `drain()` every message is refused, so nothing reaches a closed PGlite.
 */
class SerialQueue {
  private readonly items: QueueItem[] = [];
  private busy: Promise<void> | null = null;
  private stopped = false;
  private owner: number | null = null;

  constructor(private readonly db: PGlite) {}

  enqueue(handlerId: number, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      if (this.stopped) return reject(new Error('the embedded database is stopping'));
      let bytes = 0;
      const run = async () => {
        await this.db.runExclusive(() =>
          this.db.execProtocolRawStream(message, {
            onRawData: (data) => {
              bytes += data.length;
              onData(data);
            },
          }),
        );
        resolve(bytes);
      };
      this.items.push({ handlerId, run, reject });
      this.pump();
    });
  }

  clearQueueForHandler(handlerId: number): void {
    for (let i = this.items.length - 1; i >= 0; i--) {
      if (this.items[i].handlerId === handlerId) this.items.splice(i, 1)[0].reject(new Error('connection closed'));
    }
  }

  async clearTransactionIfNeeded(handlerId: number): Promise<void> {
    if (this.stopped || this.owner !== handlerId) return;
    await new Promise<void>((resolve, reject) => {
      const run = async () => {
        if (this.db.isInTransaction()) await this.db.exec('ROLLBACK');
        resolve();
      };
      this.items.unshift({ handlerId, run, reject });
      this.pump();
    });
  }

  /** Refuses new messages, drops queued ones and waits for the one running. */
  async drain(): Promise<void> {
    this.stopped = true;
    for (const item of this.items.splice(0)) item.reject(new Error('the embedded database is stopping'));
    await this.busy;
  }

  /** The next message allowed to run: any while no transaction is open, else only its owner's. */
  private nextIndex(): number {
    if (this.items.length === 0) return -1;
    return this.owner === null ? 0 : this.items.findIndex((item) => item.handlerId === this.owner);
  }

  private next(): QueueItem | undefined {
    const index = this.nextIndex();
    return index === -1 ? undefined : this.items.splice(index, 1)[0];
  }

  private pump(): void {
    if (this.busy) return;
    this.busy = (async () => {
      for (let item = this.next(); item && !this.stopped; item = this.next()) {
        try {
          await item.run();
        } catch (error) {
          item.reject(error as Error);
        }
        this.owner = !this.db.closed && this.db.isInTransaction() ? item.handlerId : null;
      }
    })().finally(() => {
      this.busy = null;
      if (!this.stopped && this.nextIndex() !== -1) this.pump();
    });
  }
}

/**
 * Creates the database cluster in `dir` (initdb) in a short-lived child process. PGlite's initdb runs a second
 * WASM instance plus initdb.wasm and copies the new cluster through a tarball in memory: done in this process it
 * leaves ~500 MB resident for good (WASM memories never shrink, and glibc keeps the freed heap), against ~180 MB
 * for opening an existing cluster. The child takes that memory with it when it exits.
 */
async function initialiseCluster(dir: string): Promise<void> {
  if (existsSync(join(dir, 'PG_VERSION'))) return;
  const entry = require.resolve('@electric-sql/pglite');
  const script =
    `const { PGlite } = require(${JSON.stringify(entry)});` +
    'PGlite.create({ dataDir: process.argv[1] }).then((db) => db.close()).then(() => process.exit(0), (e) => { console.error(String(e && e.message || e)); process.exit(1); });';
  try {
    await promisify(execFile)(process.execPath, ['-e', script, dir], { maxBuffer: 16 * 1024 * 1024 });
  } catch (error) {
    const stderr = String((error as { stderr?: string }).stderr ?? '').trim();
    throw new Error(`could not create the embedded database in ${dir}: ${stderr.split('\n').slice(-3).join(' ') || (error as Error).message}`, {
      cause: error,
    });
  }
}

/**
 * Embedded PostgreSQL: PGlite (PostgreSQL in WASM) spoken to over the Postgres wire protocol *inside this
 * process*. There is no socket, TCP or Unix: each `pg` connection gets an in-memory duplex stream (pg's `stream`
 * option) whose other end is a pglite-socket protocol handler. No other process or user can reach the database,
 * whatever the file permissions or firewall, so the signing key in `settings` stays ours.
 * PGlite has one session: the pool MUST hold exactly one connection (STACK.md), and a lock file keeps a second
 * process off the data directory.
 */
export class EmbeddedPostgres {
  private readonly streams = new Set<Duplex>();

  private constructor(
    private readonly db: PGlite,
    private readonly queue: SerialQueue,
    private readonly lock?: DataDirLock,
  ) {}

  /** `dir` undefined means in memory (tests). */
  static async start(dir?: string): Promise<EmbeddedPostgres> {
    let lock: DataDirLock | undefined;
    if (dir) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      lock = DataDirLock.acquire(`${dir}.pid`, dir);
    }
    try {
      if (dir) await initialiseCluster(dir);
      const startParams = [...PGlite.defaultStartParams, ...Object.entries(EMBEDDED_SETTINGS).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
      const db = await PGlite.create({ ...(dir ? { dataDir: dir } : {}), startParams });
      return new EmbeddedPostgres(db, new SerialQueue(db), lock);
    } catch (error) {
      lock?.release();
      throw error;
    }
  }

  /** Connection options for `pg` (TypeORM's `extra`): every connection is an in-process stream. */
  get connectionOptions(): { stream: () => Duplex } {
    return { stream: () => this.connect() };
  }

  /** A placeholder URL for TypeORM: `pg` never resolves or dials it, the stream above is the connection. */
  readonly url = 'postgres://postgres@embedded.invalid/postgres';

  /** One client end of a new in-process connection; the other end is served by a pglite-socket handler. */
  connect(): Duplex {
    const [client, server] = duplexPair();
    // What `pg` and the handler call on a net.Socket, for a stream that has no socket under it.
    const socketLike = (stream: Duplex) =>
      Object.assign(stream, {
        setNoDelay: () => stream,
        setKeepAlive: () => stream,
        ref: () => stream,
        unref: () => stream,
        remoteAddress: 'in-process',
        remotePort: 0,
      });
    socketLike(server);
    Object.assign(socketLike(client), {
      connect: () => {
        process.nextTick(() => client.emit('connect'));
        return client;
      },
    });
    // A net.Socket without allowHalfOpen closes when its peer ends: the handler only watches 'close'.
    server.on('end', () => server.end());
    client.on('end', () => client.end());
    this.streams.add(client);
    client.on('close', () => this.streams.delete(client));
    // pglite-socket's handler does the protocol framing (startup, SSL and cancel requests, message boundaries).
    void new PGLiteSocketHandler({ queryQueue: this.queue as never, closeOnDetach: true }).attach(server as never);
    return client;
  }

  async stop(): Promise<void> {
    // Connections still open (the pool normally ended them already) are closed before the database.
    for (const stream of this.streams) stream.destroy();
    this.streams.clear();
    try {
      await this.queue.drain();
      if (!this.db.closed) await this.db.close();
    } finally {
      this.lock?.release();
    }
  }
}
