import escapeHtml from 'escape-html';

/**
 * HTML that this module produced itself, so it is inserted as is. Every other value interpolated into an
 * `html` template is text and gets escaped; that is the only way untrusted text reaches a page or a feed.
 */
export class SafeHtml {
  constructor(private readonly value: string) {}

  toString(): string {
    return this.value;
  }
}

/** What an `html` template accepts. `null`, `undefined` and `false` render nothing (for `cond && html\`…\``). */
export type HtmlValue = SafeHtml | string | number | null | undefined | false | readonly HtmlValue[];

/** Escapes one interpolated value for text or a quoted attribute; SafeHtml passes through, arrays are joined. */
export function escapeValue(value: HtmlValue): string {
  if (value instanceof SafeHtml) return value.toString();
  if (value === null || value === undefined || value === false) return '';
  if (Array.isArray(value)) return value.map((v: HtmlValue) => escapeValue(v)).join('');
  return escapeHtml(String(value));
}

/** Tagged template: html`<p>${untrusted}</p>` escapes every interpolation that is not already SafeHtml. */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += escapeValue(values[i]) + strings[i + 1];
  return new SafeHtml(out);
}

/** Marks one of OUR OWN constants (never data) as HTML. */
export function raw(constant: string): SafeHtml {
  return new SafeHtml(constant);
}

/** Joins fragments with a separator that is itself escaped unless SafeHtml. */
export function join(items: readonly HtmlValue[], separator: HtmlValue): SafeHtml {
  return new SafeHtml(items.map((item) => escapeValue(item)).join(escapeValue(separator)));
}

/**
 * Returns the URL, normalised, when it is absolute http(s); otherwise null, so the caller renders no link.
 * Records come from the open web: `javascript:`, `data:` and relative URLs must never become an href.
 */
export function httpUrl(value: string | null | undefined): string | null {
  if (!value) return null;
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    return null;
  }
  return url.protocol === 'http:' || url.protocol === 'https:' ? url.toString() : null;
}

/** A date as the workspace shows it: `2026-12-01 13:42 UTC`, or a dash when there is none. */
export function when(date: Date | null | undefined): string {
  return date ? new Date(date).toISOString().replace('T', ' ').slice(0, 16) + ' UTC' : '—';
}
