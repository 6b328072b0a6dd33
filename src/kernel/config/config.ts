import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { validateCronExpression } from 'cron';
import { z } from 'zod';

/** Every environment variable Broadsheet reads, validated once at boot (see .env.example). */
/** Validated by the cron library itself, so an out-of-range field is caught at boot with the variable's name. */
const cron = z
  .string()
  .trim()
  .refine(
    (value) => /^(\S+\s+){4,5}\S+$/.test(value) && validateCronExpression(value).valid,
    'a valid cron expression with 5 or 6 fields, e.g. "0 6 * * 1"',
  );

const bool = z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => ['true', '1', 'yes'].includes(v));

const httpUrl = z
  .string()
  .trim()
  .url('an absolute URL such as https://news.example.com')
  .refine((v) => /^https?:\/\//.test(v), 'an http:// or https:// URL');

const postgresUrl = z
  .string()
  .trim()
  .refine((v) => /^postgres(ql)?:\/\/[^\s]+$/.test(v), 'a postgres:// or postgresql:// connection URL');

const int = (min: number, max: number) =>
  z.coerce
    .number({ error: `a whole number from ${min} to ${max}` })
    .int(`a whole number from ${min} to ${max}`)
    .min(min, `a whole number from ${min} to ${max}`)
    .max(max, `a whole number from ${min} to ${max}`);

export const envSchema = z.object({
  PORT: int(0, 65535).default(3000),
  HOST: z.string().trim().min(1).default('0.0.0.0'),
  PUBLIC_URL: httpUrl.optional(),
  SITE_TITLE: z.string().trim().min(1).max(120).default('Broadsheet'),
  SITE_DESCRIPTION: z
    .string()
    .trim()
    .min(1)
    .max(400)
    .default('Short, cited stories about what online communities are saying, every week.'),
  DATA_DIR: z.string().trim().min(1).default('./data'),
  DATABASE_URL: postgresUrl.optional(),
  DATABASE_POOL_SIZE: int(1, 100).default(10),
  SOURCES_IMPORT_DIR: z.string().trim().min(1).default('./demo'),
  DEMO: bool.default(true),
  SECRET_KEY: z.string().min(32, 'at least 32 characters of random text (e.g. `openssl rand -hex 32`)').optional(),
  ANTHROPIC_API_KEY: z.string().trim().min(1).optional(),
  ANTHROPIC_BASE_URL: httpUrl.optional(),
  ANTHROPIC_MODEL: z.string().trim().min(1).default('claude-sonnet-5-5'),
  ANTHROPIC_MAX_RETRIES: int(0, 10).default(3),
  RESEND_API_KEY: z
    .string()
    .trim()
    .regex(/^re_\S+$/, 'a Resend API key starting with re_')
    .optional(),
  RESEND_BASE_URL: httpUrl.optional(),
  EMAIL_FROM: z
    .string()
    .trim()
    .regex(/^(.+<[^<>@\s]+@[^<>@\s]+>|[^<>@\s]+@[^<>@\s]+)$/, 'an address like "Broadsheet <digest@example.com>"')
    .default('Broadsheet <digest@broadsheet.localhost>'),
  EMAIL_OUTBOX_DIR: z.string().trim().min(1).optional(),
  DELIVERY_BATCH_SIZE: int(1, 100).default(100),
  DELIVERY_RATE_PER_SECOND: z.coerce.number({ error: 'a number of requests per second' }).positive('a positive number of requests per second').max(100, 'at most 100 requests per second').default(2),
  DELIVERY_MAX_ATTEMPTS: int(1, 20).default(6),
  NARRATIVES_PER_BEAT: int(1, 20).default(3),
  NARRATIVE_FIDELITY_THRESHOLD: z.coerce.number({ error: 'a number from 0 to 1' }).min(0, 'a number from 0 to 1').max(1, 'a number from 0 to 1').default(0.7),
  STORYLINE_MIN_RECORDS: int(2, 100).default(3),
  ISSUE_STORIES_PER_BEAT: int(1, 20).default(3),
  CRON_POLL_SOURCES: cron.default('*/30 * * * *'),
  CRON_BUILD_NARRATIVES: cron.default('15 * * * *'),
  CRON_ASSEMBLE_ISSUE: cron.default('0 6 * * 1'),
  CRON_DELIVER: cron.default('* * * * *'),
  SCHEDULER_ENABLED: bool.default(true),
  SUBSCRIBE_CLIENT_LIMIT: int(1, 1_000_000).default(10),
  SUBSCRIBE_CLIENT_WINDOW_MINUTES: int(1, 1440).default(10),
  SUBSCRIBE_ADDRESS_LIMIT: int(1, 1_000_000).default(5),
  SUBSCRIBE_ADDRESS_WINDOW_MINUTES: int(1, 1440).default(60),
  SUBSCRIBE_RESEND_AFTER_MINUTES: int(1, 1440).default(10),
  SUBSCRIBE_LINK_TTL_HOURS: int(1, 720).default(72),
  CRON_SUBSCRIBER_MAIL: cron.default('*/10 * * * * *'),
  LOG_FORMAT: z.enum(['text', 'json'], { error: '"text" (readable lines) or "json" (one JSON object per line)' }).default('text'),
});

export type Env = z.infer<typeof envSchema>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** The typed configuration every module receives; built once from the environment. */
export interface AppConfig {
  server: { port: number; host: string; publicUrl: string };
  site: { title: string; description: string };
  dataDir: string;
  database: { url?: string; poolSize: number; embeddedDir: string };
  sources: { importDir: string };
  demo: boolean;
  secretKey?: string;
  anthropic: { apiKey?: string; baseUrl?: string; model: string; maxRetries: number };
  email: {
    from: string;
    outboxDir: string;
    resend?: { apiKey: string; baseUrl?: string };
    batchSize: number;
    ratePerSecond: number;
    maxAttempts: number;
  };
  narratives: { perBeat: number; fidelityThreshold: number; storylineMinRecords: number };
  issues: { storiesPerBeat: number };
  schedule: { enabled: boolean; pollSources: string; buildNarratives: string; assembleIssue: string; deliver: string; subscriberMail: string };
  /** Sign-up abuse limits (per client network and per address, shared by every instance) and link lifetimes. */
  subscribers: {
    clientLimit: number;
    clientWindowMs: number;
    addressLimit: number;
    addressWindowMs: number;
    resendAfterMs: number;
    linkTtlMs: number;
  };
  log: { format: 'text' | 'json' };
}

/**
 * Reads `.env` beside the working directory into the environment, if present (variables already set win).
 * The server, the CLI and the TypeORM CLI call this once before `loadConfig()`.
 */
export function loadEnvironment(file = '.env'): void {
  if (existsSync(file)) process.loadEnvFile(file);
}

export function loadConfig(env: Record<string, string | undefined> = process.env): AppConfig {
  // Empty strings (e.g. `RESEND_API_KEY=` copied from .env.example) mean "not set".
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const name = issue.path.join('.');
        return `${name}=${JSON.stringify(cleaned[name] ?? '')}: expected ${issue.message}`;
      }),
    );
  }
  const e = parsed.data;
  const dataDir = resolve(e.DATA_DIR);
  const publicUrl = (e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, '');
  return {
    server: { port: e.PORT, host: e.HOST, publicUrl },
    site: { title: e.SITE_TITLE, description: e.SITE_DESCRIPTION },
    dataDir,
    database: { url: e.DATABASE_URL, poolSize: e.DATABASE_POOL_SIZE, embeddedDir: resolve(dataDir, 'pglite') },
    sources: { importDir: resolve(e.SOURCES_IMPORT_DIR) },
    demo: e.DEMO,
    secretKey: e.SECRET_KEY,
    anthropic: {
      apiKey: e.ANTHROPIC_API_KEY,
      baseUrl: e.ANTHROPIC_BASE_URL,
      model: e.ANTHROPIC_MODEL,
      maxRetries: e.ANTHROPIC_MAX_RETRIES,
    },
    email: {
      from: e.EMAIL_FROM,
      outboxDir: resolve(e.EMAIL_OUTBOX_DIR ?? resolve(dataDir, 'outbox')),
      resend: e.RESEND_API_KEY ? { apiKey: e.RESEND_API_KEY, baseUrl: e.RESEND_BASE_URL } : undefined,
      batchSize: e.DELIVERY_BATCH_SIZE,
      ratePerSecond: e.DELIVERY_RATE_PER_SECOND,
      maxAttempts: e.DELIVERY_MAX_ATTEMPTS,
    },
    narratives: {
      perBeat: e.NARRATIVES_PER_BEAT,
      fidelityThreshold: e.NARRATIVE_FIDELITY_THRESHOLD,
      storylineMinRecords: e.STORYLINE_MIN_RECORDS,
    },
    issues: { storiesPerBeat: e.ISSUE_STORIES_PER_BEAT },
    schedule: {
      enabled: e.SCHEDULER_ENABLED,
      pollSources: e.CRON_POLL_SOURCES,
      buildNarratives: e.CRON_BUILD_NARRATIVES,
      assembleIssue: e.CRON_ASSEMBLE_ISSUE,
      deliver: e.CRON_DELIVER,
      subscriberMail: e.CRON_SUBSCRIBER_MAIL,
    },
    subscribers: {
      clientLimit: e.SUBSCRIBE_CLIENT_LIMIT,
      clientWindowMs: e.SUBSCRIBE_CLIENT_WINDOW_MINUTES * 60_000,
      addressLimit: e.SUBSCRIBE_ADDRESS_LIMIT,
      addressWindowMs: e.SUBSCRIBE_ADDRESS_WINDOW_MINUTES * 60_000,
      resendAfterMs: e.SUBSCRIBE_RESEND_AFTER_MINUTES * 60_000,
      linkTtlMs: e.SUBSCRIBE_LINK_TTL_HOURS * 3_600_000,
    },
    log: { format: e.LOG_FORMAT },
  };
}
