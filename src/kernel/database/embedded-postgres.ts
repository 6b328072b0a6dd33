import { execFile } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { setFlagsFromString } from 'node:v8';
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

/**
 * V8 compiles pglite.wasm with its baseline compiler (Liftoff) and then recompiles the hot functions with TurboFan,
 * by default on as many background threads as it has. Each of those threads gets a glibc malloc arena, and the
 * compiler's large, short-lived zones are freed into them and kept: after the demo, 50 to 125 MB of the idle
 * server's RSS were such arenas, most of them free memory (bench/memory.mjs; with `MALLOC_MMAP_THRESHOLD_=32768`,
 * which returns such blocks to the system, they held 8 MB). Tiering up on one thread keeps the same optimised code
 * (query speed unchanged in a PGlite query loop) and one arena's worth of retained memory. Liftoff alone
 * (`--liftoff-only`) would save more but runs queries ~45% slower. The flag is read when a compilation starts, so
 * it is set before PGlite compiles its module; it concerns WebAssembly only.
 */
export const WASM_COMPILATION_FLAGS = '--wasm-num-compilation-tasks=1';

/**
 * The local socket through which commands reach a running server's embedded database: a Unix socket named as
 * PostgreSQL names its own (`.s.PGSQL.5432`, so `pg` finds it from a directory `host`), in a directory of its own
 * inside DATA_DIR that only the owner may enter (0700), the socket itself 0600.
 */
export const CLIENT_SOCKET_NAME = '.s.PGSQL.5432';
export const clientSocketDir = (dir: string): string => `${dir}.socket`;
/** A local client that holds the session (a transaction, or an extended-protocol exchange before its Sync) and sends nothing for this long is disconnected, which rolls it back. */
export const CLIENT_IDLE_IN_SESSION_MS = 10_000;
/** Commands are short and one at a time; a few connections are plenty and the cap keeps a runaway client bounded. */
const MAX_CLIENT_CONNECTIONS = 8;
/** Unix socket paths are limited to 108 bytes, the terminating NUL included. */
const MAX_SOCKET_PATH_BYTES = 107;

/** The Sync message: ends an extended-protocol exchange (and the skipping of messages after an error in one). */
const SYNC = new Uint8Array([0x53, 0, 0, 0, 4]);

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
class SerialQueue {
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
 * Embedded PostgreSQL: PGlite (PostgreSQL in WASM) spoken to over the Postgres wire protocol. The server's own
 * connections are in-process: each `pg` connection gets an in-memory duplex stream (pg's `stream` option) whose
 * other end is a pglite-socket protocol handler. There is no TCP port. A running server (`broadsheet serve`)
 * also accepts the CLI's connections on a Unix socket inside DATA_DIR (`listenForClients`), in a directory only
 * its owner can enter: other local users cannot reach it whatever they try, and the signing key in `settings`
 * stays ours. PGlite has one session: the server's pool MUST hold exactly one connection (docs/architecture.md), the CLI's
 * connections take turns with it (`SerialQueue`), and a lock file keeps a second process off the data directory.
 */
export class EmbeddedPostgres {
  private readonly streams = new Set<Duplex>();
  private clientServer?: Server;
  private readonly clientSockets = new Set<Socket>();

  private constructor(
    private readonly db: PGlite,
    private readonly queue: SerialQueue,
    private readonly dir?: string,
    private readonly lock?: DataDirLock,
  ) {}

  /** `dir` undefined means in memory (tests). `stallMs`: how long a local client may hold the session idle. */
  static async start(dir?: string, options: { stallMs?: number } = {}): Promise<EmbeddedPostgres> {
    let lock: DataDirLock | undefined;
    if (dir) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      lock = DataDirLock.acquire(`${dir}.pid`, dir);
    }
    try {
      if (dir) await initialiseCluster(dir);
      setFlagsFromString(WASM_COMPILATION_FLAGS);
      const startParams = [...PGlite.defaultStartParams, ...Object.entries(EMBEDDED_SETTINGS).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
      const db = await PGlite.create({ ...(dir ? { dataDir: dir } : {}), startParams });
      return new EmbeddedPostgres(db, new SerialQueue(db, options.stallMs), dir, lock);
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

  /** Connection options for `pg` (TypeORM's `extra`): every connection is an in-process stream. */
  get connectionOptions(): { stream: () => Duplex } {
    return { stream: () => this.connect() };
  }

  /** A placeholder URL for TypeORM: `pg` never resolves or dials it, the stream above is the connection. */
  readonly url = 'postgres://postgres@embedded.invalid/postgres';

  /**
   * One client end of a new in-process connection; the other end is served by a pglite-socket handler. `drop`:
   * the connection is a local client's, disconnected by calling it when it holds the session idle too long.
   */
  connect(drop?: () => void): Duplex {
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
    const handler = new PGLiteSocketHandler({ queryQueue: this.queue as never, closeOnDetach: true });
    if (drop) {
      this.queue.addExternal(handler.handlerId, drop);
      server.on('close', () => this.queue.removeExternal(handler.handlerId));
    }
    void handler.attach(server as never);
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
   * A local client's connection: its startup checked and remade by the gate, then bridged to an in-process
   * connection like the server's own. Closing either side closes the other; the in-process side's close rolls
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
      inner = this.connect(() => socket.destroy());
      inner.on('data', (data: Buffer) => {
        if (socket.writable) socket.write(data);
      });
      inner.on('close', () => socket.destroy());
      inner.write(startup);
      if (rest.length > 0) inner.write(rest);
    });
  }

  async stop(): Promise<void> {
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
      await this.queue.drain();
      if (!this.db.closed) await this.db.close();
    } finally {
      if (this.dir && clientServer) rmSync(clientSocketDir(this.dir), { recursive: true, force: true });
      this.lock?.release();
    }
  }
}
