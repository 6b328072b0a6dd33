import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { Resolver as DnsResolver } from 'node:dns/promises';
import { isIP, type LookupFunction } from 'node:net';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { type Readable } from 'node:stream';
import { Agent, request } from 'undici';
import { addressRefusal, parseAllowlist, type Allowlist } from './address-policy';
import { FetchFailedError, FetchRefusedError, HttpFetcher, type FetchRequest, type FetchResponse } from './http-fetcher.port';

/** Resolves a host name to every address it has (replaceable in tests to play a hostile DNS server). */
export type Resolver = (hostname: string) => Promise<LookupAddress[]>;

export interface SafeHttpFetcherOptions {
  allowlist: string[];
  maxBytes: number;
  timeoutMs: number;
  maxRedirects: number;
  userAgent: string;
  resolver?: Resolver;
  /** DNS servers to ask instead of the system's (IP[:port]); ignored when `resolver` is given. */
  dnsServers?: string[];
}

const systemResolver: Resolver = (hostname) =>
  new Promise((resolve, reject) => dnsLookup(hostname, { all: true, verbatim: true }, (error, addresses) => (error ? reject(error) : resolve(addresses))));

/** Asks the given DNS servers for A and AAAA records (a host with either is resolved). */
export function dnsServerResolver(servers: string[]): Resolver {
  const dns = new DnsResolver({ timeout: 3000, tries: 2 });
  dns.setServers(servers);
  return async (hostname) => {
    const [v4, v6] = await Promise.allSettled([dns.resolve4(hostname), dns.resolve6(hostname)]);
    const addresses: LookupAddress[] = [
      ...(v4.status === 'fulfilled' ? v4.value.map((address) => ({ address, family: 4 })) : []),
      ...(v6.status === 'fulfilled' ? v6.value.map((address) => ({ address, family: 6 })) : []),
    ];
    if (addresses.length === 0)
      throw (v4.status === 'rejected' ? v4.reason : null) ?? Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' });
    return addresses;
  };
}

class RefusedAddress extends Error {
  readonly code = 'EBROADSHEETREFUSED';
}

/**
 * The safe fetcher (DESIGN.md invariant 4), on undici. The check is in the connection itself: the Agent's
 * `connect.lookup` resolves the host, vets every address, and hands the socket only vetted addresses, so there
 * is no second resolution a rebinding DNS server could answer differently. IP-literal hosts (which sockets
 * never look up) are vetted before the request. Redirects are followed by hand, each hop vetted again.
 */
export class SafeHttpFetcher extends HttpFetcher {
  private readonly allowlist: Allowlist;
  private readonly resolver: Resolver;
  private readonly agent: Agent;

  constructor(private readonly options: SafeHttpFetcherOptions) {
    super();
    this.allowlist = parseAllowlist(options.allowlist);
    this.resolver = options.resolver ?? (options.dnsServers?.length ? dnsServerResolver(options.dnsServers) : systemResolver);
    const vettedLookup: LookupFunction = (hostname, lookupOptions, callback) => {
      this.vettedAddresses(hostname).then(
        (addresses) => {
          const family = (lookupOptions as { family?: number | string }).family;
          const wanted =
            family === 4 || family === 'IPv4'
              ? addresses.filter((a) => a.family === 4)
              : family === 6 || family === 'IPv6'
                ? addresses.filter((a) => a.family === 6)
                : addresses;
          if (wanted.length === 0) return callback(Object.assign(new Error(`${hostname} has no usable address`), { code: 'ENOTFOUND' }), '', 4);
          if ((lookupOptions as { all?: boolean }).all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, wanted);
          callback(null, wanted[0].address, wanted[0].family);
        },
        (error: Error) => callback(error as NodeJS.ErrnoException, '', 4),
      );
    };
    this.agent = new Agent({
      connect: { lookup: vettedLookup, timeout: Math.min(10_000, options.timeoutMs) },
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      keepAliveTimeout: 4_000,
      connections: 8,
    });
  }

  /** Every address of a host, checked; refused when any answer is not a public address. */
  private async vettedAddresses(hostname: string): Promise<LookupAddress[]> {
    const host = hostname.toLowerCase();
    let addresses: LookupAddress[];
    try {
      addresses = await this.resolver(host);
    } catch (error) {
      throw Object.assign(new Error(`${host} could not be resolved (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`), {
        code: 'ENOTFOUND',
      });
    }
    if (this.allowlist.hosts.has(host)) return addresses;
    for (const { address } of addresses) {
      const refusal = addressRefusal(address, this.allowlist);
      // One private answer refuses the host: a name that mixes public and internal answers is not to be trusted.
      if (refusal) throw new RefusedAddress(`${host} resolves to a refused address: ${refusal}`);
    }
    return addresses;
  }

  /** The URL's own checks: scheme, credentials, and (for IP-literal hosts) the address. */
  private checkUrl(raw: string): URL {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new FetchRefusedError(`"${raw.slice(0, 200)}" is not a valid URL`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw new FetchRefusedError(`only http and https URLs may be fetched, not ${url.protocol.replace(/:$/, '')}:`);
    if (url.username || url.password) throw new FetchRefusedError('URLs with a user name or password are not fetched');
    // WHATWG URL parsing has already turned decimal, octal and hex IPv4 forms (2130706433, 0177.0.0.1, 0x7f.1) into dotted quads.
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (isIP(host) && !this.allowlist.hosts.has(host)) {
      const refusal = addressRefusal(host, this.allowlist);
      if (refusal) throw new FetchRefusedError(`${url.host}: ${refusal}`);
    }
    if (!host || host === 'localhost' || host.endsWith('.localhost')) {
      if (!this.allowlist.hosts.has(host)) throw new FetchRefusedError(`${host || 'an empty host'} is this machine`);
    }
    return url;
  }

  async fetch(req: FetchRequest): Promise<FetchResponse> {
    const started = Date.now();
    const maxBytes = Math.min(req.maxBytes ?? this.options.maxBytes, this.options.maxBytes);
    const signal = AbortSignal.timeout(this.options.timeoutMs);
    let url = this.checkUrl(req.url);
    const origin = url.origin;
    for (let hop = 0; ; hop++) {
      const headers: Record<string, string> = {
        'user-agent': this.options.userAgent,
        accept: 'application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9, application/xml;q=0.9, text/xml;q=0.8, */*;q=0.5',
        'accept-encoding': 'gzip, deflate, br',
        ...req.headers,
      };
      // Validators belong to the original address only.
      if (url.origin === origin && req.etag) headers['if-none-match'] = req.etag;
      if (url.origin === origin && req.lastModified) headers['if-modified-since'] = req.lastModified;
      let response: Awaited<ReturnType<typeof request>>;
      try {
        response = await request(url, { method: 'GET', headers, dispatcher: this.agent, signal });
      } catch (error) {
        throw this.failure(error, url, signal);
      }
      const { statusCode } = response;
      const header = (name: string): string | null => {
        const value = response.headers[name];
        return Array.isArray(value) ? (value[0] ?? null) : (value ?? null);
      };
      if (statusCode >= 300 && statusCode < 400 && statusCode !== 304 && header('location')) {
        await response.body.dump().catch(() => undefined);
        if (hop >= this.options.maxRedirects) throw new FetchFailedError(`more than ${this.options.maxRedirects} redirects`, statusCode);
        let next: string;
        try {
          next = new URL(header('location') as string, url).toString();
        } catch {
          throw new FetchFailedError(`the server redirected to an invalid address`, statusCode);
        }
        try {
          url = this.checkUrl(next);
        } catch (error) {
          throw new FetchRefusedError(`redirected to a refused address: ${(error as Error).message}`);
        }
        continue;
      }
      const retryAfterSeconds = parseRetryAfter(header('retry-after'));
      const base = {
        status: statusCode,
        finalUrl: url.toString(),
        redirects: hop,
        contentType: header('content-type'),
        etag: header('etag'),
        lastModified: header('last-modified'),
        retryAfterSeconds,
      };
      if (statusCode === 304) {
        await response.body.dump().catch(() => undefined);
        return { ...base, notModified: true, body: Buffer.alloc(0), elapsedMs: Date.now() - started };
      }
      if (statusCode < 200 || statusCode >= 300) {
        await response.body.dump().catch(() => undefined);
        throw new FetchFailedError(
          `the server answered ${statusCode}${statusCode === 429 ? ' (too many requests)' : statusCode === 403 ? ' (forbidden)' : statusCode === 404 ? ' (not found)' : statusCode >= 500 ? ' (server error)' : ''}`,
          statusCode,
          retryAfterSeconds,
        );
      }
      const declared = Number(header('content-length'));
      const encoding = (header('content-encoding') ?? 'identity').toLowerCase().trim();
      if (encoding === 'identity' && Number.isFinite(declared) && declared > maxBytes) {
        response.body.destroy();
        throw new FetchFailedError(`the response is ${declared} bytes, over the ${maxBytes}-byte limit`, statusCode);
      }
      const body = await readCapped(response.body, encoding, maxBytes, signal, encoding === 'identity' && Number.isFinite(declared) ? declared : null).catch(
        (error: Error) => {
          response.body.destroy();
          throw error instanceof FetchFailedError ? error : this.failure(error, url, signal);
        },
      );
      return { ...base, notModified: false, body, elapsedMs: Date.now() - started };
    }
  }

  private failure(error: unknown, url: URL, signal: AbortSignal): Error {
    const e = error as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
    const cause = e.cause ?? e;
    if (cause instanceof RefusedAddress || e instanceof RefusedAddress) return new FetchRefusedError(cause.message);
    if (signal.aborted || e.name === 'AbortError' || e.name === 'TimeoutError' || /Timeout/.test(e.code ?? '') || /timeout/i.test(cause.code ?? '')) {
      return new FetchFailedError(`no complete answer from ${url.host} within ${Math.round(this.options.timeoutMs / 1000)} s`);
    }
    const code = cause.code ?? e.code;
    if (code === 'ENOTFOUND') return new FetchFailedError(cause.message.includes('resolved') ? cause.message : `${url.hostname} could not be resolved`);
    if (code === 'ECONNREFUSED') return new FetchFailedError(`${url.host} refused the connection`);
    if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return new FetchFailedError(`${url.host} closed the connection`);
    if (code && /CERT|SSL|TLS/.test(code)) return new FetchFailedError(`${url.host} has an invalid TLS certificate (${code})`);
    return new FetchFailedError(`${url.host} could not be reached (${code ?? cause.message})`);
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}

/** Reads a body, decompressing it, and stops as soon as the decompressed size passes the cap (no zip bombs). */
async function readCapped(body: Readable, encoding: string, maxBytes: number, signal: AbortSignal, sizeHint: number | null): Promise<Buffer> {
  const chain = encoding
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e && e !== 'identity');
  let stream: Readable = body;
  for (const step of chain.reverse()) {
    const decoder =
      step === 'gzip' || step === 'x-gzip' ? createGunzip() : step === 'deflate' ? createInflate() : step === 'br' ? createBrotliDecompress() : null;
    if (!decoder) throw new FetchFailedError(`unsupported content encoding "${step}"`);
    stream = stream.pipe(decoder);
  }
  // One buffer of our own, grown by doubling (sized from Content-Length when it is declared): no concat of a
  // 20 MB body in one go on the event loop, and an ArrayBuffer that is never a slice of Node's shared pool, so the
  // parser can take it to its worker thread without a copy.
  let buffer = new Uint8Array(new ArrayBuffer(Math.max(16 * 1024, Math.min(sizeHint ?? 0, maxBytes))));
  let total = 0;
  try {
    for await (const chunk of stream) {
      if (signal.aborted) throw new FetchFailedError('the response took too long');
      const piece = chunk as Buffer;
      if (total + piece.length > maxBytes)
        throw new FetchFailedError(`the response is over the ${maxBytes}-byte limit${chain.length ? ' once decompressed' : ''}`);
      if (total + piece.length > buffer.length) {
        const grown = new Uint8Array(new ArrayBuffer(Math.min(maxBytes, Math.max(buffer.length * 2, total + piece.length))));
        grown.set(buffer.subarray(0, total));
        buffer = grown;
      }
      buffer.set(piece, total);
      total += piece.length;
    }
  } catch (error) {
    stream.destroy();
    body.destroy();
    if (error instanceof FetchFailedError) throw error;
    if ((error as NodeJS.ErrnoException).code?.startsWith('Z_'))
      throw new FetchFailedError(`the compressed response is corrupt (${(error as NodeJS.ErrnoException).code})`);
    throw error;
  }
  return Buffer.from(buffer.buffer, 0, total);
}

/** Retry-After as seconds: a delay in seconds or an HTTP date; null when absent or unreadable. */
export function parseRetryAfter(value: string | null): number | null {
  if (!value) return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}
