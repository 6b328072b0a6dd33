/**
 * Domain errors carry a stable code for programs and a message for people; the HTTP filter maps them once, to
 * RFC 9457 problem details (see problem-details.ts). `status` is the HTTP status the filter answers with.
 */
export abstract class DomainError extends Error {
  abstract readonly code: string;
  abstract readonly status: number;
  /** A URI naming the problem type; `about:blank` (the status is the whole story, `code` says the rest) by default. */
  readonly type: string = 'about:blank';
  /** Extra members of the problem document (RFC 9457 extensions), e.g. which dependency failed. Never secrets. */
  readonly extensions?: Record<string, unknown>;
  constructor(
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** One invalid field of a request: `field` is the dotted path in the input (`beats.0`), or `''` for the whole input. */
export interface FieldError {
  field: string;
  message: string;
}

export class NotFoundError extends DomainError {
  readonly code: string = 'not_found';
  readonly status: number = 404;
}

/** Bad input: 400 with the problem of each field in `errors` (the problem document's `errors` member). */
export class ValidationError extends DomainError {
  readonly code: string = 'validation_failed';
  readonly status: number = 400;
  constructor(
    message: string,
    readonly errors: readonly FieldError[] = [],
    details?: Record<string, unknown>,
  ) {
    super(message, details);
  }
}

export class ConflictError extends DomainError {
  readonly code: string = 'conflict';
  readonly status: number = 409;
}

export class UnavailableError extends DomainError {
  readonly code: string = 'unavailable';
  readonly status: number = 503;
}
