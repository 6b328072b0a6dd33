import { type z } from 'zod';
import { type FieldError, ValidationError } from './domain-error';

/**
 * Validates `value` (a request body, query or parameter) with a zod schema and returns the parsed value, or throws a
 * ValidationError listing every invalid field, which the filter answers as a 400 problem document.
 */
export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, options: { detail?: string } = {}): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const errors: FieldError[] = parsed.error.issues.map((issue) => ({ field: issue.path.map(String).join('.'), message: issue.message }));
  const detail = options.detail ?? `The request is not valid: ${errors.map((e) => (e.field ? `${e.field}: ${e.message}` : e.message)).join('; ')}.`;
  throw new ValidationError(detail, errors);
}
