import { DomainError } from '../errors/domain-error';

export interface FetchRequest {
  url: string;
  /** Extra request headers (Accept, …). */
  headers?: Record<string, string>;
  /** Conditional GET: the validators of the last response. */
  etag?: string | null;
  lastModified?: string | null;
  /** A lower cap than the configured one for this request. */
  maxBytes?: number;
}

export interface FetchResponse {
  status: number;
  /** 304: nothing changed since the validators sent; `body` is empty. */
  notModified: boolean;
  /** Where the content finally came from (after redirects); never to be saved as the source's address. */
  finalUrl: string;
  redirects: number;
  contentType: string | null;
  etag: string | null;
  lastModified: string | null;
  /** Seconds from a Retry-After header (delta or HTTP date), when the server sent one. */
  retryAfterSeconds: number | null;
  body: Buffer;
  elapsedMs: number;
}

/** The address or URL is not one Broadsheet may fetch (invariant 4). */
export class FetchRefusedError extends DomainError {
  readonly code: string = 'fetch_refused';
  readonly status: number = 422;
}

/** The fetch was allowed but did not succeed: unreachable, too slow, too big, or an HTTP error. */
export class FetchFailedError extends DomainError {
  readonly code: string = 'fetch_failed';
  readonly status: number = 502;
  constructor(
    message: string,
    readonly httpStatus: number | null = null,
    readonly retryAfterSeconds: number | null = null,
  ) {
    super(message, { httpStatus, retryAfterSeconds });
  }
}

/**
 * The only way Broadsheet reaches the network for content: http(s) only, every resolved address vetted and the
 * connection pinned to it, redirects re-checked and capped, size and time capped.
 */
export abstract class HttpFetcher {
  abstract fetch(request: FetchRequest): Promise<FetchResponse>;
}
