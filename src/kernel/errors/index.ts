export { ConflictError, DomainError, type FieldError, NotFoundError, UnavailableError, ValidationError } from './domain-error';
export { ErrorPages } from './error-pages.port';
export { parseOrThrow } from './parse-or-throw';
export { PROBLEM_CONTENT_TYPE, type ProblemDetails, toProblemDetails } from './problem-details';
export { ProblemDetailsFilter } from './problem-details.filter';
