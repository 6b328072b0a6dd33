import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import * as lockfile from 'proper-lockfile';

export class DataDirLockedError extends Error {
  constructor(dir: string) {
    super(
      `Another Broadsheet instance is already using the embedded database in ${dir}. ` +
        'Stop it first, point DATA_DIR at another folder, or set DATABASE_URL to share a PostgreSQL server.',
    );
    this.name = 'DataDirLockedError';
  }
}

/**
 * Embedded PostgreSQL: PGlite (PostgreSQL in WASM) served over the Postgres wire protocol on loopback, so
 * TypeORM talks to it through the ordinary `pg` driver exactly as to a server. PGlite has one session: the
 * client pool MUST hold exactly one connection (see STACK.md), and a lock file keeps a second process out.
 */
export class EmbeddedPostgres {
  private constructor(
    private readonly db: PGlite,
    private readonly server: PGLiteSocketServer,
    readonly url: string,
    private readonly release?: () => Promise<void>,
  ) {}

  /** `dir` undefined means in memory (tests). */
  static async start(dir?: string): Promise<EmbeddedPostgres> {
    let release: (() => Promise<void>) | undefined;
    if (dir) {
      mkdirSync(dir, { recursive: true });
      try {
        // The lock's mtime is refreshed while we live; a lock left by a killed process goes stale in 10 s.
        release = await lockfile.lock(dir, { lockfilePath: `${dir}.lock`, stale: 10_000, update: 2_000, retries: 0 });
      } catch (error) {
        if ((error as { code?: string }).code === 'ELOCKED') throw new DataDirLockedError(dir);
        throw error;
      }
    }
    try {
      const db = await PGlite.create(dir ? { dataDir: dir } : {});
      const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 1 });
      await server.start();
      const address = server.getServerConn(); // "127.0.0.1:PORT"
      return new EmbeddedPostgres(db, server, `postgres://postgres@${address}/postgres`, release);
    } catch (error) {
      await release?.();
      throw error;
    }
  }

  async stop(): Promise<void> {
    await this.server.stop();
    await this.db.close();
    await this.release?.();
  }
}
