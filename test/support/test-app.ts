import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
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
  /**
   * Stops this application and boots a new one on the same database, port and data folder with `env` merged over
   * the original settings: how a test changes configuration (it is read-only once loaded), as an operator would.
   */
  restart(env: Record<string, string>): Promise<TestApp>;
  close(): Promise<void>;
}

/** An HTTP server listening on a free port of 127.0.0.1, with no handler yet. */
async function listenOnFreePort(): Promise<{ server: Server; port: number }> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return { server, port: (server.address() as { port: number }).port };
}

/**
 * Boots the real application on a real database (embedded PGlite in a temp folder, or a fresh database on
 * the DATABASE_URL server), schedules off, on a free port. `env` overrides configuration.
 *
 * The port is taken first, so the configuration (read-only, like in production) already names the server's own
 * URL as PUBLIC_URL for the links in emails and feeds: nothing is changed after boot.
 */
export async function startTestApp(
  env: Record<string, string> = {},
  options: {
    clock?: Clock;
    /** Port implementations to use instead of config's (test adapters). */ providers?: Array<{
      provide: abstract new (...args: never[]) => unknown;
      useValue: unknown;
    }>;
  } = {},
): Promise<TestApp> {
  const dataDir = mkdtempSync(join(tmpdir(), 'broadsheet-test-'));
  const { server: http, port } = await listenOnFreePort();
  const url = `http://127.0.0.1:${port}`;
  const server = await createServerDatabase();
  let app: NestExpressApplication | undefined;
  let forward: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  const stopApp = async (): Promise<void> => {
    if (forward) http.off('request', forward);
    forward = undefined;
    const running = app;
    app = undefined;
    await running?.close();
  };
  const close = async (): Promise<void> => {
    await stopApp();
    await new Promise<void>((resolve) => http.close(() => resolve()));
    await server?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  const boot = async (overrides: Record<string, string>): Promise<TestApp> => {
    const config = loadConfig({
      DATA_DIR: dataDir,
      SCHEDULER_ENABLED: 'false',
      PUBLIC_CACHE_CHECK_SECONDS: '0',
      PORT: String(port),
      HOST: '127.0.0.1',
      PUBLIC_URL: url,
      SOURCES_IMPORT_DIR: join(__dirname, '..', '..', 'demo'),
      ...(server ? { DATABASE_URL: server.url } : {}),
      ...overrides,
    });
    let builder = Test.createTestingModule({ imports: [AppModule.forRoot(config)] });
    if (options.clock) builder = builder.overrideProvider(Clock).useValue(options.clock);
    for (const p of options.providers ?? []) builder = builder.overrideProvider(p.provide).useValue(p.useValue);
    const moduleRef = await builder.compile();
    app = moduleRef.createNestApplication<NestExpressApplication>({ logger: ['error'], rawBody: true });
    applyHttpDefaults(app);
    setupApiDocs(app, config);
    await app.init();
    // Nest's own HTTP server never listens: the server that holds the port hands it every request, so whatever
    // listens there (express, and the public fast path in front of it) answers as in production.
    const nest = app.getHttpServer();
    forward = (req, res) => nest.emit('request', req, res);
    http.on('request', forward);
    const booted = app;
    return {
      app: booted,
      config,
      url,
      dataDir,
      get: (token) => booted.get(token as never, { strict: false }),
      restart: async (more) => {
        await stopApp();
        return boot({ ...env, ...more });
      },
      close,
    };
  };
  try {
    return await boot(env);
  } catch (error) {
    await close().catch(() => undefined);
    throw error;
  }
}
