import { execFile } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { Duplex } from 'node:stream';
import { promisify } from 'node:util';
import { MessageChannel, Worker } from 'node:worker_threads';
import { Logger } from '@nestjs/common';
import { DataDirLock, DataDirLockedError } from './data-dir-lock';
import type { EmbeddedWorkerData, FromEmbeddedWorker, ToEmbeddedWorker } from './embedded-postgres.worker';
import { PortStream, socketLike } from './port-stream';

export { DataDirLockedError };
export { CLIENT_IDLE_IN_SESSION_MS, EMBEDDED_SETTINGS, WASM_COMPILATION_FLAGS } from './embedded-settings';

/**
 * The local socket through which commands reach a running server's embedded database: a Unix socket named as
 * PostgreSQL names its own (`.s.PGSQL.5432`, so `pg` finds it from a directory `host`), in a directory of its own
 * inside DATA_DIR that only the owner may enter (0700), the socket itself 0600.
 */
export const CLIENT_SOCKET_NAME = '.s.PGSQL.5432';
export const clientSocketDir = (dir: string): string => `${dir}.socket`;
/** Commands are short and one at a time; a few connections are plenty and the cap keeps a runaway client bounded. */
const MAX_CLIENT_CONNECTIONS = 8;
/** Unix socket paths are limited to 108 bytes, the terminating NUL included. */
const MAX_SOCKET_PATH_BYTES = 107;

/** Request codes of the first packet a client sends (PostgreSQL protocol, "Start-up"). */
const PROTOCOL_3_0 = 196608;
const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;
const MAX_STARTUP_BYTES = 10_000;

/** A FATAL ErrorResponse, as a server sends before closing a connection it refuses. */
function fatal(message: string): Buffer {
  const fields = Buffer.from(`SFATAL\0VFATAL\0C28000\0M${message}\0\0`, 'utf8');
  const head = Buffer.alloc(5);
  head.write('E', 0, 'latin1');
  head.writeInt32BE(4 + fields.length, 1);
  return Buffer.concat([head, fields]);
}

/** The parameters of a protocol 3.0 startup packet (after its length and version), or null when malformed. */
function startupParameters(packet: Buffer): Map<string, string> | null {
  const parts = packet.subarray(8).toString('utf8').split('\0');
  // name\0value\0 … name\0value\0\0: an even number of strings, then two empty ones.
  if (parts.length < 2 || parts.at(-1) !== '' || parts.at(-2) !== '') return null;
  const strings = parts.slice(0, -2);
  if (strings.length % 2 !== 0) return null;
  const params = new Map<string, string>();
  for (let i = 0; i < strings.length; i += 2) params.set(strings[i], strings[i + 1]);
  return params;
}

function startupPacket(params: Record<string, string>): Buffer {
  const body = Buffer.from(
    `${Object.entries(params)
      .map(([k, v]) => `${k}\0${v}\0`)
      .join('')}\0`,
    'utf8',
  );
  const head = Buffer.alloc(8);
  head.writeInt32BE(8 + body.length, 0);
  head.writeInt32BE(PROTOCOL_3_0, 4);
  return Buffer.concat([head, body]);
}

/**
 * Reads a local client's first packets and decides its startup, before anything reaches PGlite: PGlite has one
 * session, and a startup it answers with FATAL (an unknown role or database, a missing user name) leaves that
 * session unusable for everyone, the server included. So the gate answers SSL and GSSAPI requests with "no",
 * refuses cancel requests, malformed packets, other protocol versions and any role or database but `postgres`
 * itself, and hands PGlite a startup of its own making (role and database `postgres`, UTF8, the client's
 * application name). Returns that startup, or refuses the client.
 */
class StartupGate {
  private pending = Buffer.alloc(0);

  constructor(private readonly socket: Socket) {}

  /** Feeds bytes; resolves with [startup, rest] once the client's startup packet is complete and acceptable. */
  feed(chunk: Buffer): [Buffer, Buffer] | 'wait' | 'refused' {
    this.pending = Buffer.concat([this.pending, chunk]);
    for (;;) {
      if (this.pending.length < 8) return 'wait';
      const length = this.pending.readInt32BE(0);
      if (length < 8 || length > MAX_STARTUP_BYTES) return this.refuse('malformed startup packet');
      if (this.pending.length < length) return 'wait';
      const packet = this.pending.subarray(0, length);
      this.pending = this.pending.subarray(length);
      const code = packet.readInt32BE(4);
      if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
        this.socket.write('N');
        continue;
      }
      if (code === CANCEL_REQUEST) return this.refuse('cancel requests are not supported');
      if (code !== PROTOCOL_3_0) return this.refuse('unsupported frontend protocol');
      const params = startupParameters(packet);
      if (!params) return this.refuse('malformed startup packet');
      const user = params.get('user');
      const database = params.get('database') ?? user;
      if (user !== 'postgres' || database !== 'postgres') {
        return this.refuse('the embedded database has one role and one database, both named "postgres"');
      }
      const application = (params.get('application_name') ?? '').replace(/[^\x20-\x7e]/g, '').slice(0, 63);
      const startup = startupPacket({
        user: 'postgres',
        database: 'postgres',
        client_encoding: 'UTF8',
        ...(application ? { application_name: application } : {}),
      });
      return [startup, this.pending];
    }
  }

  private refuse(message: string): 'refused' {
    this.socket.end(fatal(message));
    return 'refused';
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

/** The thread PGlite runs in: the built worker in dist, or its TypeScript through a loader from the sources (tests). */
function workerFile(): string {
  const built = join(__dirname, 'embedded-postgres.worker.js');
  return existsSync(built) ? built : join(__dirname, 'embedded-postgres.worker-loader.cjs');
}

/**
 * Thrown by every query once the database thread has died. The message is fixed (it reaches the public /health):
 * why it died (which can name files in DATA_DIR) is in `reason` and in the log.
 */
export class EmbeddedDatabaseStoppedError extends Error {
  constructor(readonly reason: string) {
    super('the embedded database stopped: restart Broadsheet (the log says why)');
    this.name = 'EmbeddedDatabaseStoppedError';
  }
}

/** How long closing waits for the thread to drain its queue and close PGlite before it ends the thread. */
const CLOSE_DEADLINE_MS = 60_000;

/**
 * Embedded PostgreSQL: PGlite (PostgreSQL in WASM) in a worker thread of its own (`embedded-postgres.worker.ts`),
 * spoken to over the Postgres wire protocol, so that its WASM never runs on the app's event loop. Each `pg`
 * connection is a byte stream over a MessagePort to that thread (`pg`'s `stream` option), where a pglite-socket
 * protocol handler serves it. There is no TCP port. A running server (`broadsheet serve`) also accepts the CLI's
 * connections on a Unix socket inside DATA_DIR (`listenForClients`), in a directory only its owner can enter:
 * other local users cannot reach it whatever they try, and the signing key in `settings` stays ours. PGlite has one
 * session: the server's pool MUST hold exactly one connection (docs/architecture.md), the CLI's connections take
 * turns with it (`SerialQueue`, in the thread), and a lock file, held by this (the main) thread, keeps a second
 * process off the data directory. If the thread dies, the error is logged, every connection is closed and every
 * new one fails with `EmbeddedDatabaseStoppedError` (so /health reports the database failing, nothing hangs).
 */
export class EmbeddedPostgres {
  private readonly logger = new Logger('Database');
  private readonly streams = new Set<Duplex>();
  private clientServer?: Server;
  private readonly clientSockets = new Set<Socket>();
  private failure?: EmbeddedDatabaseStoppedError;
  private stopping?: Promise<void>;
  /** The thread has ended (however): nothing is left to ask to close. */
  private exited = false;

  private constructor(
    private readonly worker: Worker,
    private readonly dir?: string,
    private readonly lock?: DataDirLock,
  ) {
    worker.on('error', (error: unknown) => this.fail(error instanceof Error ? error.message : String(error)));
    worker.on('exit', (code) => {
      this.exited = true;
      if (!this.stopping) this.fail(`its thread exited with code ${code}`);
    });
    // Only a request waiting for its answer keeps the process alive (`PortStream`), as when PGlite ran in it.
    worker.unref();
  }

  /** `dir` undefined means in memory (tests). `stallMs`: how long a local client may hold the session idle. */
  static async start(dir?: string, options: { stallMs?: number } = {}): Promise<EmbeddedPostgres> {
    let lock: DataDirLock | undefined;
    if (dir) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      lock = DataDirLock.acquire(`${dir}.pid`, dir);
    }
    try {
      if (dir) await initialiseCluster(dir);
      const worker = new Worker(workerFile(), { workerData: { dir, stallMs: options.stallMs } satisfies EmbeddedWorkerData });
      try {
        await new Promise<void>((resolve, reject) => {
          const done = () => {
            worker.off('message', onMessage);
            worker.off('error', reject);
            worker.off('exit', onExit);
          };
          const onMessage = (message: FromEmbeddedWorker) => {
            done();
            if (message.type === 'ready') resolve();
            else reject(new Error(`could not open the embedded database${dir ? ` in ${dir}` : ''}: ${'message' in message ? message.message : message.type}`));
          };
          const onExit = (code: number) => {
            done();
            reject(new Error(`the embedded database's thread exited with code ${code} while starting`));
          };
          worker.on('message', onMessage);
          worker.once('error', (error) => {
            done();
            reject(error);
          });
          worker.once('exit', onExit);
        });
      } catch (error) {
        await worker.terminate();
        throw error;
      }
      return new EmbeddedPostgres(worker, dir, lock);
    } catch (error) {
      lock?.release();
      throw error;
    }
  }

  /**
   * The socket directory of the live server that holds `dir`, for a command to connect through (`pg`'s `host`),
   * or undefined when there is none to trust: no socket, or a directory that is not ours alone.
   */
  static runningServerSocket(dir: string): string | undefined {
    const socketDir = clientSocketDir(dir);
    try {
      const folder = lstatSync(socketDir);
      const socket = lstatSync(join(socketDir, CLIENT_SOCKET_NAME));
      const ours = (stat: { uid: number }) => process.getuid === undefined || stat.uid === process.getuid();
      if (!folder.isDirectory() || (folder.mode & 0o077) !== 0 || !ours(folder) || !socket.isSocket() || !ours(socket)) return undefined;
      return socketDir;
    } catch {
      return undefined;
    }
  }

  /** Connection options for `pg` (TypeORM's `extra`): every connection is a stream to the database thread. */
  get connectionOptions(): { stream: () => Duplex } {
    return { stream: () => this.connect() };
  }

  /** A placeholder URL for TypeORM: `pg` never resolves or dials it, the stream above is the connection. */
  readonly url = 'postgres://postgres@embedded.invalid/postgres';

  /**
   * The app's end of a new connection to the database thread. `external`: the connection is a local client's,
   * disconnected (its stream closed) when it holds the session idle too long.
   */
  connect(external = false): Duplex {
    const refused = this.failure ?? (this.stopping ? new EmbeddedDatabaseStoppedError('it was shut down') : undefined);
    if (refused) {
      const stream = socketLike(new Duplex({ read: () => undefined, write: (_chunk, _encoding, callback) => callback(refused) }));
      return Object.assign(stream, {
        connect: () => {
          process.nextTick(() => stream.destroy(refused));
          return stream;
        },
      });
    }
    const { port1, port2 } = new MessageChannel();
    const client = socketLike(new PortStream(port1, true));
    Object.assign(client, {
      connect: () => {
        process.nextTick(() => client.emit('connect'));
        return client;
      },
    });
    this.streams.add(client);
    client.on('close', () => this.streams.delete(client));
    this.worker.postMessage({ type: 'connect', port: port2, external } satisfies ToEmbeddedWorker, [port2]);
    return client;
  }

  /**
   * Accepts the CLI's connections on the Unix socket inside DATA_DIR (directory 0700, socket 0600) and resolves
   * with the socket's path. Only a file-backed database held under its data-folder lock has one; a stale socket
   * file left by a killed server is replaced (the lock says that server is gone).
   */
  async listenForClients(): Promise<string> {
    if (!this.dir || !this.lock) throw new Error('an in-memory embedded database accepts no local clients');
    if (this.clientServer) throw new Error('already accepting local clients');
    const socketDir = clientSocketDir(this.dir);
    const path = join(socketDir, CLIENT_SOCKET_NAME);
    if (Buffer.byteLength(path) > MAX_SOCKET_PATH_BYTES) {
      throw new Error(`the command socket ${path} is longer than a Unix socket path may be (${MAX_SOCKET_PATH_BYTES} bytes): use a shorter DATA_DIR`);
    }
    mkdirSync(socketDir, { mode: 0o700, recursive: true });
    const folder = lstatSync(socketDir);
    if (!folder.isDirectory() || (process.getuid !== undefined && folder.uid !== process.getuid())) {
      throw new Error(`${socketDir} is not a directory of this user's: remove it and start again`);
    }
    chmodSync(socketDir, 0o700);
    rmSync(path, { force: true });
    const server = createServer((socket) => this.acceptClient(socket));
    server.maxConnections = MAX_CLIENT_CONNECTIONS;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    });
    chmodSync(path, 0o600);
    this.clientServer = server;
    return path;
  }

  /**
   * A local client's connection: its startup checked and remade by the gate, then bridged to a connection to the
   * database thread like the server's own. Closing either side closes the other; the thread's side's close rolls
   * back what the client left open.
   */
  private acceptClient(socket: Socket): void {
    this.clientSockets.add(socket);
    const gate = new StartupGate(socket);
    let inner: Duplex | undefined;
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      this.clientSockets.delete(socket);
      inner?.end();
    });
    socket.on('data', (chunk: Buffer) => {
      if (inner) {
        inner.write(chunk);
        return;
      }
      const decided = gate.feed(chunk);
      if (decided === 'wait' || decided === 'refused') return;
      const [startup, rest] = decided;
      if (this.failure) return void socket.end(fatal(this.failure.message));
      inner = this.connect(true);
      inner.on('data', (data: Buffer) => {
        if (socket.writable) socket.write(data);
      });
      inner.on('error', () => socket.destroy());
      inner.on('close', () => socket.destroy());
      inner.write(startup);
      if (rest.length > 0) inner.write(rest);
    });
  }

  /** The database thread died: say so once, close every connection; new ones fail at once (see `connect`). */
  private fail(reason: string): void {
    if (this.failure || this.stopping) return;
    this.failure = new EmbeddedDatabaseStoppedError(reason);
    this.logger.error(`the embedded database stopped (${reason}): restart Broadsheet; every query fails until then`);
    for (const stream of this.streams) stream.destroy(this.failure);
    this.streams.clear();
  }

  /** Closes the CLI's socket, every connection and PGlite (in its thread, which flushes it to DATA_DIR), then releases the lock. */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    // The CLI's socket first (no new client), then every connection still open (the pool normally ended its
    // own already), then the database.
    const clientServer = this.clientServer;
    this.clientServer = undefined;
    const closed = clientServer ? new Promise<void>((resolve) => clientServer.close(() => resolve())) : Promise.resolve();
    for (const socket of this.clientSockets) socket.destroy();
    this.clientSockets.clear();
    await closed;
    for (const stream of this.streams) stream.destroy();
    this.streams.clear();
    try {
      if (!this.failure) await this.closeDatabase();
    } finally {
      if (this.dir && clientServer) rmSync(clientSocketDir(this.dir), { recursive: true, force: true });
      this.lock?.release();
    }
  }

  /** Asks the thread to drain its queue and close PGlite, waits for its answer, then ends the thread. */
  private async closeDatabase(): Promise<void> {
    const worker = this.worker;
    // A thread that died while the socket was closing (after `fail` stopped listening) cannot answer.
    if (this.exited) return;
    worker.ref();
    let deadline: NodeJS.Timeout | undefined;
    try {
      const answer = await new Promise<FromEmbeddedWorker>((resolve, reject) => {
        const onExit = (code: number) => reject(new Error(`the embedded database's thread exited with code ${code} while closing`));
        worker.once('exit', onExit);
        worker.once('error', reject);
        worker.once('message', (message: FromEmbeddedWorker) => {
          worker.off('exit', onExit);
          worker.off('error', reject);
          resolve(message);
        });
        // A thread stuck in a query never answers: shutdown must still end (the thread is ended below).
        deadline = setTimeout(() => reject(new Error(`the embedded database did not close within ${CLOSE_DEADLINE_MS / 1000} s`)), CLOSE_DEADLINE_MS);
        worker.postMessage({ type: 'stop' } satisfies ToEmbeddedWorker);
      });
      if (answer.type !== 'stopped') throw new Error(`could not close the embedded database: ${'message' in answer ? answer.message : answer.type}`);
    } finally {
      clearTimeout(deadline);
      await worker.terminate();
    }
  }
}
