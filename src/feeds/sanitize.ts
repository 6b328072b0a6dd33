import sanitizeHtml from 'sanitize-html';

/**
 * The HTML a feed carries, passed through sanitize-html (a well-kept allowlist sanitizer) on top of the escaping
 * our templates already do: if a template ever let untrusted markup through, feeds would still carry no script,
 * style, event handler, iframe or non-http(s) link. Only the elements our story and issue bodies use survive.
 */
const OPTIONS: sanitizeHtml.IOptions = {
  allowedTags: ['p', 'a', 'sup', 'ol', 'ul', 'li', 'section', 'article', 'div', 'span', 'h2', 'h3', 'br', 'time', 'strong', 'em', 'blockquote'],
  allowedAttributes: {
    a: ['href', 'rel'],
    li: ['id', 'value'],
    h2: ['id'],
    time: ['datetime'],
    section: ['aria-labelledby'],
    '*': ['class'],
  },
  allowedSchemes: ['http', 'https', 'mailto'],
  allowedSchemesAppliedToAttributes: ['href'],
  allowProtocolRelative: false,
  disallowedTagsMode: 'discard',
};

export function sanitizeContent(html: string): string {
  return sanitizeHtml(html, OPTIONS);
}
