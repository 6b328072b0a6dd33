import { canonicalUrl } from './canonical-url';

describe('canonicalUrl', () => {
  it('drops tracking parameters, fragments, www and trailing slashes, and sorts the rest', () => {
    expect(canonicalUrl('https://www.Example.com/a/b/?utm_source=rss&b=2&a=1#top')).toBe('https://example.com/a/b?a=1&b=2');
  });
  it('treats http and https copies as one page', () => {
    expect(canonicalUrl('http://example.com/x')).toBe(canonicalUrl('https://example.com/x'));
  });
  it('keeps meaningful parameters', () => {
    expect(canonicalUrl('https://news.ycombinator.com/item?id=42')).toBe('https://news.ycombinator.com/item?id=42');
  });
  it.each(['javascript:alert(1)', 'file:///etc/passwd', 'not a url', ''])('rejects %p', (input) => {
    expect(canonicalUrl(input)).toBeNull();
  });
});
