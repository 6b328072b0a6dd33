/** Query parameters that only track the click, never change the page. */
const TRACKING = /^(utm_[a-z_]+|fbclid|gclid|mc_cid|mc_eid|ref|ref_src|ref_url|igshid|share_id|si)$/i;

/**
 * A stable form of a URL for deduplication: lower-case scheme and host, no default port, no fragment, no
 * tracking parameters, remaining parameters sorted, no trailing slash (except the root). Null if not http(s).
 */
export function canonicalUrl(input: string): string | null {
  let url: URL;
  try {
    url = new URL(input.trim());
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  url.hash = '';
  url.username = '';
  url.password = '';
  if (url.hostname.startsWith('www.')) url.hostname = url.hostname.slice(4);
  if (url.hostname === 'old.reddit.com') url.hostname = 'reddit.com';
  const params = [...url.searchParams.entries()].filter(([key]) => !TRACKING.test(key));
  params.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  url.search = new URLSearchParams(params).toString();
  let result = url.toString();
  if (url.pathname.length > 1 && url.pathname.endsWith('/')) {
    result = result.replace(/\/(\?|$)/, '$1');
  }
  // http and https copies of one page are one page.
  return result.replace(/^http:/, 'https:');
}
