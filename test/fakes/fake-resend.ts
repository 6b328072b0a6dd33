// A local fake of the Resend HTTP API (the parts Broadcast uses), speaking Resend's wire format so that
// the real `resend` SDK (6.38) runs against it. See test/fakes/README.md for what is and is not covered.
import { createHash, createHmac, randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { INVALID_JSON, headerRecord, isRecord, listenOnLoopback, parseJson, sendJson, stableStringify } from './fake-http';

/** Error names Resend answers with (`name` in the error body); the same union as the SDK's. */
export type FakeResendErrorName =
  | 'invalid_idempotency_key'
  | 'validation_error'
  | 'missing_api_key'
  | 'restricted_api_key'
  | 'invalid_api_key'
  | 'not_found'
  | 'method_not_allowed'
  | 'invalid_idempotent_request'
  | 'concurrent_idempotent_requests'
  | 'invalid_attachment'
  | 'invalid_from_address'
  | 'invalid_access'
  | 'invalid_parameter'
  | 'invalid_region'
  | 'missing_required_field'
  | 'monthly_quota_exceeded'
  | 'daily_quota_exceeded'
  | 'rate_limit_exceeded'
  | 'security_error'
  | 'application_error'
  | 'internal_server_error';

export interface FakeResendOptions {
  /** API key the fake accepts. Default: a random `re_test_…` key. */
  apiKey?: string;
  /** Webhook signing secret (`whsec_` + base64). Default: `whsec_` + base64 of 24 random bytes. */
  webhookSecret?: string;
  /** Requests allowed per second (sliding 1 s window); omitted = unlimited. Resend's default is 2. */
  ratePerSecond?: number;
  /** Clock in epoch milliseconds, for the rate limiter and timestamps. Default: Date.now. */
  now?: () => number;
  /**
   * Emails accepted per UTC day; past it, sends answer 429 `daily_quota_exceeded` (waiting seconds won't help).
   * Omitted = no quota.
   */
  dailyQuota?: number;
  /**
   * Keep each email's content (html, text, headers) and each request's body. Default true. Benchmarks turn it off,
   * so the fake's memory and time stay small next to the client's: then `emails[i]` keeps only id, to,
   * idempotency key, tags and headers, and `requests[i].body` is undefined.
   */
  keepContent?: boolean;
  /**
   * Benchmarks only: batch bodies are not parsed or validated. The fake hashes the raw bytes (idempotency), finds
   * each message's `"to"` list by scanning them, and answers exactly as for a valid batch. Its own work per
   * request then stays small next to the client's, since the raw rate measured against it is the denominator.
   * Implies `keepContent: false`.
   */
  light?: boolean;
}

/** What the next matching requests do instead of (or besides) being answered normally. */
export type FakeResendFault =
  /** Processed and stored as usual, then the connection is closed before any answer: the client can't know. */
  | { kind: 'accept-then-drop' }
  /** Processed as usual, answered after `ms` milliseconds (the idempotency key is in flight meanwhile). */
  | { kind: 'slow'; ms: number }
  /**
   * Processed as usual, answered only once `until` settles (the key is in flight meanwhile): a test decides when
   * the answer comes instead of a timer. `held()` is called as soon as the request is being held.
   */
  | { kind: 'hold'; until: Promise<unknown>; held?: () => void };

export interface FakeResendFailure {
  status: number;
  /** Error name; default by status (429 rate_limit_exceeded, 500 internal_server_error, 422 validation_error, …). */
  name?: FakeResendErrorName;
  message?: string;
  /** Sent as `retry-after` (seconds). For 429 it defaults to 1. */
  retryAfterSeconds?: number;
}

export interface FakeResendTag {
  name: string;
  value: string;
}

export interface FakeResendEmail {
  id: string;
  from: string;
  to: string[];
  cc: string[];
  bcc: string[];
  replyTo: string[];
  subject: string;
  html: string | null;
  text: string | null;
  /** Custom headers sent in the JSON body's `headers` field, e.g. List-Unsubscribe. */
  headers: Record<string, string>;
  tags: FakeResendTag[];
  scheduledAt: string | null;
  /** The `Idempotency-Key` of the request that created it, or null. */
  idempotencyKey: string | null;
  /** '/emails' or '/emails/batch'. */
  endpoint: '/emails' | '/emails/batch';
  /** Index in the batch request (null for POST /emails). */
  batchIndex: number | null;
  createdAt: string;
}

export interface FakeResendRequest {
  method: string;
  /** Path including any query string, e.g. '/emails/batch'. */
  path: string;
  /** Lower-case header names. */
  headers: Record<string, string>;
  /** Parsed JSON body (undefined when empty, the raw text when it was not JSON). */
  body: unknown;
  /** Status the fake answered with. */
  status: number;
  /** JSON the fake answered with. */
  responseBody: unknown;
  /** Headers the fake answered with (besides content-type/length). */
  responseHeaders: Record<string, string>;
}

export type FakeResendEmailEventType =
  | 'email.sent'
  | 'email.scheduled'
  | 'email.delivered'
  | 'email.delivery_delayed'
  | 'email.complained'
  | 'email.bounced'
  | 'email.opened'
  | 'email.clicked'
  | 'email.failed'
  | 'email.suppressed';

export interface FakeResendEmailEvent {
  type: FakeResendEmailEventType;
  created_at: string;
  data: {
    email_id: string;
    message_id: string;
    created_at: string;
    from: string;
    to: string[];
    subject: string;
    tags?: Record<string, string>;
    [key: string]: unknown;
  };
}

export interface SignedWebhook {
  headers: { 'svix-id': string; 'svix-timestamp': string; 'svix-signature': string };
  /** The exact raw body that was signed (JSON of the event). */
  body: string;
}

export interface SignWebhookOptions {
  /** svix-id; default `msg_` + random. */
  id?: string;
  /** svix-timestamp in epoch seconds; default the real current time (Date.now, not the `now` option). */
  timestamp?: number | string;
}

export interface FakeResend {
  /** Base URL: `new Resend(apiKey, { baseUrl: url })` or RESEND_BASE_URL=url (read when the client is constructed). */
  readonly url: string;
  readonly apiKey: string;
  readonly webhookSecret: string;
  /** Every email accepted, in order. */
  readonly emails: FakeResendEmail[];
  /** Every request received, in order, with the status answered. */
  readonly requests: FakeResendRequest[];
  /** The next `count` authenticated requests answer `failure` instead of being processed. */
  failNext(count: number, failure: FakeResendFailure): void;
  /** The next `count` send requests that get past auth, injected failures and the rate limit meet `fault`. */
  faultNext(count: number, fault: FakeResendFault): void;
  /** Each send request meets a fault with these probabilities (0..1), drawn with `random` (default Math.random). */
  faultRandomly(odds: { status500?: number; status429?: number; acceptThenDrop?: number; slowMs?: number; slow?: number }, random?: () => number): void;
  /** Forgets every failure and fault not yet met, and random faults: a case's leftovers never reach the next. */
  clearFaults(): void;
  /** The most requests that arrived within any `windowMs` (default 1000) at the fake's side: judges a rate limit. */
  maxInAnyWindow(windowMs?: number): number;
  /** Arrival times (epoch ms, the fake's clock) of every request counted against the rate limit. */
  readonly arrivals: number[];
  /** Signs `event` as Resend (Svix) does; `body` is the raw payload to deliver. */
  signWebhook(event: object, opts?: SignWebhookOptions): SignedWebhook;
  /** A realistic webhook payload for an accepted email; `extra` is merged into `data`. */
  eventFor(emailId: string, type: FakeResendEmailEventType, extra?: Record<string, unknown>): FakeResendEmailEvent;
  /** POSTs a signed `event` to `targetUrl` like Resend's webhook delivery, and returns the answer. */
  deliverWebhook(targetUrl: string, event: object, opts?: SignWebhookOptions): Promise<{ status: number; body: string; signed: SignedWebhook }>;
  close(): Promise<void>;
}

const MAX_BATCH = 100;
const MAX_RECIPIENTS = 50;
const MAX_IDEMPOTENCY_KEY = 256;
/** `ratelimit-limit` advertised when no limit is configured (never enforced). */
const UNLIMITED_ADVERTISED = 1000;

const DEFAULT_NAMES: Record<number, FakeResendErrorName> = {
  400: 'validation_error',
  401: 'missing_api_key',
  403: 'invalid_api_key',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'concurrent_idempotent_requests',
  422: 'validation_error',
  429: 'rate_limit_exceeded',
  500: 'internal_server_error',
};

const DEFAULT_MESSAGES: Partial<Record<FakeResendErrorName, string>> = {
  validation_error: 'We found an error with one or more fields in the request.',
  missing_api_key: 'Missing API key in the authorization header.',
  invalid_api_key: 'API key is invalid.',
  not_found: 'The requested endpoint does not exist.',
  method_not_allowed: 'Method is not allowed for the requested path.',
  invalid_idempotent_request: 'Same idempotency key used with a different request payload.',
  concurrent_idempotent_requests: 'Same idempotency key used while original request is still in progress.',
  invalid_idempotency_key: 'The key must be between 1-256 chars.',
  rate_limit_exceeded:
    'Too many requests. You can only make 2 requests per second. See rate limit response headers for more information. Or contact support to increase rate limit.',
  daily_quota_exceeded: 'You have reached your daily email sending quota.',
  monthly_quota_exceeded: 'You have reached your monthly email sending quota.',
  internal_server_error: 'An unexpected error occurred.',
  application_error: 'An unexpected error occurred.',
};

const ADDRESS_FORMAT = 'The email address needs to follow the `email@example.com` or `Name <email@example.com>` format.';
const BARE_ADDRESS = /^[^\s@<>(),;:"]+@[^\s@<>(),;:"]+\.[^\s@<>(),;:"]+$/;
const NAMED_ADDRESS = /^[^<>]*<\s*([^<>\s]+)\s*>$/;
const TAG_PART = /^[A-Za-z0-9_-]{1,256}$/;

/** `email@example.com` or `Name <email@example.com>`. */
export function isValidResendAddress(value: string): boolean {
  const trimmed = value.trim();
  const named = NAMED_ADDRESS.exec(trimmed);
  return BARE_ADDRESS.test(named ? (named[1] ?? '') : trimmed);
}

interface FieldError {
  name: FakeResendErrorName;
  message: string;
}

interface ValidEmail {
  from: string;
  to: string[];
  cc: string[];
  bcc: string[];
  replyTo: string[];
  subject: string;
  html: string | null;
  text: string | null;
  headers: Record<string, string>;
  tags: FakeResendTag[];
  scheduledAt: string | null;
}

function addressList(value: unknown): string[] | null {
  if (value === undefined || value === null) return [];
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value as string[];
  return null;
}

function validateEmail(raw: unknown, inBatch: boolean): ValidEmail | FieldError {
  if (!isRecord(raw)) return { name: 'validation_error', message: 'The email must be a JSON object.' };
  for (const field of ['from', 'to', 'subject'] as const) {
    const v = raw[field];
    if (v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0)) {
      return { name: 'missing_required_field', message: `The \`${field}\` field is missing.` };
    }
  }
  if (typeof raw.from !== 'string' || !isValidResendAddress(raw.from)) {
    return { name: 'validation_error', message: `Invalid \`from\` field. ${ADDRESS_FORMAT}` };
  }
  if (typeof raw.subject !== 'string') {
    return { name: 'validation_error', message: 'The `subject` field must be a string.' };
  }
  const lists: Record<'to' | 'cc' | 'bcc' | 'reply_to', string[]> = { to: [], cc: [], bcc: [], reply_to: [] };
  for (const field of ['to', 'cc', 'bcc', 'reply_to'] as const) {
    const list = addressList(raw[field]);
    if (list === null || !list.every((a) => isValidResendAddress(a))) {
      return { name: 'validation_error', message: `Invalid \`${field}\` field. ${ADDRESS_FORMAT}` };
    }
    if (list.length > MAX_RECIPIENTS) {
      return {
        name: 'validation_error',
        message: `Too many recipients in the \`${field}\` field. The maximum is ${MAX_RECIPIENTS}.`,
      };
    }
    lists[field] = list;
  }
  const html = raw.html;
  const text = raw.text;
  if (html !== undefined && html !== null && typeof html !== 'string') {
    return { name: 'validation_error', message: 'The `html` field must be a string.' };
  }
  if (text !== undefined && text !== null && typeof text !== 'string') {
    return { name: 'validation_error', message: 'The `text` field must be a string.' };
  }
  if (!html && !text && raw.template === undefined) {
    return { name: 'missing_required_field', message: 'The `html` or `text` field is missing.' };
  }
  const headers: Record<string, string> = {};
  if (raw.headers !== undefined && raw.headers !== null) {
    if (!isRecord(raw.headers) || !Object.values(raw.headers).every((v) => typeof v === 'string')) {
      return { name: 'validation_error', message: 'The `headers` field must be an object of strings.' };
    }
    Object.assign(headers, raw.headers);
  }
  const tags: FakeResendTag[] = [];
  if (raw.tags !== undefined && raw.tags !== null) {
    if (!Array.isArray(raw.tags)) return { name: 'validation_error', message: 'The `tags` field must be an array.' };
    for (const tag of raw.tags) {
      if (!isRecord(tag) || typeof tag.name !== 'string' || typeof tag.value !== 'string' || !TAG_PART.test(tag.name) || !TAG_PART.test(tag.value)) {
        return {
          name: 'validation_error',
          message: 'Invalid `tags` field. Tag names and values can only contain ASCII letters, numbers, underscores, or dashes.',
        };
      }
      tags.push({ name: tag.name, value: tag.value });
    }
  }
  if (inBatch && raw.attachments !== undefined && raw.attachments !== null) {
    return { name: 'validation_error', message: 'Attachments are not supported in batch sending.' };
  }
  const scheduledAt = typeof raw.scheduled_at === 'string' ? raw.scheduled_at : null;
  return {
    from: raw.from,
    to: lists.to,
    cc: lists.cc,
    bcc: lists.bcc,
    replyTo: lists.reply_to,
    subject: raw.subject,
    html: typeof html === 'string' ? html : null,
    text: typeof text === 'string' ? text : null,
    headers,
    tags,
    scheduledAt,
  };
}

/** A batch body as the light (benchmark) mode sees it: each message's `to` list, found by scanning the bytes. */
class Skimmed {
  constructor(readonly to: string[][]) {}
}

const TO_KEY = Buffer.from('"to":[');

/**
 * Each message's `"to":[…]` in a JSON batch body, without parsing it: inside a JSON string a quote is always
 * escaped, so the key can only be a real one. Addresses are plain (no escapes) in what Broadsheet sends.
 */
function skimRecipients(body: Buffer): Skimmed {
  const to: string[][] = [];
  for (let at = body.indexOf(TO_KEY); at !== -1; at = body.indexOf(TO_KEY, at)) {
    const end = body.indexOf(0x5d /* ] */, at);
    if (end === -1) break;
    const list = JSON.parse(body.toString('utf8', at + TO_KEY.length - 1, end + 1)) as unknown;
    to.push(Array.isArray(list) ? list.map(String) : []);
    at = end;
  }
  return new Skimmed(to);
}

async function readBodyBytes(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks);
}

function isFieldError(v: ValidEmail | FieldError): v is FieldError {
  return 'name' in v && 'message' in v && !('from' in v);
}

export function signSvixPayload(secret: string, id: string, timestamp: string, body: string): string {
  const key = Buffer.from(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret, 'base64');
  const signature = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
  return `v1,${signature}`;
}

export async function startFakeResend(options: FakeResendOptions = {}): Promise<FakeResend> {
  const apiKey = options.apiKey ?? `re_test_${randomBytes(12).toString('hex')}`;
  const webhookSecret = options.webhookSecret ?? `whsec_${randomBytes(24).toString('base64')}`;
  const now = options.now ?? (() => Date.now());
  const emails: FakeResendEmail[] = [];
  const requests: FakeResendRequest[] = [];
  const failures: FakeResendFailure[] = [];
  const light = options.light ?? false;
  const keepContent = !light && (options.keepContent ?? true);
  /** Resend keeps idempotency keys for 24 hours. */
  const IDEMPOTENCY_TTL_MS = 24 * 3_600_000;
  const idempotent = new Map<string, { fingerprint: string; status: number; body: unknown; at: number }>();
  const inFlight = new Set<string>();
  const faults: FakeResendFault[] = [];
  let randomFaults: { odds: Parameters<FakeResend['faultRandomly']>[0]; random: () => number } | null = null;
  const quota = { day: '', used: 0 };
  const accepted: number[] = []; // timestamps (ms) of requests counted against the rate limit (last second)
  const arrivals: number[] = []; // every such timestamp, kept for judging the limit afterwards
  let acceptedHead = 0;

  function rateState(): { limit: number; remaining: number; resetSeconds: number; limited: boolean } {
    const t = now();
    while (acceptedHead < accepted.length && (accepted[acceptedHead] ?? 0) <= t - 1000) acceptedHead++;
    if (acceptedHead > 1024) {
      accepted.splice(0, acceptedHead);
      acceptedHead = 0;
    }
    const inWindow = accepted.length - acceptedHead;
    const limit = options.ratePerSecond ?? UNLIMITED_ADVERTISED;
    const oldest = accepted[acceptedHead];
    const resetSeconds = oldest === undefined ? 1 : Math.max(1, Math.ceil((oldest + 1000 - t) / 1000));
    const limited = options.ratePerSecond !== undefined && inWindow >= options.ratePerSecond;
    return { limit, remaining: Math.max(0, limit - inWindow), resetSeconds, limited };
  }

  function rateHeaders(): Record<string, string> {
    const s = rateState();
    return {
      'ratelimit-limit': String(s.limit),
      'ratelimit-remaining': String(s.remaining),
      'ratelimit-reset': String(s.resetSeconds),
    };
  }

  function errorBody(status: number, name: FakeResendErrorName, message?: string): Record<string, unknown> {
    return { statusCode: status, message: message ?? DEFAULT_MESSAGES[name] ?? name, name };
  }

  /** Auth, an injected failure, or the rate limit: an answer decided from the headers alone (null: go on). */
  function earlyAnswer(headers: Record<string, string>): { status: number; body: unknown; extra: Record<string, string> } | null {
    // Auth. Resend answers a missing key with 401 missing_api_key. For a wrong key its errors page
    // lists `invalid_api_key` (403), but the sending endpoints have answered 401 `validation_error`
    // "API key is invalid" since 2025 (resend-node#617, current errors page); the fake does the latter.
    const auth = headers.authorization;
    if (!auth || !/^Bearer\s+\S/.test(auth)) return { status: 401, body: errorBody(401, 'missing_api_key'), extra: {} };
    if (auth.replace(/^Bearer\s+/, '') !== apiKey) return { status: 401, body: errorBody(401, 'validation_error', 'API key is invalid'), extra: {} };

    const failure = failures.shift();
    if (failure) {
      const name = failure.name ?? DEFAULT_NAMES[failure.status] ?? 'application_error';
      const extra: Record<string, string> = {};
      const retryAfter = failure.retryAfterSeconds ?? (failure.status === 429 ? 1 : undefined);
      if (retryAfter !== undefined) extra['retry-after'] = String(retryAfter);
      if (failure.status === 429) {
        extra['ratelimit-remaining'] = '0';
        extra['ratelimit-reset'] = String(retryAfter ?? 1);
      }
      return { status: failure.status, body: errorBody(failure.status, name, failure.message), extra };
    }

    const rate = rateState();
    if (rate.limited) {
      return {
        status: 429,
        body: errorBody(
          429,
          'rate_limit_exceeded',
          `Too many requests. You can only make ${rate.limit} requests per second. See rate limit response headers for more information. Or contact support to increase rate limit.`,
        ),
        extra: { 'retry-after': String(rate.resetSeconds) },
      };
    }
    accepted.push(now());
    arrivals.push(now());
    return null;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Auth, injected failures and the rate limit are decided when the request arrives (its headers), as at a
    // provider's gateway: how long the body takes to upload does not move a request into another second.
    const headers = headerRecord(req);
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const early = earlyAnswer(headers);
    const rawBytes = await readBodyBytes(req);
    const pathname = path.split('?')[0] ?? '/';
    const skim = light && !early && method === 'POST' && pathname === '/emails/batch';
    const raw = skim ? '' : rawBytes.toString('utf8');
    const parsed = skim ? skimRecipients(rawBytes) : parseJson(raw);
    const entry: FakeResendRequest = {
      method,
      path,
      headers,
      body: keepContent ? (parsed === INVALID_JSON ? raw : parsed) : undefined,
      status: 0,
      responseBody: undefined,
      responseHeaders: {},
    };
    requests.push(entry);
    const answer = (status: number, body: unknown, extra: Record<string, string> = {}): void => {
      entry.status = status;
      entry.responseBody = body;
      entry.responseHeaders = { ...rateHeaders(), ...extra };
      sendJson(res, status, body, entry.responseHeaders);
    };
    if (early) {
      answer(early.status, early.body, early.extra);
      return;
    }
    const isSend = pathname === '/emails' || pathname === '/emails/batch';
    if (isSend && method !== 'POST') {
      answer(405, errorBody(405, 'method_not_allowed'));
      return;
    }
    const getMatch = /^\/emails\/([^/]+)$/.exec(pathname);
    if (!isSend) {
      if (getMatch && method === 'GET') {
        const email = emails.find((e) => e.id === decodeURIComponent(getMatch[1] ?? ''));
        if (!email) {
          answer(404, errorBody(404, 'not_found', 'Email not found'));
          return;
        }
        answer(200, emailObject(email));
        return;
      }
      answer(404, errorBody(404, 'not_found'));
      return;
    }

    if (parsed === INVALID_JSON || parsed === undefined) {
      answer(422, errorBody(422, 'validation_error', 'The request body must be valid JSON.'));
      return;
    }

    // Idempotency (POST /emails and POST /emails/batch), 24 hours like Resend. The fingerprint is a hash of the
    // raw body, so the fake's own work stays small for 5 MB batches.
    const key = headers['idempotency-key'];
    let fingerprint = '';
    if (key !== undefined) {
      if (key.length < 1 || key.length > MAX_IDEMPOTENCY_KEY) {
        answer(400, errorBody(400, 'invalid_idempotency_key'));
        return;
      }
      if (inFlight.has(key)) {
        answer(409, errorBody(409, 'concurrent_idempotent_requests'));
        return;
      }
      fingerprint = createHash('sha256').update(pathname).update('\n').update(rawBytes).digest('base64');
      const seen = idempotent.get(key);
      if (seen && seen.at > now() - IDEMPOTENCY_TTL_MS) {
        if (seen.fingerprint !== fingerprint) {
          answer(409, errorBody(409, 'invalid_idempotent_request'));
          return;
        }
        answer(seen.status, seen.body);
        return;
      }
    }

    const count = pathname === '/emails' ? 1 : parsed instanceof Skimmed ? parsed.to.length : Array.isArray(parsed) ? parsed.length : 0;
    if (options.dailyQuota !== undefined) {
      const day = new Date(now()).toISOString().slice(0, 10);
      if (quota.day !== day) Object.assign(quota, { day, used: 0 });
      if (quota.used + count > options.dailyQuota) {
        answer(429, errorBody(429, 'daily_quota_exceeded'), { 'retry-after': String(Math.ceil((Date.parse(`${day}T00:00:00Z`) + 86_400_000 - now()) / 1000)) });
        return;
      }
    }

    const fault = faults.shift() ?? drawFault();
    if (fault?.kind === 'status') {
      answer(
        fault.status,
        errorBody(fault.status, fault.status === 429 ? 'rate_limit_exceeded' : 'internal_server_error'),
        fault.status === 429 ? { 'retry-after': '1' } : {},
      );
      return;
    }
    if (key !== undefined) inFlight.add(key);
    try {
      if (fault?.kind === 'slow') await new Promise((resolve) => setTimeout(resolve, fault.ms));
      if (fault?.kind === 'hold') {
        fault.held?.();
        await fault.until.catch(() => undefined);
      }
      const result =
        parsed instanceof Skimmed
          ? skimmedBatch(parsed, key ?? null)
          : pathname === '/emails'
            ? sendOne(parsed, key ?? null)
            : sendBatch(parsed, headers, key ?? null);
      if (result.status >= 200 && result.status < 300) {
        quota.used += count;
        if (key !== undefined) idempotent.set(key, { fingerprint, ...result, at: now() });
      }
      if (fault?.kind === 'accept-then-drop') {
        entry.status = -1;
        entry.responseBody = 'connection dropped after processing';
        res.socket?.destroy();
        return;
      }
      answer(result.status, result.body);
    } finally {
      if (key !== undefined) inFlight.delete(key);
    }
  }

  function drawFault(): FakeResendFault | { kind: 'status'; status: number } | undefined {
    if (!randomFaults) return undefined;
    const { odds, random } = randomFaults;
    const r = random();
    let edge = odds.status500 ?? 0;
    if (r < edge) return { kind: 'status', status: 500 };
    edge += odds.status429 ?? 0;
    if (r < edge) return { kind: 'status', status: 429 };
    edge += odds.acceptThenDrop ?? 0;
    if (r < edge) return { kind: 'accept-then-drop' };
    edge += odds.slow ?? 0;
    if (r < edge) return { kind: 'slow', ms: odds.slowMs ?? 2_000 };
    return undefined;
  }

  function store(valid: ValidEmail, key: string | null, endpoint: FakeResendEmail['endpoint'], index: number | null) {
    const content = keepContent ? valid : { ...valid, html: null, text: null };
    const email: FakeResendEmail = {
      id: randomUUID(),
      ...content,
      idempotencyKey: key,
      endpoint,
      batchIndex: index,
      createdAt: new Date(now()).toISOString(),
    };
    emails.push(email);
    return email;
  }

  function skimmedBatch(batch: Skimmed, key: string | null): { status: number; body: unknown } {
    if (batch.to.length === 0 || batch.to.length > MAX_BATCH) {
      return { status: 422, body: errorBody(422, 'validation_error', `A batch holds 1 to ${MAX_BATCH} emails; found ${batch.to.length}.`) };
    }
    const createdAt = new Date(now()).toISOString();
    const data = batch.to.map((to, i) => {
      const id = randomUUID();
      emails.push({
        id,
        from: '',
        to,
        cc: [],
        bcc: [],
        replyTo: [],
        subject: '',
        html: null,
        text: null,
        headers: {},
        tags: [],
        scheduledAt: null,
        idempotencyKey: key,
        endpoint: '/emails/batch',
        batchIndex: i,
        createdAt,
      });
      return { id };
    });
    return { status: 200, body: { data, errors: [] } };
  }

  function sendOne(body: unknown, key: string | null): { status: number; body: unknown } {
    const valid = validateEmail(body, false);
    if (isFieldError(valid)) return { status: 422, body: errorBody(422, valid.name, valid.message) };
    return { status: 200, body: { id: store(valid, key, '/emails', null).id } };
  }

  function sendBatch(body: unknown, headers: Record<string, string>, key: string | null): { status: number; body: unknown } {
    const mode = (headers['x-batch-validation'] ?? 'strict').toLowerCase();
    if (mode !== 'strict' && mode !== 'permissive') {
      return {
        status: 422,
        body: errorBody(422, 'validation_error', 'Invalid `x-batch-validation` header. Use `strict` or `permissive`.'),
      };
    }
    if (!Array.isArray(body) || body.length === 0) {
      return {
        status: 422,
        body: errorBody(422, 'validation_error', 'The request body must be a non-empty array of emails.'),
      };
    }
    if (body.length > MAX_BATCH) {
      return {
        status: 422,
        body: errorBody(422, 'validation_error', `Too many emails in the batch: ${body.length}. The maximum is ${MAX_BATCH}.`),
      };
    }
    const checked = body.map((item) => validateEmail(item, true));
    if (mode === 'strict') {
      const firstBad = checked.find(isFieldError);
      if (firstBad) return { status: 422, body: errorBody(422, firstBad.name, firstBad.message) };
      const data = (checked as ValidEmail[]).map((v, i) => ({ id: store(v, key, '/emails/batch', i).id }));
      return { status: 200, body: { data } };
    }
    const data: { id: string }[] = [];
    const errors: { index: number; message: string }[] = [];
    checked.forEach((v, i) => {
      if (isFieldError(v)) errors.push({ index: i, message: v.message });
      else data.push({ id: store(v, key, '/emails/batch', i).id });
    });
    return { status: 200, body: { data, errors } };
  }

  function emailObject(email: FakeResendEmail): Record<string, unknown> {
    return {
      object: 'email',
      id: email.id,
      to: email.to,
      from: email.from,
      created_at: email.createdAt,
      subject: email.subject,
      html: email.html,
      text: email.text,
      bcc: email.bcc.length ? email.bcc : null,
      cc: email.cc.length ? email.cc : null,
      reply_to: email.replyTo.length ? email.replyTo : null,
      last_event: email.scheduledAt ? 'scheduled' : 'sent',
      scheduled_at: email.scheduledAt,
      tags: email.tags,
    };
  }

  const listening = await listenOnLoopback(handle);
  // Longer than undici's keep-alive, so a client never reuses a socket the fake is closing (a spurious network error).
  listening.server.keepAliveTimeout = 65_000;

  function signWebhook(event: object, opts: SignWebhookOptions = {}): SignedWebhook {
    const id = opts.id ?? `msg_${randomBytes(16).toString('base64url')}`;
    // Real time, not the fake's clock: verifiers reject timestamps more than 5 minutes from their own clock.
    const timestamp = String(opts.timestamp ?? Math.floor(Date.now() / 1000));
    const body = JSON.stringify(event);
    return {
      headers: {
        'svix-id': id,
        'svix-timestamp': timestamp,
        'svix-signature': signSvixPayload(webhookSecret, id, timestamp, body),
      },
      body,
    };
  }

  function eventFor(emailId: string, type: FakeResendEmailEventType, extra: Record<string, unknown> = {}): FakeResendEmailEvent {
    const email = emails.find((e) => e.id === emailId);
    if (!email) throw new Error(`fake-resend: no accepted email with id ${emailId}`);
    const at = new Date(now()).toISOString();
    const data: FakeResendEmailEvent['data'] = {
      email_id: email.id,
      message_id: `<${email.id}@email.amazonses.com>`,
      created_at: email.createdAt,
      from: email.from,
      to: [...email.to],
      subject: email.subject,
    };
    if (email.tags.length > 0) data.tags = Object.fromEntries(email.tags.map((t) => [t.name, t.value]));
    switch (type) {
      case 'email.bounced':
        data.bounce = {
          message: "The recipient's email provider sent a hard bounce message, but didn't specify the reason for the hard bounce.",
          subType: 'General',
          type: 'Permanent',
        };
        break;
      case 'email.clicked':
        data.click = {
          ipAddress: '203.0.113.7',
          link: 'https://example.com/',
          timestamp: at,
          userAgent: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7)',
        };
        break;
      case 'email.failed':
        data.failed = { reason: 'reached_daily_quota' };
        break;
      case 'email.suppressed':
        data.suppressed = {
          message: 'The recipient is on the suppression list because of a previous bounce.',
          type: 'OnAccountSuppressionList',
        };
        break;
      default:
        break;
    }
    return { type, created_at: at, data: { ...data, ...extra } };
  }

  async function deliverWebhook(targetUrl: string, event: object, opts: SignWebhookOptions = {}) {
    const signed = signWebhook(event, opts);
    const response = await fetch(targetUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'Svix-Webhooks/1.0', ...signed.headers },
      body: signed.body,
    });
    return { status: response.status, body: await response.text(), signed };
  }

  return {
    url: listening.url,
    apiKey,
    webhookSecret,
    emails,
    requests,
    failNext(count: number, failure: FakeResendFailure): void {
      for (let i = 0; i < count; i += 1) failures.push({ ...failure });
    },
    faultNext(count: number, fault: FakeResendFault): void {
      for (let i = 0; i < count; i += 1) faults.push({ ...fault });
    },
    faultRandomly(odds, random = Math.random): void {
      randomFaults = { odds, random };
    },
    clearFaults(): void {
      failures.length = 0;
      faults.length = 0;
      randomFaults = null;
    },
    arrivals,
    maxInAnyWindow(windowMs = 1000): number {
      let max = 0;
      for (let i = 0, j = 0; i < arrivals.length; i++) {
        while ((arrivals[i] ?? 0) - (arrivals[j] ?? 0) >= windowMs) j++;
        max = Math.max(max, i - j + 1);
      }
      return max;
    },
    signWebhook,
    eventFor,
    deliverWebhook,
    close: () => listening.close(),
  };
}
