import escapeHtml from 'escape-html';

/** HTML this module produced itself; every other value interpolated into `html` is escaped as text. */
export class SafeHtml {
  constructor(private readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

export type HtmlValue = SafeHtml | string | number | null | undefined | false | readonly HtmlValue[];

function escapeValue(value: HtmlValue): string {
  if (value instanceof SafeHtml) return value.toString();
  if (value === null || value === undefined || value === false) return '';
  if (Array.isArray(value)) return value.map((v: HtmlValue) => escapeValue(v)).join('');
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += escapeValue(values[i]) + strings[i + 1];
  return new SafeHtml(out);
}

export function when(date: Date | null | undefined): string {
  return date ? new Date(date).toISOString().replace('T', ' ').slice(0, 16) + ' UTC' : '—';
}

/** Marks one of OUR OWN constants (never data) as HTML. */
export function raw(constant: string): SafeHtml {
  return new SafeHtml(constant);
}
