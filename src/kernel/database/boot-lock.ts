import { Inject, Injectable, Logger } from '@nestjs/common';
import { Client } from 'pg';
import { APP_CONFIG } from '../config/config.module';
import { type AppConfig } from '../config/config';

/** The work that instances booting together must do one at a time: each has its own advisory lock. */
export const BOOT_LOCKS = { migrations: 1, signingKey: 2, demo: 3, demoOwner: 4 } as const;
export type BootLockName = keyof typeof BOOT_LOCKS;
/** The first key of the two-key advisory lock: "BRDS", so Broadsheet's locks don't collide with another app's. */
const LOCK_CLASS = 0x42524453;

/**
 * Runs `fn` while holding a session advisory lock on the PostgreSQL server at `url`, taken on a dedicated
 * connection of its own (not from the pool, which `fn` uses: with a pool of one the lock would starve it).
 * A second instance waits until the first is done, then finds the work done (each `fn` must be idempotent).
 * Without `url` (the embedded database) there is nothing to wait for: the data-folder lock already admits one
 * process, and PGlite has one session, where session advisory locks always succeed.
 */
export async function withBootLock<T>(url: string | undefined, name: BootLockName, fn: () => Promise<T>, logger?: Logger): Promise<T> {
  if (!url) return fn();
  const client = new Client({ connectionString: url, application_name: `broadsheet boot lock: ${name}` });
  await client.connect();
  try {
    const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS locked', [LOCK_CLASS, BOOT_LOCKS[name]]);
    if (!rows[0].locked) {
      logger?.log(`another instance is busy with ${name}: waiting for it`);
      await client.query('SELECT pg_advisory_lock($1, $2)', [LOCK_CLASS, BOOT_LOCKS[name]]);
    }
    return await fn();
  } finally {
    // Ending the session releases the lock even if the unlock fails.
    await client.query('SELECT pg_advisory_unlock($1, $2)', [LOCK_CLASS, BOOT_LOCKS[name]]).catch(() => undefined);
    await client.end().catch(() => undefined);
  }
}

/** The boot-time lock as a provider, for boot-time writers outside this module (signing key, demo seeding). */
@Injectable()
export class BootLock {
  private readonly logger = new Logger('BootLock');
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  run<T>(name: BootLockName, fn: () => Promise<T>): Promise<T> {
    return withBootLock(this.config.database.url, name, fn, this.logger);
  }
}
