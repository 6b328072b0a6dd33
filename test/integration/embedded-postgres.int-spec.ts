import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Pool } from 'pg';
import { type DataSource } from 'typeorm';
import { migrations } from '../../migrations';
import { entities } from '../../src/entities';
import { loadConfig } from '../../src/kernel/config/config';
import { openDatabase } from '../../src/kernel/database/database.module';
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
