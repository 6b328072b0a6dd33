import { Body, Controller, Get, Inject, Logger, Post, Req, Res } from '@nestjs/common';
import { type Request, type Response } from 'express';
import { type AppConfig } from '../kernel/config/config';
import { APP_CONFIG } from '../kernel/config/config.module';
import { PROBLEM_CONTENT_TYPE, type ProblemDetails, toProblemDetails } from '../kernel/errors';
import { RateLimitedError, SubscribersService } from '../subscribers/subscribers.service';
import { crossSiteRefusal } from './cross-site';
import { subscribeFormText } from './pages/subscription-pages';
import { siteInfo } from './pages/views';

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

  /**
   * `GET /api/v1/public/subscribe/challenge`: a fresh sign-up challenge (`{ kind: "pow", token, bits, expiresAt }`) to
   * answer in `challenge: { token, answer }`, where SHA-256 of `token:answer` starts with `bits` zero bits; 404
   * `challenge_off` when sign-ups need none (SUBSCRIBE_CHALLENGE=off).
   */
  @Get('subscribe/challenge')
  async challenge(@Res() res: Response): Promise<void> {
    res.set('Cache-Control', 'no-store');
    const offer = await this.subscribers.issueChallenge();
    if (!offer) {
      return this.problem(res, {
        type: 'about:blank',
        title: 'Not Found',
        status: 404,
        detail: 'Sign-ups here need no challenge: post the address alone.',
        code: 'challenge_off',
      });
    }
    res.status(200).json(offer);
  }

  @Post('subscribe')
  async subscribe(@Body() body: unknown, @Req() req: Request, @Res() res: Response): Promise<void> {
    res.set('Cache-Control', 'no-store');
    const refused = crossSiteRefusal(req, this.config.server.publicUrl);
    if (refused) return this.problem(res, { type: 'about:blank', title: 'Forbidden', status: 403, detail: refused, code: 'cross_site_refused' });
    if (!req.is('application/json') || typeof body !== 'object' || body === null || Array.isArray(body)) {
      const detail = 'Send a JSON object such as {"email": "you@example.com"} with Content-Type: application/json.';
      return this.problem(res, {
        type: 'about:blank',
        title: 'Bad Request',
        status: 400,
        detail,
        code: 'invalid_body',
        errors: [{ field: '', message: detail }],
      });
    }
    const input = body as Record<string, unknown>;
    if (input.acceptTypo !== undefined && typeof input.acceptTypo !== 'boolean') {
      return this.problem(res, {
        type: 'about:blank',
        title: 'Bad Request',
        status: 400,
        detail: 'acceptTypo is true or false.',
        code: 'validation_failed',
        errors: [{ field: 'acceptTypo', message: 'true or false' }],
      });
    }
    const challenge = input.challenge;
    if (challenge !== undefined && (typeof challenge !== 'object' || challenge === null || Array.isArray(challenge))) {
      return this.problem(res, {
        type: 'about:blank',
        title: 'Bad Request',
        status: 400,
        detail: 'challenge is an object { "token", "answer" }.',
        code: 'validation_failed',
        errors: [{ field: 'challenge', message: 'an object { "token", "answer" }' }],
      });
    }
    try {
      await this.subscribers.subscribe({
        email: input.email,
        name: input.name,
        beats: input.beats,
        ip: req.ip ?? null,
        source: 'api',
        formText: subscribeFormText(siteInfo(this.config)),
        acceptTypo: input.acceptTypo === true,
        challenge: challenge as { token?: unknown; answer?: unknown } | undefined,
      });
      res.status(202).json({ status: 'check-inbox', detail: 'If this address is not subscribed yet, a confirmation link is on its way to it.' });
    } catch (error) {
      if (error instanceof RateLimitedError) res.set('Retry-After', String(error.retryAfterSeconds));
      const problem = toProblemDetails(error);
      if (problem.status >= 500) this.logger.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
      this.problem(res, problem);
    }
  }

  private problem(res: Response, problem: ProblemDetails): void {
    res.status(problem.status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(problem));
  }
}
