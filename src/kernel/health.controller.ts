import { constants } from 'node:fs';
import { access, mkdir } from 'node:fs/promises';
import { Controller, Get, Inject } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { type AppConfig } from './config/config';
import { APP_CONFIG } from './config/config.module';
import { UnavailableError } from './errors/domain-error';

/** How long the database may take to answer `SELECT 1` before /health calls it failing. */
const DATABASE_TIMEOUT_MS = 3_000;

export type HealthReport = Record<'database' | 'email', string>;

/** 503 naming each failing dependency; `checks` says what each one answered. */
export class UnhealthyError extends UnavailableError {
  override readonly code: string = 'unhealthy';
  override readonly extensions: Record<string, unknown>;
  constructor(readonly checks: HealthReport) {
    const failing = Object.entries(checks).filter(([, v]) => v !== 'ok');
    super(`Failing: ${failing.map(([name, problem]) => `${name} (${problem})`).join(', ')}.`);
    this.extensions = { failing: failing.map(([name]) => name), checks };
  }
}

@Controller()
export class HealthController {
  constructor(
    private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * 200 `{ status: 'ok', database: 'ok', email: 'ok' }` when every dependency answers; otherwise a 503 problem
   * document (code `unhealthy`) whose `failing` names the dependencies that did not. It never calls the email
   * provider over the network: it checks the email configuration this instance would use.
   */
  @Get('health')
  async health(): Promise<{ status: 'ok' } & HealthReport> {
    const checks: HealthReport = { database: await this.database(), email: await this.email() };
    if (Object.values(checks).some((v) => v !== 'ok')) throw new UnhealthyError(checks);
    return { status: 'ok', ...checks };
  }

  private async database(): Promise<string> {
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${DATABASE_TIMEOUT_MS / 1000} s`)), DATABASE_TIMEOUT_MS);
      });
      await Promise.race([this.dataSource.query('SELECT 1'), timeout]);
      return 'ok';
    } catch (error) {
      return `not answering: ${(error as Error).message}`;
    } finally {
      clearTimeout(timer);
    }
  }

  private async email(): Promise<string> {
    const { resend, outboxDir } = this.config.email;
    if (resend) return resend.apiKey ? 'ok' : 'RESEND_API_KEY is empty';
    try {
      await mkdir(outboxDir, { recursive: true });
      await access(outboxDir, constants.W_OK);
      return 'ok';
    } catch (error) {
      return `the email outbox folder is not writable (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`;
    }
  }
}
