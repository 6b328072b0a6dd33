import { availableParallelism } from 'node:os';
import { ConfigError, loadConfig } from './config';

describe('loadConfig', () => {
  it('boots with no variables at all: embedded database, outbox, offline writer', () => {
    const config = loadConfig({});
    expect(config.database.url).toBeUndefined();
    expect(config.email.resend).toBeUndefined();
    expect(config.anthropic.apiKey).toBeUndefined();
    expect(config.server.publicUrl).toBe('http://localhost:3000');
    expect(config.email.outboxDir).toMatch(/data\/outbox$/);
    expect(config.subscribers.challenge).toEqual({ kind: 'off', powBits: 16, ttlMs: 30 * 60_000 });
  });

  it('parses feeds on two threads by default where there are two cores (one on a one-core machine), or as set', () => {
    expect(loadConfig({}).sources.parse.threads).toBe(Math.min(2, availableParallelism()));
    expect(loadConfig({ SOURCES_PARSE_THREADS: '1' }).sources.parse.threads).toBe(1);
  });

  it('treats empty strings as unset', () => {
    expect(loadConfig({ RESEND_API_KEY: '', DATABASE_URL: '' }).email.resend).toBeUndefined();
  });

  it.each([
    ['PORT', 'eighty', /PORT="eighty": expected a whole number from 0 to 65535/],
    ['NARRATIVE_FIDELITY_THRESHOLD', '2', /NARRATIVE_FIDELITY_THRESHOLD="2": expected a number from 0 to 1/],
    ['DATABASE_URL', 'mysql://x', /DATABASE_URL="mysql:\/\/x": expected a postgres:\/\//],
    ['RESEND_API_KEY', 'abc', /RESEND_API_KEY="abc": expected a Resend API key starting with re_/],
    ['PUBLIC_URL', 'ftp://x.example', /PUBLIC_URL=.*expected an http/],
    ['CRON_DELIVER', 'every minute', /CRON_DELIVER=.*cron expression/],
    ['CRON_POLL_SOURCES', '61 * * * *', /CRON_POLL_SOURCES="61 \* \* \* \*": expected a valid cron expression/],
    ['DELIVERY_BATCH_SIZE', '500', /DELIVERY_BATCH_SIZE="500": expected a whole number from 1 to 100/],
    ['SUBSCRIBE_CHALLENGE', 'captcha', /SUBSCRIBE_CHALLENGE="captcha": expected "off" \(no challenge\) or "pow"/],
    ['SUBSCRIBE_POW_BITS', '40', /SUBSCRIBE_POW_BITS="40": expected a whole number from 8 to 28/],
    ['DELIVERY_RATE_PER_SECOND', '101', /DELIVERY_RATE_PER_SECOND="101": expected a number of requests per second from 0 to 100/],
    ['DELIVERY_RATE_PER_SECOND', 'fast', /DELIVERY_RATE_PER_SECOND="fast": expected a number of requests per second from 0 to 100/],
    ['PUBLIC_CACHE_CHECK_SECONDS', '-1', /PUBLIC_CACHE_CHECK_SECONDS="-1": expected a number of seconds from 0 to 3600/],
  ])('rejects a bad %s with a message naming it', (name, value, message) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(message);
  });

  it('takes fractions for number settings, where whole-number settings refuse them', () => {
    const config = loadConfig({ DELIVERY_RATE_PER_SECOND: '0.5', PUBLIC_CACHE_CHECK_SECONDS: '1.5' });
    expect(config.email.ratePerSecond).toBe(0.5);
    expect(config.publicCache.checkSeconds).toBe(1.5);
    expect(() => loadConfig({ DELIVERY_BATCH_SIZE: '1.5' })).toThrow(/DELIVERY_BATCH_SIZE="1.5": expected a whole number/);
  });

  it('strips a trailing slash from PUBLIC_URL', () => {
    expect(loadConfig({ PUBLIC_URL: 'https://news.example.com/' }).server.publicUrl).toBe('https://news.example.com');
  });
});

describe('the config object', () => {
  it('is read-only all the way down: assignments throw instead of changing what other modules see', () => {
    const config = loadConfig({});
    expect(Object.isFrozen(config)).toBe(true);
    expect(() => {
      (config.server as { publicUrl: string }).publicUrl = 'http://evil.example';
    }).toThrow(TypeError);
    expect(() => {
      (config.email as { outboxDir: string }).outboxDir = '/tmp/elsewhere';
    }).toThrow(TypeError);
    expect(config.server.publicUrl).toBe('http://localhost:3000');
  });

  it('is a new object per call, so tests build their own instead of changing a shared one', () => {
    expect(loadConfig({ PORT: '4000' }).server.publicUrl).toBe('http://localhost:4000');
    expect(loadConfig({}).server.publicUrl).toBe('http://localhost:3000');
  });
});
