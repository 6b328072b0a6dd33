/**
 * Characters that never belong in stored text: C0 controls but tab, newline and carriage return (NUL makes
 * PostgreSQL refuse the row; ESC reaches terminals, pages and emails), DEL, C1 controls, lone UTF-16 surrogates
 * and the non-characters U+FFFE/U+FFFF.
 */
const UNWANTED = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

export function cleanText(value: string): string {
  return value.replace(UNWANTED, '');
}

/** `cleanText` on every string (keys included) of a JSON-like value, so it fits a jsonb column. */
export function cleanDeep(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return cleanText(value);
  if (depth > 32 || value === null || typeof value !== 'object') return typeof value === 'number' && !Number.isFinite(value) ? null : value;
  if (Array.isArray(value)) return value.map((v) => cleanDeep(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (v !== undefined) out[cleanText(k)] = cleanDeep(v, depth + 1);
  return out;
}
