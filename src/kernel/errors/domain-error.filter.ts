import { Catch, HttpException, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { type Request, type Response } from 'express';
import { DomainError } from './domain-error';

const NOT_FOUND_PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Page not found</title>
<style>body{font:18px/1.5 Georgia,serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#1d1d1b;background:#fbf8f2}a{color:#8a2b0f}</style></head>
<body><h1>Page not found</h1><p>There is nothing at this address. <a href="/">Read the latest stories</a>.</p></body></html>`;

/** Maps domain errors to HTTP once: `{ error: { code, message } }` with the error's status. */
@Catch()
export class DomainErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    if (exception instanceof DomainError) {
      response.status(exception.status).json({ error: { code: exception.code, message: exception.message } });
      return;
    }
    if (exception instanceof HttpException) {
      const request = host.switchToHttp().getRequest<Request>();
      // A person who followed a bad link gets a page, a program gets JSON.
      if (exception.getStatus() === 404 && request.method === 'GET' && request.accepts(['json', 'html']) === 'html') {
        response.status(404).type('html').send(NOT_FOUND_PAGE);
        return;
      }
      const body = exception.getResponse();
      response.status(exception.getStatus()).json(typeof body === 'string' ? { error: { code: 'http_error', message: body } } : body);
      return;
    }
    this.logger.error(exception instanceof Error ? (exception.stack ?? exception.message) : String(exception));
    response.status(500).json({ error: { code: 'internal_error', message: 'Something went wrong on our side.' } });
  }
}
