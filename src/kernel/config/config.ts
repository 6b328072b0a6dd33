import { isIP } from 'node:net';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { validateCronExpression } from 'cron';
import { z } from 'zod';

/** Every environment variable Broadsheet reads, validated once at boot (see .env.example). */
/** Validated by the cron library itself, so an out-of-range field is caught at boot with the variable's name. */
const cron = z
  .string()
  .trim()
  .refine((value) => /^(\S+\s+){4,5}\S+$/.test(value) && validateCronExpression(value).valid, 'a valid cron expression with 5 or 6 fields, e.g. "0 6 * * 1"');

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

/** A number (fractions allowed) from min to max; `what` is the one message for every way it can be wrong. */
const num = (min: number, max: number, what: string) => z.coerce.number({ error: what }).min(min, what).max(max, what);

/** "90s", "30m", "2h", "1d" → seconds; between one minute and a week. */
export function parseDuration(value: string): number | null {
  const m = /^(\d+)\s*(s|m|h|d)$/i.exec(value.trim());
  if (!m) return null;
  const seconds = Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[m[2].toLowerCase() as 's' | 'm' | 'h' | 'd'];
  return seconds >= 60 && seconds <= 7 * 86400 ? seconds : null;
}
const duration = z
  .string()
  .trim()
  .refine((v) => parseDuration(v) !== null, 'a duration from 1m to 7d such as "30m", "2h" or "1d"');

/** A FETCH_DNS_SERVERS entry: an IPv4 address or a bracketed IPv6 address, with an optional port. */
function isDnsServer(entry: string): boolean {
  const m = /^(?:\[([^\]]+)\]|([^:]+))(?::(\d{1,5}))?$/.exec(entry) ?? (isIP(entry) === 6 ? [entry, entry] : null);
  const ip = m?.[1] ?? m?.[2];
  return !!ip && isIP(ip) !== 0 && (m?.[3] === undefined || (Number(m[3]) > 0 && Number(m[3]) <= 65535));
}

/** A FETCH_ALLOWLIST entry: a host name, an IPv4/IPv6 address, or a CIDR range. */
function isAllowlistEntry(entry: string): boolean {
  if (entry.includes('/')) {
    const [ip, bits] = entry.split('/');
    return isIP(ip) !== 0 && /^\d{1,3}$/.test(bits) && Number(bits) <= (isIP(ip) === 4 ? 32 : 128);
  }
  return isIP(entry) !== 0 || /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i.test(entry);
}

export const envSchema = z
  .object({
    PORT: int(0, 65535).default(3000),
    HOST: z.string().trim().min(1).default('0.0.0.0'),
    PUBLIC_URL: httpUrl.optional(),
    SITE_TITLE: z.string().trim().min(1).max(120).default('Broadsheet'),
    SITE_DESCRIPTION: z.string().trim().min(1).max(400).default('Short, cited stories about what online communities are saying, every week.'),
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
    ANTHROPIC_MAX_TOKENS: int(256, 64000).default(2000),
    ANTHROPIC_CONCURRENCY: int(1, 32).default(4),
    ANTHROPIC_JUDGE_MODEL: z.string().trim().min(1).default('claude-haiku-4-5'),
    NARRATIVES_ENTAILMENT_JUDGE: bool.default(false),
    ANTHROPIC_BATCH: bool.default(false),
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
    DELIVERY_RATE_PER_SECOND: num(0, 100, 'a number of requests per second from 0 to 100 (0 = no limit)').default(2),
    DELIVERY_MAX_ATTEMPTS: int(1, 20).default(6),
    DELIVERY_LEASE_SECONDS: int(5, 3600).default(30),
    DELIVERY_REQUEST_TIMEOUT_SECONDS: int(1, 600).default(10),
    DELIVERY_CONCURRENCY: int(1, 32).default(4),
    DELIVERY_SEND_ON_APPROVE: bool.default(true),
    RESEND_WEBHOOK_SECRET: z
      .string()
      .trim()
      .regex(/^whsec_[A-Za-z0-9+/=]+$/, 'a Resend webhook signing secret starting with whsec_')
      .optional(),
    SMTP_URL: z
      .string()
      .trim()
      .refine((v) => /^smtps?:\/\/[^\s]+$/.test(v), 'an smtp:// or smtps:// URL such as smtp://user:pass@mail.example.com:587')
      .optional(),
    NARRATIVES_PER_BEAT: int(1, 20).default(3),
    NARRATIVE_FIDELITY_THRESHOLD: num(0, 1, 'a number from 0 to 1').default(0.7),
    STORYLINE_MIN_RECORDS: int(2, 100).default(3),
    NARRATIVES_EMBEDDINGS: z.enum(['none', 'hashing'], { error: '"none" or "hashing"' }).default('none'),
    ISSUE_STORIES_PER_BEAT: int(1, 20).default(3),
    ISSUES_AUTO_APPROVE: bool.default(false),
    ADMIN_SESSION_IDLE_HOURS: int(1, 720).default(12),
    ADMIN_LOGIN_MAX_PER_CLIENT: int(1, 10000).default(50),
    CRON_POLL_SOURCES: cron.default('* * * * *'),
    CRON_BUILD_NARRATIVES: cron.default('15 * * * *'),
    CRON_ASSEMBLE_ISSUE: cron.default('0 6 * * 1'),
    CRON_DELIVER: cron.default('*/5 * * * * *'),
    SCHEDULER_ENABLED: bool.default(true),
    SOURCES_MAX_ITEMS_PER_POLL: int(1, 100_000).default(500),
    SOURCES_POLL_CONCURRENCY: int(1, 64).default(4),
    SOURCES_DEFAULT_INTERVAL: duration.default('30m'),
    SOURCES_MAX_FAILURES: int(1, 1000).default(10),
    // Two parse threads on a machine with two cores or more: the second starts only while a document waits for the
    // first (a backlog) and retires after 30 s idle, like the first.
    SOURCES_PARSE_THREADS: int(1, 16).default(Math.min(2, availableParallelism())),
    SOURCES_PARSE_MEMORY_MB: int(32, 8192).default(512),
    SOURCES_PARSE_TIMEOUT_SECONDS: int(1, 3600).default(60),
    FETCH_ALLOWLIST: z
      .string()
      .trim()
      .default('')
      .refine(
        (v) =>
          v
            .split(',')
            .map((e) => e.trim())
            .filter(Boolean)
            .every(isAllowlistEntry),
        'comma-separated host names, IP addresses or CIDR ranges (e.g. "127.0.0.1,10.0.0.0/8,feeds.internal")',
      ),
    FETCH_MAX_BYTES: int(1024, 1024 * 1024 * 1024).default(20 * 1024 * 1024),
    FETCH_TIMEOUT_SECONDS: int(1, 600).default(30),
    FETCH_MAX_REDIRECTS: int(0, 20).default(5),
    FETCH_USER_AGENT: z.string().trim().min(1).max(300).optional(),
    FETCH_DNS_SERVERS: z
      .string()
      .trim()
      .default('')
      .refine(
        (v) =>
          v
            .split(',')
            .map((e) => e.trim())
            .filter(Boolean)
            .every(isDnsServer),
        'comma-separated DNS server addresses, each an IP with an optional port (e.g. "9.9.9.9,[2620:fe::fe]:53,127.0.0.1:5353")',
      ),
    REDDIT_BASE_URL: httpUrl.default('https://www.reddit.com'),
    HACKERNEWS_ALGOLIA_URL: httpUrl.default('https://hn.algolia.com'),
    BLUESKY_APPVIEW_URL: httpUrl.default('https://public.api.bsky.app'),
    WEBSUB_HUB_URL: httpUrl.optional(),
    WEBSUB_MAX_ATTEMPTS: int(1, 20).default(5),
    WEBSUB_RETRY_BASE_MS: int(1, 600000).default(2000),
    PUBLIC_CACHE_CHECK_SECONDS: num(0, 3600, 'a number of seconds from 0 to 3600 (0 checks on every request)').default(2),
    SUBSCRIBE_CLIENT_LIMIT: int(1, 1_000_000).default(10),
    SUBSCRIBE_CLIENT_WINDOW_MINUTES: int(1, 1440).default(10),
    SUBSCRIBE_ADDRESS_LIMIT: int(1, 1_000_000).default(5),
    SUBSCRIBE_ADDRESS_WINDOW_MINUTES: int(1, 1440).default(60),
    SUBSCRIBE_RESEND_AFTER_MINUTES: int(1, 1440).default(10),
    SUBSCRIBE_LINK_TTL_HOURS: int(1, 720).default(72),
    SUBSCRIBE_CHALLENGE: z.enum(['off', 'pow'], { error: '"off" (no challenge) or "pow" (a proof-of-work puzzle the form\'s script solves)' }).default('off'),
    SUBSCRIBE_POW_BITS: int(8, 28).default(16),
    SUBSCRIBE_CHALLENGE_TTL_MINUTES: int(1, 1440).default(30),
    CRON_SUBSCRIBER_MAIL: cron.default('*/10 * * * * *'),
    LOG_FORMAT: z.enum(['text', 'json'], { error: '"text" (readable lines) or "json" (one JSON object per line)' }).default('text'),
  })
  .refine((e) => e.DELIVERY_REQUEST_TIMEOUT_SECONDS < e.DELIVERY_LEASE_SECONDS, {
    path: ['DELIVERY_REQUEST_TIMEOUT_SECONDS'],
    message: 'fewer seconds than DELIVERY_LEASE_SECONDS (a request must end before its batch lease does)',
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
  sources: {
    importDir: string;
    maxItemsPerPoll: number;
    pollConcurrency: number;
    /** Seconds between polls of a source added without `--every`. */
    defaultIntervalSeconds: number;
    /** Consecutive failed polls after which a source is paused with its reason. */
    maxFailures: number;
    parse: { threads: number; memoryMb: number; timeoutMs: number };
    platforms: { redditBaseUrl: string; hackernewsAlgoliaUrl: string; blueskyAppviewUrl: string };
  };
  fetch: { allowlist: string[]; maxBytes: number; timeoutMs: number; maxRedirects: number; userAgent: string; dnsServers: string[] };
  demo: boolean;
  secretKey?: string;
  anthropic: {
    apiKey?: string;
    baseUrl?: string;
    model: string;
    maxRetries: number;
    maxTokens: number;
    concurrency: number;
    judgeModel: string;
    /** Scheduled builds write through Message Batches (half price, results collected by a later build). */
    batch: boolean;
  };
  email: {
    from: string;
    outboxDir: string;
    resend?: { apiKey: string; baseUrl?: string };
    smtpUrl?: string;
    batchSize: number;
    /** Provider requests per second across every instance; 0 means no limit. */
    ratePerSecond: number;
    maxAttempts: number;
    leaseMs: number;
    requestTimeoutMs: number;
    concurrency: number;
    sendOnApprove: boolean;
    webhookSecret?: string;
  };
  narratives: { perBeat: number; fidelityThreshold: number; storylineMinRecords: number; entailmentJudge: boolean; embeddings: 'none' | 'hashing' };
  issues: { storiesPerBeat: number; autoApprove: boolean };
  /** Editors' sign-in: sessions expire after `sessionIdleHours` unused; a client gets `loginMaxPerClient` failed sign-ins per 15 minutes. */
  admin: { sessionIdleHours: number; loginMaxPerClient: number; secureCookies: boolean };
  schedule: { enabled: boolean; pollSources: string; buildNarratives: string; assembleIssue: string; deliver: string; subscriberMail: string };
  /** WebSub: the hub named in every feed and pinged when a feed changes; attempts and backoff of each ping. */
  websub: { hubUrl?: string; maxAttempts: number; retryBaseMs: number };
  /** How often each instance checks the database's change marker for the public page and feed cache (0: every request). */
  publicCache: { checkSeconds: number };
  /** Sign-up abuse limits (per client network and per address, shared by every instance) and link lifetimes. */
  subscribers: {
    clientLimit: number;
    clientWindowMs: number;
    addressLimit: number;
    addressWindowMs: number;
    resendAfterMs: number;
    linkTtlMs: number;
    /** An optional challenge on every sign-up: off, or a signed, expiring, single-use proof of work of `powBits` bits. */
    challenge: { kind: 'off' | 'pow'; powBits: number; ttlMs: number };
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

/** The configuration from `.env` and the process environment (what the server and the CLI read), with `overrides` on top. */
export function loadConfigFromEnvironment(overrides: Record<string, string> = {}): AppConfig {
  loadEnvironment();
  return loadConfig({ ...process.env, ...overrides });
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
  // Read-only once built: a module cannot change what another one sees; tests build a new config instead.
  return deepFreeze({
    server: { port: e.PORT, host: e.HOST, publicUrl },
    site: { title: e.SITE_TITLE, description: e.SITE_DESCRIPTION },
    dataDir,
    database: { url: e.DATABASE_URL, poolSize: e.DATABASE_POOL_SIZE, embeddedDir: resolve(dataDir, 'pglite') },
    sources: {
      importDir: resolve(e.SOURCES_IMPORT_DIR),
      maxItemsPerPoll: e.SOURCES_MAX_ITEMS_PER_POLL,
      pollConcurrency: e.SOURCES_POLL_CONCURRENCY,
      defaultIntervalSeconds: parseDuration(e.SOURCES_DEFAULT_INTERVAL) as number,
      maxFailures: e.SOURCES_MAX_FAILURES,
      parse: { threads: e.SOURCES_PARSE_THREADS, memoryMb: e.SOURCES_PARSE_MEMORY_MB, timeoutMs: e.SOURCES_PARSE_TIMEOUT_SECONDS * 1000 },
      platforms: {
        redditBaseUrl: e.REDDIT_BASE_URL.replace(/\/+$/, ''),
        hackernewsAlgoliaUrl: e.HACKERNEWS_ALGOLIA_URL.replace(/\/+$/, ''),
        blueskyAppviewUrl: e.BLUESKY_APPVIEW_URL.replace(/\/+$/, ''),
      },
    },
    fetch: {
      allowlist: e.FETCH_ALLOWLIST.split(',')
        .map((v) => v.trim().toLowerCase())
        .filter(Boolean),
      maxBytes: e.FETCH_MAX_BYTES,
      timeoutMs: e.FETCH_TIMEOUT_SECONDS * 1000,
      maxRedirects: e.FETCH_MAX_REDIRECTS,
      dnsServers: e.FETCH_DNS_SERVERS.split(',')
        .map((v) => v.trim())
        .filter(Boolean),
      userAgent: e.FETCH_USER_AGENT ?? `Broadsheet/0.1 (+${publicUrl}; feed and discourse reader)`,
    },
    demo: e.DEMO,
    secretKey: e.SECRET_KEY,
    anthropic: {
      apiKey: e.ANTHROPIC_API_KEY,
      baseUrl: e.ANTHROPIC_BASE_URL,
      model: e.ANTHROPIC_MODEL,
      maxRetries: e.ANTHROPIC_MAX_RETRIES,
      maxTokens: e.ANTHROPIC_MAX_TOKENS,
      concurrency: e.ANTHROPIC_CONCURRENCY,
      judgeModel: e.ANTHROPIC_JUDGE_MODEL,
      batch: e.ANTHROPIC_BATCH,
    },
    email: {
      from: e.EMAIL_FROM,
      outboxDir: resolve(e.EMAIL_OUTBOX_DIR ?? resolve(dataDir, 'outbox')),
      resend: e.RESEND_API_KEY ? { apiKey: e.RESEND_API_KEY, baseUrl: e.RESEND_BASE_URL } : undefined,
      smtpUrl: e.SMTP_URL,
      batchSize: e.DELIVERY_BATCH_SIZE,
      ratePerSecond: e.DELIVERY_RATE_PER_SECOND,
      maxAttempts: e.DELIVERY_MAX_ATTEMPTS,
      leaseMs: e.DELIVERY_LEASE_SECONDS * 1000,
      requestTimeoutMs: e.DELIVERY_REQUEST_TIMEOUT_SECONDS * 1000,
      concurrency: e.DELIVERY_CONCURRENCY,
      sendOnApprove: e.DELIVERY_SEND_ON_APPROVE,
      webhookSecret: e.RESEND_WEBHOOK_SECRET,
    },
    narratives: {
      perBeat: e.NARRATIVES_PER_BEAT,
      fidelityThreshold: e.NARRATIVE_FIDELITY_THRESHOLD,
      storylineMinRecords: e.STORYLINE_MIN_RECORDS,
      entailmentJudge: e.NARRATIVES_ENTAILMENT_JUDGE,
      embeddings: e.NARRATIVES_EMBEDDINGS,
    },
    issues: { storiesPerBeat: e.ISSUE_STORIES_PER_BEAT, autoApprove: e.ISSUES_AUTO_APPROVE },
    admin: { sessionIdleHours: e.ADMIN_SESSION_IDLE_HOURS, loginMaxPerClient: e.ADMIN_LOGIN_MAX_PER_CLIENT, secureCookies: publicUrl.startsWith('https://') },
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
      challenge: { kind: e.SUBSCRIBE_CHALLENGE, powBits: e.SUBSCRIBE_POW_BITS, ttlMs: e.SUBSCRIBE_CHALLENGE_TTL_MINUTES * 60_000 },
    },
    websub: { hubUrl: e.WEBSUB_HUB_URL, maxAttempts: e.WEBSUB_MAX_ATTEMPTS, retryBaseMs: e.WEBSUB_RETRY_BASE_MS },
    publicCache: { checkSeconds: e.PUBLIC_CACHE_CHECK_SECONDS },
    log: { format: e.LOG_FORMAT },
  });
}

/** Freezes an object and everything it holds, so any later assignment throws (strict mode) instead of leaking. */
export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
