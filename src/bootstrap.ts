import { type INestApplication, Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { type NestExpressApplication } from '@nestjs/platform-express';
import { AdminModule } from './admin/admin.module';
import { DemoOwner } from './admin/demo-owner';
import { DemoSeeder } from './admin/demo-seeder';
import { setupApiDocs } from './admin/openapi';
import { PipelineService } from './admin/pipeline.service';
import { AppModule } from './app.module';
import { AppLogger } from './kernel/logging/app-logger';
import { BootLock } from './kernel/database/boot-lock';
import { DatabaseLifecycle } from './kernel/database/database.module';
import { type AppConfig } from './kernel/config/config';
import { applyHttpDefaults } from './kernel/web/security-headers';

/** Builds the Nest application (not yet listening). Used by main.ts and the e2e tests. */
export async function createApp(
  config: AppConfig,
  options: { logger?: false | Array<'log' | 'error' | 'warn' | 'debug'> | AppLogger } = {},
): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
    logger: options.logger ?? new AppLogger(config.log.format),
    bodyParser: true,
    // Webhook signatures are checked over the exact bytes received (req.rawBody).
    rawBody: true,
    // A failed boot rejects (serve says why in one line) instead of Nest ending the process itself.
    abortOnError: false,
  });
  applyHttpDefaults(app);
  app.set('trust proxy', 'loopback');
  app.enableShutdownHooks();
  setupApiDocs(app, config);
  return app;
}

/** On an empty database with DEMO on: load the bundled demo week and run the whole pipeline once. */
export async function runDemoIfEmpty(app: INestApplication, config: AppConfig): Promise<boolean> {
  if (!config.demo) return false;
  // Instances booting together on one empty database: one seeds and runs the pipeline, the others wait and
  // then find the database no longer empty.
  return app.get(BootLock).run('demo', () => seedDemo(app, config));
}

async function seedDemo(app: INestApplication, config: AppConfig): Promise<boolean> {
  const seeder = app.select(AdminModule).get(DemoSeeder);
  if (!(await seeder.isEmpty())) return false;
  const logger = new Logger('Demo');
  logger.log('empty database: loading the bundled demo week and running the pipeline once');
  try {
    await seeder.seed();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    logger.warn(`DEMO is on but there is no demo manifest in ${config.sources.importDir}: starting with an empty site`);
    return false;
  }
  const result = await app.select(AdminModule).get(PipelineService).runOnce({ approve: true });
  logger.log(result.issueNumber ? `demo issue #${result.issueNumber} assembled, approved and delivered` : 'the demo produced no issue');
  return true;
}

/** How editors sign in, for the startup banner; on the demo this first creates the owner account. */
export async function editorSignInLines(app: INestApplication): Promise<string[]> {
  const owner = app.select(AdminModule).get(DemoOwner);
  // Instances starting together on one empty database: one creates the account, the others then find it.
  await app.get(BootLock).run('demoOwner', () => owner.ensure());
  return owner.signInLines();
}

/**
 * `broadsheet serve` (what `npm start` runs): boots, migrates, loads the demo on an empty database, listens, and
 * prints where everything is. Resolves once the server is listening; the process lives until a signal.
 */
export async function serve(config: AppConfig): Promise<NestExpressApplication> {
  const app = await createApp(config);
  await app.init();
  await runDemoIfEmpty(app, config);
  await app.listen(config.server.port, config.server.host);
  // Once booted (migrated, seeded): commands run next to this server reach its embedded database through a
  // Unix socket only this user can open. On a server database they connect to it themselves.
  await app.get(DatabaseLifecycle).listenForClients();
  console.log(startupBanner(config, await editorSignInLines(app)).join('\n'));
  return app;
}

export function startupBanner(config: AppConfig, signIn: string[] = []): string[] {
  const base = config.server.publicUrl;
  return [
    '',
    `Broadsheet is running on ${base}`,
    `  stories          ${base}/`,
    `  weekly issues    ${base}/issues`,
    `  feeds            ${base}/feed.xml  ${base}/atom.xml  ${base}/feed.json`,
    `  health           ${base}/health`,
    ...signIn,
    `  database         ${config.database.url ? 'PostgreSQL server (DATABASE_URL)' : `embedded PostgreSQL in ${config.database.embeddedDir}`}`,
    config.email.resend ? '  email            Resend' : `  email outbox     ${config.email.outboxDir} (one .eml file per message)`,
    `  narratives       ${config.anthropic.apiKey ? `Claude (${config.anthropic.model})` : 'offline drafts (set ANTHROPIC_API_KEY to write with Claude)'}`,
    `  command line     npx broadsheet --help`,
    '',
  ];
}
