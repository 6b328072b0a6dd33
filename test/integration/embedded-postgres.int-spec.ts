import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Client, type Pool } from 'pg';
import { DataSource } from 'typeorm';
import { migrations } from '../../migrations';
import { entities } from '../../src/entities';
import { loadConfig } from '../../src/kernel/config/config';
import { DatabaseLifecycle, openDatabase } from '../../src/kernel/database/database.module';
import { processStartTime } from '../../src/kernel/database/data-dir-lock';
import { DataDirLockedError, EmbeddedPostgres } from '../../src/kernel/database/embedded-postgres';
import { listeningSockets } from '../support/sockets';
import { startTestApp } from '../support/test-app';

/** The embedded database (PGlite), whatever DATABASE_URL the suite runs with. */
async function openEmbedded(dataDir: string): Promise<{ dataSource: DataSource; embedded: EmbeddedPostgres; close: () => Promise<void> }> {
  const { dataSource, embedded } = await openDatabase(loadConfig({ DATA_DIR: dataDir }), { entities, migrations });
  return {
    dataSource,
    embedded: embedded!,
    close: async () => {
      if (dataSource.isInitialized) await dataSource.destroy();
      await embedded?.stop();
    },
  };
}

const poolOf = (dataSource: DataSource) => (dataSource.driver as unknown as { master: Pool }).master;

describe('embedded PostgreSQL: reachable only from this process', () => {
  it('opens no socket for the database: the server process listens on PORT and nothing else', async () => {
    const before = listeningSockets();
    // DATABASE_URL '' means "not set": the embedded database even when the suite runs against a server.
    const app = await startTestApp({ DATABASE_URL: '' });
    try {
      expect(app.config.database.url).toBeUndefined();
      const res = await fetch(`${app.url}/health`);
      expect(res.status).toBe(200);
      const after = listeningSockets();
      const known = (list: Array<{ inode: string }>) => new Set(list.map((s) => s.inode));
      const newTcp = after.tcp.filter((s) => !known(before.tcp).has(s.inode)).map((s) => s.port);
      const newUnix = after.unix.filter((s) => !known(before.unix).has(s.inode)).map((s) => s.path);
      const port = Number(new URL(app.url).port);
      // Only the HTTP port: no TCP port and no Unix socket (in DATA_DIR or anywhere) that another local
      // process or user could connect to and read the signing key from `settings`.
      expect(newTcp).toEqual([port]);
      expect(newUnix).toEqual([]);
    } finally {
      await app.close();
    }
  }, 180_000);
});

describe('embedded PostgreSQL: its one connection', () => {
  let dir: string;
  let db: Awaited<ReturnType<typeof openEmbedded>>;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'broadsheet-embedded-'));
    db = await openEmbedded(join(dir, 'pglite'));
  }, 180_000);
  afterAll(async () => {
    await db?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps its one connection open however long it idles', async () => {
    const pool = poolOf(db.dataSource);
    const client = await pool.connect();
    // The pool's idle timer is started on release: fake time lets a day pass without waiting for it.
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask', 'Date', 'performance', 'hrtime'] });
    try {
      client.release();
      jest.advanceTimersByTime(24 * 60 * 60 * 1000);
      expect(pool.totalCount).toBe(1);
      expect(pool.idleCount).toBe(1);
    } finally {
      jest.useRealTimers();
    }
    await expect(db.dataSource.query(`SELECT 1 AS ok`)).resolves.toEqual([{ ok: 1 }]);
  });

  it('opens a new connection after one is closed, and rolls back what the closed one left open', async () => {
    const pool = poolOf(db.dataSource);
    const client = await pool.connect();
    await client.query('BEGIN');
    await client.query(`INSERT INTO settings (key, value) VALUES ('dropped-connection', 'x')`);
    const removed = once(pool, 'remove');
    client.release(new Error('drop this connection')); // the pool destroys it mid-transaction
    await removed;
    const rows = await db.dataSource.query(`SELECT count(*)::int AS n FROM settings WHERE key = 'dropped-connection'`);
    expect(rows).toEqual([{ n: 0 }]);
    // The new connection is not stuck inside the old transaction: its own writes commit.
    await db.dataSource.query(`INSERT INTO settings (key, value) VALUES ('after-drop', 'y')`);
    await expect(db.dataSource.query(`SELECT value FROM settings WHERE key = 'after-drop'`)).resolves.toEqual([{ value: 'y' }]);
    expect(pool.totalCount).toBe(1);
  });
});

describe('embedded PostgreSQL: its own thread', () => {
  it('runs its queries off the event loop: timers fire while PGlite is busy', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'broadsheet-thread-'));
    const embedded = await EmbeddedPostgres.start(join(dir, 'pglite'));
    const client = new Client({ stream: () => embedded.connect(), user: 'postgres', database: 'postgres' });
    try {
      await client.connect();
      // pg_sleep runs synchronously inside PGlite's WASM: on the event loop it blocked every timer until it returned.
      let answered = false;
      const query = client.query('SELECT pg_sleep(2)').then(() => (answered = true));
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(answered).toBe(false);
      await query;
      expect(answered).toBe(true);
    } finally {
      await client.end();
      await embedded.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);

  it('a dead database thread is reported: /health says the database is failing, queries fail at once, shutdown completes', async () => {
    const app = await startTestApp({ DATABASE_URL: '' });
    try {
      await expect(fetch(`${app.url}/health`).then((r) => r.status)).resolves.toBe(200);
      const embedded = (app.get(DatabaseLifecycle) as unknown as { embedded: EmbeddedPostgres }).embedded;
      await (embedded as unknown as { worker: import('node:worker_threads').Worker }).worker.terminate();
      const health = await fetch(`${app.url}/health`);
      expect(health.status).toBe(503);
      const body = (await health.json()) as { checks: { database: string } };
      // The public page says what failed, not why (the why can name files in DATA_DIR; it is in the log).
      expect(body.checks.database).toBe('not answering: the embedded database stopped: restart Broadsheet (the log says why)');
      await expect(app.get(DataSource).query('SELECT 1')).rejects.toThrow(/the embedded database stopped/);
    } finally {
      await app.close();
    }
  }, 180_000);
});

describe('embedded PostgreSQL: the data-folder lock', () => {
  // One cluster for these tests (initdb is the slow part); each test leaves it unlocked and its lock file gone.
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'broadsheet-lock-'));
    await (await EmbeddedPostgres.start(join(dir, 'pglite'))).stop();
  }, 180_000);
  afterEach(() => rmSync(join(dir, 'pglite.pid'), { force: true }));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('holds while the holder is blocked far longer than any stale period (the clock is not consulted)', async () => {
    const first = await EmbeddedPostgres.start(join(dir, 'pglite'));
    try {
      // As a second instance finds it when the holder's event loop has been blocked for an hour (PGlite's
      // synchronous boot on a loaded machine): the lock file untouched for that long.
      const hourAgo = new Date(Date.now() - 60 * 60 * 1000);
      for (const name of readdirSync(dir)) if (name.startsWith('pglite.')) utimesSync(join(dir, name), hourAgo, hourAgo);
      await expect(EmbeddedPostgres.start(join(dir, 'pglite'))).rejects.toThrow(DataDirLockedError);
    } finally {
      await first.stop();
    }
  }, 180_000);

  it('takes over at once a lock whose process is gone, or whose PID now belongs to another process', async () => {
    const lockFile = join(dir, 'pglite.pid');
    const first = await EmbeddedPostgres.start(join(dir, 'pglite'));
    const owner = JSON.parse(readFileSync(lockFile, 'utf8'));
    // Simulate a holder that was SIGKILLed: a child process that ran and is gone.
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    await once(child, 'spawn');
    const started = processStartTime(child.pid!);
    child.kill('SIGKILL');
    await once(child, 'exit');
    await first.stop();
    writeFileSync(lockFile, JSON.stringify({ ...owner, pid: child.pid, started }));
    const second = await EmbeddedPostgres.start(join(dir, 'pglite'));
    await second.stop();
    // A reused PID: a live process (our parent) with another start time than the one recorded.
    writeFileSync(lockFile, JSON.stringify({ ...owner, pid: process.ppid, started: '1' }));
    const third = await EmbeddedPostgres.start(join(dir, 'pglite'));
    await third.stop();
  }, 180_000);

  it('refuses a lock held on another host (a shared data folder) with the holder named', async () => {
    const lockFile = join(dir, 'pglite.pid');
    writeFileSync(lockFile, JSON.stringify({ pid: 4242, host: 'elsewhere.example', started: null, boot: null, token: 'x' }));
    await expect(EmbeddedPostgres.start(join(dir, 'pglite'))).rejects.toThrow(/process 4242 on elsewhere\.example/);
  });
});

describe('embedded PostgreSQL: local clients beside the server’s own connection', () => {
  let dir: string;
  let embedded: EmbeddedPostgres;
  let socketDir: string;
  // Long enough that a pause of a loaded machine between a client's statements is not mistaken for a stall.
  const stallMs = 2_000;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'broadsheet-clients-'));
    embedded = await EmbeddedPostgres.start(join(dir, 'pglite'), { stallMs });
    socketDir = dirname(await embedded.listenForClients());
  }, 180_000);
  afterEach(async () => {
    await embedded?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const local = () => new Client({ host: socketDir, port: 5432, user: 'postgres', database: 'postgres' });
  const inProcess = () => new Client({ stream: () => embedded.connect(), user: 'postgres', database: 'postgres' });

  it('keeps each connection’s extended-protocol exchange whole when both query at once', async () => {
    const [a, b] = [inProcess(), local()];
    await Promise.all([a.connect(), b.connect()]);
    try {
      // Parse/Bind/Execute/Sync of one connection must not be interleaved with the other's (pglite#1046).
      // Different statements on each side: a Bind or Execute that lands on the other's statement or portal
      // answers with the other's value or columns.
      const ask = (client: Client, tag: string, i: number) =>
        client
          .query<{ v: string }>(tag === 'a' ? 'SELECT $1::text AS v' : 'SELECT $1::text AS v, $2::int AS w', tag === 'a' ? [`a${i}`] : [`b${i}`, i])
          .then((r) => r.rows[0].v);
      const answers = await Promise.all(Array.from({ length: 60 }, (_, i) => [ask(a, 'a', i), ask(b, 'b', i)]).flat());
      expect(answers).toEqual(Array.from({ length: 60 }, (_, i) => [`a${i}`, `b${i}`]).flat());
    } finally {
      await Promise.all([a.end(), b.end()]);
    }
  });

  it('disconnects a local client that holds a transaction idle, rolling it back, so the server goes on', async () => {
    const server = inProcess();
    const stalled = local();
    await Promise.all([server.connect(), stalled.connect()]);
    const dropped = once(stalled, 'error');
    try {
      await stalled.query('CREATE TABLE IF NOT EXISTS t (v text)');
      await stalled.query('BEGIN');
      await stalled.query(`INSERT INTO t VALUES ('left open')`);
      // The server's query waits behind the open transaction until the client is dropped for idling.
      const rows = await server.query<{ n: number }>('SELECT count(*)::int AS n FROM t');
      expect(rows.rows).toEqual([{ n: 0 }]);
      await dropped;
      await expect(stalled.query('SELECT 1')).rejects.toThrow();
    } finally {
      await server.end();
      await stalled.end().catch(() => undefined);
    }
  });

  it('refuses a startup that PGlite would answer with FATAL, and its session stays usable', async () => {
    // A startup without a user name: PGlite answers FATAL and its one session is then stuck for everyone.
    for (const user of ['', 'mallory']) {
      const stranger = new Client({ host: socketDir, port: 5432, user, database: 'postgres' });
      await expect(stranger.connect()).rejects.toThrow(/one role and one database/);
      await stranger.end().catch(() => undefined);
    }
    const server = inProcess();
    await server.connect();
    try {
      await expect(server.query('SELECT 1 AS ok').then((r) => r.rows)).resolves.toEqual([{ ok: 1 }]);
    } finally {
      await server.end();
    }
  });

  it('finds the running server’s socket only while it is there and owner-only', async () => {
    expect(EmbeddedPostgres.runningServerSocket(join(dir, 'pglite'))).toBe(socketDir);
    chmodSync(socketDir, 0o750);
    expect(EmbeddedPostgres.runningServerSocket(join(dir, 'pglite'))).toBeUndefined();
    chmodSync(socketDir, 0o700);
    await embedded.stop();
    expect(EmbeddedPostgres.runningServerSocket(join(dir, 'pglite'))).toBeUndefined();
  });
});

describe('embedded PostgreSQL: the data-folder lock while its holder is blocked', () => {
  it('refuses a second instance while the holder’s event loop is blocked, however old the lock file looks', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'broadsheet-blocked-'));
    const dataDir = join(dir, 'pglite');
    // The holder takes the lock as EmbeddedPostgres.start does, says so, then blocks its event loop for good
    // (as PGlite's synchronous WASM boot does on a loaded machine): it runs no timer and answers nothing.
    const holderScript = `
      const { DataDirLock } = require(${JSON.stringify(join(__dirname, '..', '..', 'src', 'kernel', 'database', 'data-dir-lock.ts'))});
      require('node:fs').mkdirSync(process.argv[1], { recursive: true });
      DataDirLock.acquire(process.argv[1] + '.pid', process.argv[1]);
      process.stdout.write('locked\\n', () => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0));`;
    const holder = spawn(process.execPath, ['-r', join(__dirname, '..', '..', 'bench', 'ts-hook.cjs'), '-e', holderScript, dataDir], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = once(holder, 'exit');
    try {
      const [line] = await once(holder.stdout!, 'data');
      expect(String(line)).toBe('locked\n');
      // Time passes for the lock file (a day), none for the blocked holder: the lock is judged by its process.
      const dayAgo = new Date(Date.now() - 24 * 60 * 60 * 1000);
      utimesSync(`${dataDir}.pid`, dayAgo, dayAgo);
      await expect(EmbeddedPostgres.start(dataDir)).rejects.toThrow(new RegExp(`process ${holder.pid} `));
      await expect(EmbeddedPostgres.start(dataDir)).rejects.toThrow(DataDirLockedError);
    } finally {
      holder.kill('SIGKILL');
      await exited;
    }
    // Its process gone, the lock is taken over at once.
    const next = await EmbeddedPostgres.start(dataDir);
    await next.stop();
    rmSync(dir, { recursive: true, force: true });
  }, 180_000);
});
