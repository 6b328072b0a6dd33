import { Global, Logger, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource, type MixedList, type EntitySchema } from 'typeorm';
import { APP_CONFIG } from '../config/config.module';
import { type AppConfig } from '../config/config';
import { BootLock, withBootLock } from './boot-lock';
import { EmbeddedPostgres } from './embedded-postgres';
import { SnakeNamingStrategy } from './snake-naming.strategy';

export interface DatabaseModuleOptions {
  entities: MixedList<Function | string | EntitySchema>;
  migrations: MixedList<Function | string>;
}

/**
 * Builds the TypeORM DataSource options shared by the app, the migrate command and the tests. `extra` goes to
 * the `pg` pool (for the embedded database: its in-process stream and no idle timeout).
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
  let url = config.database.url;
  if (!url) {
    embedded = await EmbeddedPostgres.start(embeddedDir);
    url = embedded.url;
  }
  // PGlite has a single session: exactly one pooled connection (STACK.md), kept open however long it idles
  // (idleTimeoutMillis 0: pg's default closes an idle client after 10 s), over an in-process stream.
  const dataSource = new DataSource(
    embedded
      ? dataSourceOptions(url, 1, options, { ...embedded.connectionOptions, idleTimeoutMillis: 0 })
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
    throw error;
  }
  return { dataSource, embedded };
}

class DatabaseLifecycle implements OnApplicationShutdown {
  private readonly logger = new Logger('Database');
  constructor(
    readonly dataSource: DataSource,
    private readonly embedded?: EmbeddedPostgres,
  ) {}
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
      exports: [DataSource, BootLock],
    };
  }
}
