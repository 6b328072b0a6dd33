import { Catch, Inject, Logger, Optional, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import escapeHtml from 'escape-html';
import { type Request, type Response } from 'express';
import { ErrorPages } from './error-pages.port';
import { PROBLEM_CONTENT_TYPE, toProblemDetails } from './problem-details';

/** Paths that are for programs only: they always answer problem+json, whatever the Accept header says. */
const PROGRAM_PATHS = /^\/(api(\/|$)|health$|metrics$)/;

/**
 * The one place where errors become HTTP answers: RFC 9457 problem details (`application/problem+json`) for
 * programs, for domain errors, Nest's HttpExceptions (an unknown route, body-parser's 400 and 413) and validation
 * errors alike. A person whose browser asks for HTML (outside `/api`, `/health`, `/metrics`) gets the site's error
 * page with the same status instead. Errors that are not ours are logged and answered with a 500 that reveals nothing.
 */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  constructor(@Optional() @Inject(ErrorPages) private readonly pages?: ErrorPages) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<Request>();
    const response = http.getResponse<Response>();
    const problem = toProblemDetails(exception);
    if (problem.status >= 500 && problem.code === 'internal_error') {
      this.logger.error(exception instanceof Error ? (exception.stack ?? exception.message) : String(exception));
    }
    if (response.headersSent) {
      // Too late for an answer of our own: end what was started.
      response.end();
      return;
    }
    response.status(problem.status).set('Cache-Control', 'no-store');
    if (wantsHtml(request)) {
      response.type('text/html; charset=utf-8').send(this.page(problem));
      return;
    }
    response.type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(problem));
  }

  private page(problem: { status: number; title: string; detail: string }): string {
    if (this.pages) return this.pages.render(problem);
    return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(problem.title)}</title></head><body><h1>${escapeHtml(problem.title)}</h1><p>${escapeHtml(problem.detail)}</p><p><a href="/">Home</a></p></body></html>`;
  }
}

/** A browser's navigation prefers HTML; curl (`*\/*`), fetch() with JSON and API clients get problem+json. */
function wantsHtml(request: Request): boolean {
  if (PROGRAM_PATHS.test(request.path)) return false;
  return request.accepts([PROBLEM_CONTENT_TYPE, 'json', 'html']) === 'html';
}
