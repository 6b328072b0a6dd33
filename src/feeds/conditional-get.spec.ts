import { isNotModified, strongEtag, toHttpDate } from './conditional-get';

describe('strongEtag', () => {
  it('is a quoted, strong tag that depends on every byte of the body', () => {
    const tag = strongEtag('<rss/>');
    expect(tag).toMatch(/^"[A-Za-z0-9_-]{32}"$/);
    expect(strongEtag('<rss/>')).toBe(tag);
    expect(strongEtag('<rss />')).not.toBe(tag);
  });
});

describe('toHttpDate', () => {
  it('writes an IMF-fixdate with whole seconds', () => {
    expect(toHttpDate(new Date('2026-11-16T09:30:15.987Z'))).toBe('Mon, 16 Nov 2026 09:30:15 GMT');
  });
});

describe('isNotModified', () => {
  const etag = '"abc123"';
  const lastModified = new Date('2026-11-16T09:30:15.987Z');
  const validators = { etag, lastModified };

  it('is false for an unconditional request', () => {
    expect(isNotModified({}, validators)).toBe(false);
  });

  it('matches If-None-Match against the ETag, in lists, with or without W/, and for *', () => {
    expect(isNotModified({ ifNoneMatch: '"abc123"' }, validators)).toBe(true);
    expect(isNotModified({ ifNoneMatch: '"zzz", "abc123"' }, validators)).toBe(true);
    expect(isNotModified({ ifNoneMatch: 'W/"abc123"' }, validators)).toBe(true);
    expect(isNotModified({ ifNoneMatch: '*' }, validators)).toBe(true);
    expect(isNotModified({ ifNoneMatch: '"abc12"' }, validators)).toBe(false);
    expect(isNotModified({ ifNoneMatch: 'abc123' }, validators)).toBe(false);
  });

  it('lets If-None-Match decide over If-Modified-Since', () => {
    const future = 'Tue, 01 Dec 2026 00:00:00 GMT';
    expect(isNotModified({ ifNoneMatch: '"old"', ifModifiedSince: future }, validators)).toBe(false);
    expect(isNotModified({ ifNoneMatch: etag, ifModifiedSince: 'Thu, 01 Jan 1970 00:00:00 GMT' }, validators)).toBe(true);
  });

  it('answers 304 to an If-Modified-Since that is not older than the last change, to the second', () => {
    expect(isNotModified({ ifModifiedSince: 'Mon, 16 Nov 2026 09:30:15 GMT' }, validators)).toBe(true);
    expect(isNotModified({ ifModifiedSince: 'Mon, 16 Nov 2026 10:00:00 GMT' }, validators)).toBe(true);
    expect(isNotModified({ ifModifiedSince: 'Mon, 16 Nov 2026 09:30:14 GMT' }, validators)).toBe(false);
  });

  it('ignores an unparseable If-Modified-Since, and one for a resource without a date', () => {
    expect(isNotModified({ ifModifiedSince: 'yesterday-ish' }, validators)).toBe(false);
    expect(isNotModified({ ifModifiedSince: 'Mon, 16 Nov 2026 10:00:00 GMT' }, { etag, lastModified: null })).toBe(false);
  });
});
