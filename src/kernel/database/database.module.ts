import { Global, Logger, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource, type MixedList, type EntitySchema } from 'typeorm';
import { APP_CONFIG } from '../config/config.module';
import { type AppConfig } from '../config/config';
import { BootLock, withBootLock } from './boot-lock';
import { DataDirLockedError, EmbeddedPostgres } from './embedded-postgres';
import { SnakeNamingStrategy } from './snake-naming.strategy';

export interface DatabaseModuleOptions {
  entities: MixedList<Function | string | EntitySchema>;
  migrations: MixedList<Function | string>;
  /**
   * A command (not a server): when a running server holds the embedded database, connect through its local
   * socket instead of failing. A second server never does this: it is refused by the data-folder lock.
   */
  viaRunningServer?: boolean;
}

/**
 * Builds the TypeORM DataSource options shared by the app, the migrate command and the tests. `extra` goes to
 * the `pg` pool (for the embedded database: its stream to the database thread and no idle timeout).
 */
export function dataSourceOptions(url: string, poolSize: number, options: DatabaseModuleOptions, extra: Record<string, unknown> = {}) {
  return {
    type: 'postgres' as const,
    url,
    entities: options.entities,
    migrations: options.migrations,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each' as const,
    synchronize: false,
    installExtensions: false,
    namingStrategy: new SnakeNamingStrategy(),
    poolSize,
    extra: { max: poolSize, application_name: 'broadsheet', ...extra },
  };
}

/** Opens the database (embedded PGlite unless DATABASE_URL is set) and runs pending migrations. */
export async function openDatabase(
  config: AppConfig,
  options: DatabaseModuleOptions,
  embeddedDir: string | undefined = config.database.embeddedDir,
): Promise<{ dataSource: DataSource; embedded?: EmbeddedPostgres }> {
  let embedded: EmbeddedPostgres | undefined;
  let viaServer: string | undefined;
  let url = config.database.url;
  if (!url) {
    try {
      embedded = await EmbeddedPostgres.start(embeddedDir);
      url = embedded.url;
    } catch (error) {
      if (!(error instanceof DataDirLockedError) || !options.viaRunningServer || !embeddedDir) throw error;
      viaServer = EmbeddedPostgres.runningServerSocket(embeddedDir);
      if (!viaServer) throw new RunningServerUnreachableError(embeddedDir, error);
      // Never dialled: a host that resolves nowhere, so a mistake here fails instead of reaching a real server.
      url = 'postgres://postgres@embedded.invalid/postgres';
    }
  }
  // PGlite has a single session: exactly one pooled connection (docs/architecture.md), kept open however long it idles
  // (idleTimeoutMillis 0: pg's default closes an idle client after 10 s), over a stream to PGlite's worker thread. A command
  // on a running server's database uses one connection too, through the server's socket (`host` a directory:
  // pg connects to its `.s.PGSQL.5432`).
  const dataSource = new DataSource(
    embedded
      ? dataSourceOptions(url, 1, options, { ...embedded.connectionOptions, idleTimeoutMillis: 0 })
      : viaServer
        ? // pg lets a connection string override `host`: none, so the socket directory is what it connects to.
          dataSourceOptions(url, 1, options, { connectionString: undefined, host: viaServer, port: 5432, user: 'postgres', database: 'postgres' })
        : dataSourceOptions(url, config.database.poolSize, options),
  );
  try {
    await dataSource.initialize();
    // Two instances booting on one empty server must not both run the chain: one runs it, the other waits
    // for it and finds nothing left to run.
    await withBootLock(config.database.url, 'migrations', () => dataSource.runMigrations({ transaction: 'each' }), new Logger('Database'));
  } catch (error) {
    if (dataSource.isInitialized) await dataSource.destroy();
    await embedded?.stop();
    if (viaServer && !dataSource.isInitialized) {
      throw new Error(`could not reach the server running on the embedded database through ${viaServer} (${(error as Error).message}): is it still running?`, {
        cause: error,
      });
    }
    throw error;
  }
  return { dataSource, embedded };
}

/** A command found the embedded database held by another process that accepts no commands: what to do, in one line. */
export class RunningServerUnreachableError extends Error {
  constructor(dir: string, locked: DataDirLockedError) {
    const who = locked.holder ? `process ${locked.holder.pid}` : 'another process';
    super(
      `The embedded database in ${dir} is in use by ${who}, which takes no commands (another command, or a server still starting): ` +
        'run this again when it is done or the server is up, or stop that process.',
    );
    this.name = 'RunningServerUnreachableError';
  }
}

export class DatabaseLifecycle implements OnApplicationShutdown {
  private readonly logger = new Logger('Database');
  constructor(
    readonly dataSource: DataSource,
    private readonly embedded?: EmbeddedPostgres,
  ) {}

  /** `broadsheet serve` only: let commands reach the embedded database through its local socket. */
  listenForClients(): Promise<string | undefined> {
    return this.embedded ? this.embedded.listenForClients() : Promise.resolve(undefined);
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
    await this.embedded?.stop();
    this.logger.log('database closed');
  }
}

@Global()
@Module({})
export class DatabaseModule {
  static forRoot(options: DatabaseModuleOptions): DynamicModule {
    return {
      module: DatabaseModule,
      providers: [
        {
          provide: DatabaseLifecycle,
          inject: [APP_CONFIG],
          useFactory: async (config: AppConfig) => {
            const { dataSource, embedded } = await openDatabase(config, options);
            return new DatabaseLifecycle(dataSource, embedded);
          },
        },
        {
          provide: DataSource,
          inject: [DatabaseLifecycle],
          useFactory: (lifecycle: DatabaseLifecycle) => lifecycle.dataSource,
        },
        BootLock,
      ],
      exports: [DataSource, BootLock, DatabaseLifecycle],
    };
  }
}
