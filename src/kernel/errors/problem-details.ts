import { STATUS_CODES } from 'node:http';
import { HttpException } from '@nestjs/common';
import { DomainError, type FieldError, ValidationError } from './domain-error';

/** The media type of every API error (RFC 9457). */
export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/**
 * RFC 9457 problem details, the one shape of every API error: `type`, `title` (the status phrase), `status`, `detail`
 * (for people), a stable `code` (for programs) and, for validation errors, `errors` per field.
 */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  errors?: FieldError[];
  [extension: string]: unknown;
}

/** Stable codes for statuses that Nest, Express or body-parser answer by themselves. */
const CODE_BY_STATUS: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  406: 'not_acceptable',
  408: 'request_timeout',
  409: 'conflict',
  410: 'gone',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  422: 'unprocessable_content',
  429: 'rate_limited',
  500: 'internal_error',
  501: 'not_implemented',
  503: 'unavailable',
};

/** What body-parser's errors (carried as `cause` of Nest's mapped HttpException) mean, without echoing the parser's text. */
const BODY_PARSER_ERRORS: Record<string, { code: string; detail: (cause: { limit?: number }) => string }> = {
  'entity.parse.failed': { code: 'malformed_body', detail: () => 'The request body could not be parsed: it is not valid JSON.' },
  'entity.too.large': {
    code: 'payload_too_large',
    detail: (cause) => `The request body is too large${cause.limit ? ` (at most ${cause.limit} bytes)` : ''}.`,
  },
  'encoding.unsupported': { code: 'unsupported_encoding', detail: () => 'The request body has an unsupported character encoding.' },
  'charset.unsupported': { code: 'unsupported_charset', detail: () => 'The request body has an unsupported charset.' },
  'parameters.too.many': { code: 'too_many_parameters', detail: () => 'The request body has too many parameters.' },
  'request.aborted': { code: 'request_aborted', detail: () => 'The request was aborted before its body arrived.' },
};

export function statusTitle(status: number): string {
  return STATUS_CODES[status] ?? 'Error';
}

/** Extensions come first: they can never overwrite the standard members. */
function problem(status: number, code: string, detail: string, extra: Partial<ProblemDetails> = {}): ProblemDetails {
  return { ...extra, type: extra.type ?? 'about:blank', title: statusTitle(status), status, detail, code };
}

/** Maps anything thrown while handling a request to a problem document. Unknown errors become a 500 that reveals nothing. */
export function toProblemDetails(exception: unknown): ProblemDetails {
  if (exception instanceof ValidationError) {
    return problem(exception.status, exception.code, exception.message, { ...exception.extensions, type: exception.type, errors: [...exception.errors] });
  }
  if (exception instanceof DomainError) return problem(exception.status, exception.code, exception.message, { ...exception.extensions, type: exception.type });
  if (exception instanceof HttpException) return fromHttpException(exception);
  return problem(500, 'internal_error', 'Something went wrong on our side.');
}

function fromHttpException(exception: HttpException): ProblemDetails {
  const status = exception.getStatus();
  const cause = exception.cause as { type?: unknown; limit?: number } | undefined;
  const parserError = typeof cause?.type === 'string' ? BODY_PARSER_ERRORS[cause.type] : undefined;
  if (parserError) return problem(status, parserError.code, parserError.detail(cause ?? {}));
  const code = CODE_BY_STATUS[status] ?? (status >= 500 ? 'internal_error' : 'http_error');
  if (status >= 500) return problem(status, code, status === 503 ? 'The service is unavailable; please try again soon.' : 'Something went wrong on our side.');
  const body = exception.getResponse();
  // Nest's own exceptions answer { statusCode, message, error }; `message` may be a list (one line per problem).
  const message = typeof body === 'string' ? body : (body as { message?: unknown }).message;
  const lines = Array.isArray(message) ? message.map(String) : typeof message === 'string' ? [message] : [];
  if (status === 404 && lines.length === 1 && /^Cannot [A-Z]+ /.test(lines[0])) return problem(404, code, 'There is nothing at this address.');
  const detail = lines.join('; ') || statusTitle(status);
  return problem(status, code, detail, Array.isArray(message) ? { errors: lines.map((line) => ({ field: '', message: line })) } : {});
}
