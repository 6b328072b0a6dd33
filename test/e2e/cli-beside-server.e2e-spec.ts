import { statSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { cliWorkspace, seedDraftedIssue } from '../support/run-cli';
import { startServerProcess, type ServerProcess } from '../support/server-process';
import { listeningSockets } from '../support/sockets';

// The embedded database whatever DATABASE_URL the suite runs with: this is about PGlite's one session.
const EMBEDDED = { DATABASE_URL: '', DEMO: 'false', SCHEDULER_ENABLED: 'false' };

jest.setTimeout(240_000);

/** Asks /health one request after another until stopped; resolves with every status it got. */
function watchHealth(url: string): { stop: () => Promise<number[]> } {
  const statuses: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) statuses.push((await fetch(`${url}/health`)).status);
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return statuses;
    },
  };
}

describe('the broadsheet command beside a server running on the embedded database', () => {
  let cli: Awaited<ReturnType<typeof cliWorkspace>>;
  let server: ServerProcess;
  let socketDir: string;

  beforeEach(async () => {
    cli = await cliWorkspace(EMBEDDED);
    // The demo week drafted into an issue, before the server holds the database.
    await seedDraftedIssue(cli);
    server = await startServerProcess(cli.env);
    socketDir = join(cli.env.DATA_DIR, 'pglite.socket');
  });

  afterEach(async () => {
    await server?.stop();
    await cli?.close();
  });

  it('lists and approves issues through the server, whose /health stays green', async () => {
    const health = watchHealth(server.url);
    const listed = await cli.run('issues', 'list', '--json');
    expect(listed.stderr).toBe('');
    expect(listed.code).toBe(0);
    expect(listed.json()).toEqual([expect.objectContaining({ number: 1, status: 'draft' })]);

    const approved = await cli.run('issues', 'approve', '1', '--json');
    expect(approved.code).toBe(0);
    expect(approved.json()).toMatchObject({ number: 1, status: 'approved' });
    const statuses = await health.stop();
    expect(statuses.length).toBeGreaterThan(0);
    expect(new Set(statuses)).toEqual(new Set([200]));

    // The server sees the approval at once: one database, one session.
    const issue = await cli.run('issues', 'status', '1', '--json');
    expect(issue.json()).toMatchObject({ issue: 1, status: 'approved' });
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
  });

  it('opens no TCP port but PORT, and its command socket is the owner’s alone', () => {
    const sockets = listeningSockets(server.pid);
    expect(sockets.tcp.map((s) => s.port)).toEqual([server.port]);
    expect(sockets.unix.map((s) => s.path)).toEqual([join(socketDir, '.s.PGSQL.5432')]);
    expect(statSync(socketDir).mode & 0o777).toBe(0o700);
    expect(statSync(join(socketDir, '.s.PGSQL.5432')).mode & 0o777).toBe(0o600);
  });

  it('refuses a client that asks for another role or database, and stays usable (PGlite’s session survives)', async () => {
    const stranger = new Client({ host: socketDir, port: 5432, user: 'mallory', database: 'postgres' });
    await expect(stranger.connect()).rejects.toThrow(/one role and one database/);
    await stranger.end().catch(() => undefined);
    const wrongDb = new Client({ host: socketDir, port: 5432, user: 'postgres', database: 'other' });
    await expect(wrongDb.connect()).rejects.toThrow(/one role and one database/);
    await wrongDb.end().catch(() => undefined);
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    const listed = await cli.run('issues', 'list', '--json');
    expect(listed.code).toBe(0);
  });

  it('removes its socket when it stops; the command then opens the database itself', async () => {
    await server.stop();
    expect(existsSync(socketDir)).toBe(false);
    const listed = await cli.run('issues', 'list', '--json');
    expect(listed.code).toBe(0);
    expect(listed.json()).toEqual([expect.objectContaining({ number: 1 })]);
  });
});
