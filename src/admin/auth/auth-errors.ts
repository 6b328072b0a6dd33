import { DomainError } from '../../kernel/errors/domain-error';

/** No credentials, or credentials that are unknown, expired or revoked. */
export class UnauthenticatedError extends DomainError {
  readonly code: string = 'unauthenticated';
  readonly status: number = 401;
}

/** Signed in, but the role may not do this. */
export class ForbiddenError extends DomainError {
  readonly code: string = 'forbidden';
  readonly status: number = 403;
}

/** A cookie-authenticated change without the session's CSRF token (or with a wrong one). */
export class CsrfError extends DomainError {
  readonly code: string = 'csrf_failed';
  readonly status: number = 403;
}

export class TooManyAttemptsError extends DomainError {
  readonly code: string = 'rate_limited';
  readonly status: number = 429;
  constructor(
    message: string,
    readonly retryAt: Date,
  ) {
    super(message, { retryAt: retryAt.toISOString() });
  }
}
