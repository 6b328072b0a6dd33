import { createHash } from 'node:crypto';

export interface Validators {
  /** A strong entity tag, quotes included. */
  etag: string;
  lastModified: Date | null;
}

export interface ConditionalHeaders {
  ifNoneMatch?: string | string[];
  ifModifiedSince?: string | string[];
}

/** A strong ETag: a hash of the exact bytes sent. */
export function strongEtag(body: string | Buffer): string {
  return `"${createHash('sha256').update(body).digest('base64url').slice(0, 32)}"`;
}

/** HTTP dates have whole seconds. */
export function toHttpDate(date: Date): string {
  return new Date(Math.floor(date.getTime() / 1000) * 1000).toUTCString();
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

/** Opaque tags of an If-None-Match list; weak tags count (GET uses the weak comparison, RFC 9110 §13.1.2). */
function parseEntityTags(header: string): string[] {
  return header
    .split(',')
    .map((tag) => tag.trim().replace(/^W\//, ''))
    .filter(Boolean);
}

/**
 * True when a GET may be answered 304 Not Modified (RFC 9110 §13.2.2): If-None-Match decides when present
 * (`*` or a matching tag); otherwise If-Modified-Since when the resource has not changed since that date.
 */
export function isNotModified(request: ConditionalHeaders, validators: Validators): boolean {
  const ifNoneMatch = headerValue(request.ifNoneMatch);
  if (ifNoneMatch !== undefined && ifNoneMatch.trim() !== '') {
    const tags = parseEntityTags(ifNoneMatch);
    const own = validators.etag.replace(/^W\//, '');
    return tags.includes('*') || tags.includes(own);
  }
  const ifModifiedSince = headerValue(request.ifModifiedSince);
  if (ifModifiedSince === undefined || !validators.lastModified) return false;
  const since = Date.parse(ifModifiedSince);
  if (Number.isNaN(since)) return false;
  const modified = Math.floor(validators.lastModified.getTime() / 1000) * 1000;
  return modified <= since;
}
