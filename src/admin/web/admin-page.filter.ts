import { Catch, HttpException, Inject, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { type Response } from 'express';
import { APP_CONFIG } from '../../kernel/config/config.module';
import { type AppConfig } from '../../kernel/config/config';
import { DomainError } from '../../kernel/errors/domain-error';
import { type AdminRequest } from '../auth/auth.decorators';
import { TooManyAttemptsError } from '../auth/auth-errors';
import { html } from '../../kernel/web/html';
import { layout, sendPage } from './layout';
import { loginForm } from './login-pages';

/** Workspace pages answer errors with pages: 401 is the sign-in form, the rest say what went wrong. */
@Catch()
export class AdminPageFilter implements ExceptionFilter {
  private readonly logger = new Logger('Admin');

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const req = host.switchToHttp().getRequest<AdminRequest>();
    const res = host.switchToHttp().getResponse<Response>();
    const siteTitle = this.config.site.title;
    let status = 500;
    let message = 'Something went wrong on our side. The error was logged.';
    if (exception instanceof DomainError) {
      status = exception.status;
      message = exception.message;
    } else if (exception instanceof HttpException) {
      status = exception.getStatus();
      message = status === 404 ? 'There is nothing at this address.' : exception.message;
    } else {
      this.logger.error(exception instanceof Error ? (exception.stack ?? exception.message) : String(exception));
    }
    if (status === 401) {
      const next = req.method === 'GET' ? req.originalUrl : '/admin';
      sendPage(res, 401, loginForm({ siteTitle, next, error: message }));
      return;
    }
    if (exception instanceof TooManyAttemptsError) res.set('Retry-After', String(Math.max(1, Math.ceil((exception.retryAt.getTime() - Date.now()) / 1000))));
    const title =
      status === 403
        ? 'Not allowed'
        : status === 404
          ? 'Not found'
          : status === 429
            ? 'Too many attempts'
            : status >= 500
              ? 'Something went wrong'
              : 'That did not work';
    const back = req.get('referer');
    sendPage(
      res,
      status,
      layout({
        title,
        actor: req.actor ?? null,
        siteTitle,
        error: message,
        body: html`<p><a href="${back && back.startsWith(this.config.server.publicUrl) ? back : '/admin'}">Go back</a></p>`,
      }),
    );
  }
}
