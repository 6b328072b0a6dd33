/**
 * Domain errors carry a stable code for programs and a message for people; the HTTP filter maps them once.
 * `status` is the HTTP status the filter answers with.
 */
export abstract class DomainError extends Error {
  abstract readonly code: string;
  abstract readonly status: number;
  constructor(message: string, readonly details?: Record<string, unknown>) {
    super(message);
    this.name = new.target.name;
  }
}

export class NotFoundError extends DomainError {
  readonly code: string = 'not_found';
  readonly status: number = 404;
}

export class ValidationError extends DomainError {
  readonly code: string = 'validation_failed';
  readonly status: number = 400;
}

export class ConflictError extends DomainError {
  readonly code: string = 'conflict';
  readonly status: number = 409;
}

export class UnavailableError extends DomainError {
  readonly code: string = 'unavailable';
  readonly status: number = 503;
}
