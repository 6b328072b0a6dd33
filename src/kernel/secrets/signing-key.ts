import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { APP_CONFIG } from '../config/config.module';
import { type AppConfig } from '../config/config';
import { BootLock } from '../database/boot-lock';

/**
 * The HMAC key behind every signed token (unsubscribe, confirmation). SECRET_KEY wins; otherwise a random key
 * is generated once and kept in the database, so every instance sharing the database agrees on it.
 */
@Injectable()
export class SigningKey implements OnModuleInit {
  private key!: Buffer;

  constructor(
    private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly bootLock: BootLock,
  ) {}

  async onModuleInit(): Promise<void> {
    if (this.config.secretKey) {
      this.key = Buffer.from(this.config.secretKey, 'utf8');
      return;
    }
    // Idempotent (the first key written wins, ON CONFLICT keeps it) and done under the boot lock, so instances
    // booting together on one database generate one key and all read that one.
    const row = await this.bootLock.run('signingKey', async () => {
      await this.dataSource.query(`INSERT INTO settings (key, value) VALUES ('signing_key', $1) ON CONFLICT (key) DO NOTHING`, [
        randomBytes(32).toString('base64url'),
      ]);
      const [found] = await this.dataSource.query(`SELECT value FROM settings WHERE key = 'signing_key'`);
      return found as { value: string };
    });
    this.key = Buffer.from(row.value, 'utf8');
  }

  /** `payload.signature`, URL-safe; `purpose` separates token kinds so one can't stand in for another. */
  sign(purpose: string, payload: string): string {
    const body = Buffer.from(payload, 'utf8').toString('base64url');
    return `${body}.${this.mac(purpose, body)}`;
  }

  /** The payload if the token is genuine, otherwise null. */
  verify(purpose: string, token: string): string | null {
    const [body, signature, extra] = token.split('.');
    if (!body || !signature || extra !== undefined) return null;
    const expected = Buffer.from(this.mac(purpose, body));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null;
    return Buffer.from(body, 'base64url').toString('utf8');
  }

  private mac(purpose: string, body: string): string {
    return createHmac('sha256', this.key).update(`${purpose}:${body}`).digest('base64url');
  }
}
