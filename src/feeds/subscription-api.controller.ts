import { Body, Controller, Inject, Logger, Post, Req, Res } from '@nestjs/common';
import { type Request, type Response } from 'express';
import { type AppConfig } from '../kernel/config/config';
import { APP_CONFIG } from '../kernel/config/config.module';
import { DomainError } from '../kernel/errors/domain-error';
import { RateLimitedError } from '../subscribers/rate-limiter';
import { EmailTypoError, InvalidEmailError, InvalidPreferencesError, SubscribersService } from '../subscribers/subscribers.service';
import { crossSiteRefusal } from './cross-site';
import { subscribeFormText } from './pages/subscription-pages';
import { siteInfo } from './pages/views';

interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  errors?: Record<string, string>;
  [extra: string]: unknown;
}

/**
 * `POST /api/v1/public/subscribe` `{ "email", "name"?, "beats"?, "acceptTypo"? }`: the same double opt-in as the
 * form, answering `202 { "status": "check-inbox" }` whatever the address's state; errors are RFC 9457
 * problem details (`application/problem+json`).
 */
@Controller('api/v1/public')
export class SubscriptionApiController {
  private readonly logger = new Logger(SubscriptionApiController.name);

  constructor(
    private readonly subscribers: SubscribersService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Post('subscribe')
  async subscribe(@Body() body: unknown, @Req() req: Request, @Res() res: Response): Promise<void> {
    res.set('Cache-Control', 'no-store');
    const refused = crossSiteRefusal(req, this.config.server.publicUrl);
    if (refused) return this.problem(res, { type: 'about:blank', title: 'Cross-site request refused', status: 403, detail: refused, code: 'cross_site_refused' });
    if (!req.is('application/json') || typeof body !== 'object' || body === null || Array.isArray(body)) {
      return this.problem(res, { type: 'about:blank', title: 'Invalid request', status: 400, detail: 'Send a JSON object such as {"email": "you@example.com"} with Content-Type: application/json.', code: 'invalid_body', errors: { body: 'a JSON object' } });
    }
    const input = body as Record<string, unknown>;
    if (input.acceptTypo !== undefined && typeof input.acceptTypo !== 'boolean') {
      return this.problem(res, { type: 'about:blank', title: 'Invalid request', status: 400, detail: 'acceptTypo is true or false.', code: 'validation_failed', errors: { acceptTypo: 'true or false' } });
    }
    try {
      await this.subscribers.subscribe({ email: input.email, name: input.name, beats: input.beats, ip: req.ip ?? null, source: 'api', formText: subscribeFormText(siteInfo(this.config)), acceptTypo: input.acceptTypo === true });
      res.status(202).json({ status: 'check-inbox', detail: 'If this address is not subscribed yet, a confirmation link is on its way to it.' });
    } catch (error) {
      if (error instanceof EmailTypoError) {
        return this.problem(res, { type: 'about:blank', title: 'Possible typo in the address', status: 400, detail: error.message, code: error.code, errors: { email: error.message }, suggestion: error.suggestion });
      }
      if (error instanceof InvalidEmailError || error instanceof InvalidPreferencesError) {
        const fieldName = String(error.details?.field ?? 'email');
        return this.problem(res, { type: 'about:blank', title: 'Invalid request', status: 400, detail: error.message, code: error.code, errors: { [fieldName]: error.message } });
      }
      if (error instanceof RateLimitedError) {
        res.set('Retry-After', String(error.retryAfterSeconds));
        return this.problem(res, { type: 'about:blank', title: 'Too many requests', status: 429, detail: error.message, code: error.code, retryAt: error.retryAt.toISOString() });
      }
      if (error instanceof DomainError) return this.problem(res, { type: 'about:blank', title: error.name, status: error.status, detail: error.message, code: error.code });
      this.logger.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
      return this.problem(res, { type: 'about:blank', title: 'Internal error', status: 500, detail: 'Something went wrong on our side.', code: 'internal_error' });
    }
  }

  private problem(res: Response, problem: Problem): void {
    res.status(problem.status).type('application/problem+json').send(JSON.stringify(problem));
  }
}
