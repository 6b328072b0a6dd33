import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { DemoSeeder } from '../../src/admin/demo-seeder';
import { PipelineService } from '../../src/admin/pipeline.service';
import { CommandContext } from '../../src/cli/context';
import { runCli } from '../../src/cli/program';
import { createServerDatabase } from './test-database';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as the one JSON document `--json` promises. */
  json<T = unknown>(): T;
}

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

/**
 * A configuration for the CLI on a database of its own (a temp DATA_DIR for embedded PGlite, or a fresh database
 * on the DATABASE_URL server), and a way to run `broadsheet …` in-process against it.
 */
export async function cliWorkspace(env: Record<string, string> = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'broadsheet-cli-'));
  const server = await createServerDatabase();
  const config: Record<string, string> = {
    DATA_DIR: dataDir,
    SOURCES_IMPORT_DIR: join(__dirname, '..', '..', 'demo'),
    ...(server ? { DATABASE_URL: server.url } : {}),
    ...env,
  };
  return {
    env: config,
    /** A command context on this workspace, for setting up state through the services. */
    context: () => new CommandContext({ env: config }),
    async run(...argv: string[]): Promise<CliRun> {
      const stdout = new Capture();
      const stderr = new Capture();
      const code = await runCli(argv, { env: config, streams: { stdout, stderr } });
      return { code, stdout: stdout.text, stderr: stderr.text, json: <T>() => JSON.parse(stdout.text) as T };
    },
    async close(): Promise<void> {
      await server?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The demo week loaded into a workspace and its issue drafted (not approved), as the weekly job leaves it. */
export async function seedDraftedIssue(workspace: { context: () => CommandContext }): Promise<void> {
  const ctx = workspace.context();
  try {
    await (await ctx.get(DemoSeeder)).seed();
    await (await ctx.get(PipelineService)).runOnce({ approve: false });
  } finally {
    await ctx.close();
  }
}
