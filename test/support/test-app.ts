import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type NestExpressApplication } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import { setupApiDocs } from '../../src/admin/openapi';
import { AppModule } from '../../src/app.module';
import { Clock } from '../../src/kernel/clock/clock';
import { loadConfig, type AppConfig } from '../../src/kernel/config/config';
import { applyHttpDefaults } from '../../src/kernel/web/security-headers';
import { createServerDatabase } from './test-database';

export interface TestApp {
  app: NestExpressApplication;
  config: AppConfig;
  /** Base URL of the listening server. */
  url: string;
  dataDir: string;
  get<T>(token: abstract new (...args: never[]) => T): T;
  close(): Promise<void>;
}

/**
 * Boots the real application on a real database (embedded PGlite in a temp folder, or a fresh database on
 * the DATABASE_URL server), schedules off, listening on a random port. `env` overrides configuration.
 */
export async function startTestApp(env: Record<string, string> = {}, options: { clock?: Clock } = {}): Promise<TestApp> {
  const dataDir = mkdtempSync(join(tmpdir(), 'broadsheet-test-'));
  const server = await createServerDatabase();
  const config = loadConfig({
    DATA_DIR: dataDir,
    SCHEDULER_ENABLED: 'false',
    PUBLIC_CACHE_CHECK_SECONDS: '0',
    PORT: '0',
    HOST: '127.0.0.1',
    SOURCES_IMPORT_DIR: join(__dirname, '..', '..', 'demo'),
    ...(server ? { DATABASE_URL: server.url } : {}),
    ...env,
  });
  let builder = Test.createTestingModule({ imports: [AppModule.forRoot(config)] });
  if (options.clock) builder = builder.overrideProvider(Clock).useValue(options.clock);
  const moduleRef = await builder.compile();
  const app = moduleRef.createNestApplication<NestExpressApplication>({ logger: ['error'], rawBody: true });
  applyHttpDefaults(app);
  setupApiDocs(app, config);
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  const url = `http://127.0.0.1:${address.port}`;
  // Links in emails and feeds must point at this server.
  if (!env.PUBLIC_URL) config.server.publicUrl = url;
  return {
    app,
    config,
    url,
    dataDir,
    get: (token) => app.get(token as never, { strict: false }),
    close: async () => {
      await app.close();
      await server?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
