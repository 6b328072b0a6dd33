import { type Command } from 'commander';
import { DataSource } from 'typeorm';
import { serve } from '../../bootstrap';
import { type CommandContext, describeFailure } from '../context';

export function registerServerCommands(program: Command, ctx: CommandContext): void {
  program
    .command('serve')
    .description('run the server: migrate (under a lock), load the demo on an empty database, serve the site, run the schedules')
    .action(async () => {
      try {
        // The server's own configuration: schedules as configured (the other commands turn them off).
        await serve(ctx.serverConfig());
      } catch (error) {
        const { message, code } = describeFailure(error);
        ctx.output.failure(`could not start: ${message}`, code);
        ctx.exitCode = 1;
        // A half-booted application may hold timers or the database lock: nothing is left worth waiting for.
        process.exit(1);
      }
    });

  program
    .command('migrate')
    .description('apply pending migrations to the configured database (embedded, or DATABASE_URL)')
    .action(
      ctx.action(async () => {
        const config = ctx.config();
        // Booting applies pending migrations (under a lock); then report where the chain stands.
        const dataSource = await ctx.get(DataSource);
        const rows: Array<{ name: string }> = await dataSource.query('SELECT name FROM migrations ORDER BY id');
        const target = config.database.url ? 'PostgreSQL server' : `embedded database in ${config.database.embeddedDir}`;
        ctx.output.result(
          { applied: rows.length, latest: rows.at(-1)?.name ?? null, database: config.database.url ? 'server' : 'embedded' },
          (r) => `database is up to date: ${r.applied} migrations applied (${target})`,
        );
      }),
    );
}
