import { Body, Controller, Get, Inject, Logger, Post, Query, Req, Res } from '@nestjs/common';
import { type Request, type Response } from 'express';
import { z } from 'zod';
import { type AppConfig } from '../kernel/config/config';
import { APP_CONFIG } from '../kernel/config/config.module';
import { DomainError } from '../kernel/errors/domain-error';
import { NarrativesService } from '../narratives/narratives.service';
import {
  ChallengeError,
  EmailTypoError,
  InvalidEmailError,
  InvalidPreferencesError,
  RateLimitedError,
  SubscribersService,
} from '../subscribers/subscribers.service';
import { crossSiteRefusal } from './cross-site';
import { sendHtml } from './html-response';
import { type SafeHtml } from '../kernel/web/html';
import { CHALLENGE_PAGE_POLICY, SIGNUP_CHALLENGE_SCRIPT } from './pages/signup-challenge-script';
import { messagePage, notFoundPage } from './pages/site-pages';
import {
  checkInboxPage,
  confirmedPage,
  confirmPromptPage,
  emailChangePromptPage,
  preferencesPage,
  subscribeFormText,
  subscribePage,
  tooManyRequestsPage,
  unsubscribedPage,
  unsubscribePromptPage,
} from './pages/subscription-pages';
import { siteInfo, type SiteInfo } from './pages/views';

const token = z.string().trim().min(1).max(4096);
const field = z.string().max(4096);
const subscribeForm = z.object({
  email: field.optional(),
  accept_typo: z.string().max(10).optional(),
  name: field.optional(),
  beats: z.union([field, z.array(field).max(100)]).optional(),
  challenge_token: z.string().max(512).optional(),
  challenge_answer: z.string().max(32).optional(),
});
const tokenForm = z.object({ token });
const preferencesForm = z.object({
  token,
  action: z.enum(['save', 'change-email', 'unsubscribe', 'resubscribe', 'download', 'delete']),
  beats: z.union([field, z.array(field).max(100)]).optional(),
  pause_weeks: z.string().max(10).optional(),
  email: field.optional(),
  confirm_delete: z.string().max(10).optional(),
});

interface Rendered {
  status: number;
  page: SafeHtml;
  cache?: 'public' | 'no-store';
  headers?: Record<string, string>;
}

/**
 * The public subscription routes: sign-up, confirmation, unsubscribe and the preferences page. Every GET only
 * shows (a page with a button); only POSTs change anything, and every POST but RFC 8058's one-click
 * unsubscribe refuses cross-site senders.
 */
@Controller()
export class SubscriptionController {
  private readonly logger = new Logger(SubscriptionController.name);

  constructor(
    private readonly subscribers: SubscribersService,
    private readonly narratives: NarrativesService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  private get site(): SiteInfo {
    return siteInfo(this.config);
  }

  /** With SUBSCRIBE_CHALLENGE=pow the sign-up pages carry the script that solves the proof of work (and may run it). */
  private get challenge(): boolean {
    return this.subscribers.challengeKind === 'pow';
  }

  private signUpPage(status: number, input: Parameters<typeof subscribePage>[1] = {}, cache: Rendered['cache'] = 'no-store'): Rendered {
    return {
      status,
      page: subscribePage(this.site, { ...input, challenge: this.challenge }),
      cache,
      headers: this.challenge ? { 'Content-Security-Policy': CHALLENGE_PAGE_POLICY } : undefined,
    };
  }

  @Get('subscribe')
  async subscribeForm(@Res() res: Response): Promise<void> {
    await this.render(res, async () => this.signUpPage(200, {}, 'public'));
  }

  @Get('subscribe/challenge.js')
  challengeScript(@Res() res: Response): void {
    res.status(200).type('text/javascript').set('Cache-Control', 'public, max-age=3600').send(SIGNUP_CHALLENGE_SCRIPT);
  }

  @Post('subscribe')
  async subscribe(@Body() body: unknown, @Req() req: Request, @Res() res: Response): Promise<void> {
    const parsed = subscribeForm.safeParse(body ?? {});
    const email = parsed.success ? (parsed.data.email ?? '') : '';
    await this.render(res, async () => {
      const refused = crossSiteRefusal(req, this.config.server.publicUrl);
      if (refused) return { status: 403, page: messagePage(this.site, { title: 'Refused', message: refused }) };
      if (!parsed.success) return this.signUpPage(400, { problem: 'Please enter your email address.' });
      try {
        await this.subscribers.subscribe({
          email,
          name: parsed.data.name,
          beats: parsed.data.beats,
          ip: req.ip ?? null,
          source: 'web-form',
          formText: subscribeFormText(this.site),
          acceptTypo: parsed.data.accept_typo === '1',
          challenge: { token: parsed.data.challenge_token, answer: parsed.data.challenge_answer },
        });
      } catch (error) {
        if (error instanceof EmailTypoError) return this.signUpPage(400, { email: error.email, problem: error.message, suggestion: error.suggestion });
        if (error instanceof InvalidEmailError || error instanceof InvalidPreferencesError || error instanceof ChallengeError)
          return this.signUpPage(400, { email, problem: error.message });
        if (error instanceof RateLimitedError)
          return { status: 429, page: tooManyRequestsPage(this.site, error.message), headers: { 'Retry-After': String(error.retryAfterSeconds) } };
        throw error;
      }
      // The same page whether or not the address was already subscribed: it tells a stranger nothing.
      return { status: 200, page: checkInboxPage(this.site, email.trim()) };
    });
  }

  /** GET and HEAD show a button only: a link scanner that follows the email's link confirms nothing. */
  @Get('subscribe/confirm')
  async confirmPrompt(@Query('token') param: unknown, @Res() res: Response): Promise<void> {
    await this.render(res, async () => {
      const parsed = token.safeParse(param);
      if (!parsed.success) return this.invalidLink('confirmation');
      const state = await this.subscribers.checkConfirmToken(parsed.data);
      if (state === 'already-active') return { status: 200, page: confirmedPage(this.site) };
      return { status: 200, page: confirmPromptPage(this.site, parsed.data) };
    });
  }

  @Post('subscribe/confirm')
  async confirm(@Query('token') query: unknown, @Body() body: unknown, @Req() req: Request, @Res() res: Response): Promise<void> {
    await this.render(res, async () => {
      const refused = crossSiteRefusal(req, this.config.server.publicUrl);
      if (refused) return { status: 403, page: messagePage(this.site, { title: 'Refused', message: refused }) };
      const value = this.tokenFrom(query, body);
      if (!value) return this.invalidLink('confirmation');
      const { subscriberId } = await this.subscribers.confirm(value);
      return { status: 200, page: confirmedPage(this.site, this.subscribers.preferencesUrl(subscriberId)) };
    });
  }

  /** Shows a button only: link scanners that follow the email's link must not unsubscribe anyone. */
  @Get('unsubscribe')
  async unsubscribePrompt(@Query('token') param: unknown, @Res() res: Response): Promise<void> {
    await this.render(res, async () => {
      const parsed = token.safeParse(param);
      if (!parsed.success) return this.invalidLink('unsubscribe');
      const { alreadyUnsubscribed } = await this.subscribers.checkUnsubscribeToken(parsed.data);
      if (alreadyUnsubscribed) return { status: 200, page: unsubscribedPage(this.site, true) };
      return { status: 200, page: unsubscribePromptPage(this.site, parsed.data) };
    });
  }

  /**
   * RFC 8058 one-click (`List-Unsubscribe=One-Click` in the body, the token in the URL) and our own page's button
   * (the token as a form field). Unsubscribes at once, whatever else the body holds. No cross-site check: mail
   * providers post from their own servers, and the signed token is the authority.
   */
  @Post('unsubscribe')
  async unsubscribe(@Query('token') query: unknown, @Body() body: unknown, @Res() res: Response): Promise<void> {
    await this.render(res, async () => {
      const value = this.tokenFrom(query, body);
      if (!value) return this.invalidLink('unsubscribe');
      const { alreadyUnsubscribed } = await this.subscribers.unsubscribe(value);
      return { status: 200, page: unsubscribedPage(this.site, alreadyUnsubscribed) };
    });
  }

  @Get('preferences')
  async preferences(@Query('token') param: unknown, @Res() res: Response): Promise<void> {
    await this.render(res, async () => {
      const parsed = token.safeParse(param);
      if (!parsed.success) return this.invalidLink('preferences');
      return { status: 200, page: await this.preferencesView(parsed.data) };
    });
  }

  @Post('preferences')
  async updatePreferences(@Body() body: unknown, @Req() req: Request, @Res() res: Response): Promise<void> {
    const parsed = preferencesForm.safeParse(body ?? {});
    if (parsed.success && parsed.data.action === 'download' && !crossSiteRefusal(req, this.config.server.publicUrl)) {
      try {
        const data = await this.subscribers.exportData(parsed.data.token);
        res
          .status(200)
          .set({ 'Cache-Control': 'no-store', 'Content-Disposition': 'attachment; filename="my-subscription.json"', 'X-Content-Type-Options': 'nosniff' })
          .type('application/json')
          .send(JSON.stringify(data, null, 2));
        return;
      } catch (error) {
        await this.render(res, async () => this.errorPage(error));
        return;
      }
    }
    await this.render(res, async () => {
      const refused = crossSiteRefusal(req, this.config.server.publicUrl);
      if (refused) return { status: 403, page: messagePage(this.site, { title: 'Refused', message: refused }) };
      if (!parsed.success) return this.invalidLink('preferences');
      const { token: t, action } = parsed.data;
      try {
        switch (action) {
          case 'save':
            await this.subscribers.updatePreferences(t, { beats: parsed.data.beats ?? null, pauseWeeks: parsed.data.pause_weeks });
            return { status: 200, page: await this.preferencesView(t, { notice: 'Saved.' }) };
          case 'change-email':
            await this.subscribers.requestEmailChange(t, parsed.data.email, req.ip ?? null);
            return {
              status: 200,
              page: await this.preferencesView(t, { notice: 'We sent a confirmation link to the new address. Your subscription moves once you use it.' }),
            };
          case 'unsubscribe':
            await this.subscribers.unsubscribeWithPreferences(t);
            return { status: 200, page: await this.preferencesView(t, { notice: 'You have been unsubscribed.' }) };
          case 'resubscribe': {
            const outcome = await this.subscribers.resubscribe(t, req.ip ?? null);
            return {
              status: 200,
              page: await this.preferencesView(t, {
                notice:
                  outcome === 'active'
                    ? 'Welcome back: you are subscribed again.'
                    : 'We sent a confirmation link to your address: use it to start receiving issues again.',
              }),
            };
          }
          case 'delete':
            if (parsed.data.confirm_delete !== 'yes')
              return { status: 400, page: await this.preferencesView(t, { problem: 'Tick the box to confirm the deletion.' }) };
            await this.subscribers.deleteSelf(t);
            return {
              status: 200,
              page: messagePage(this.site, {
                title: 'Your data has been deleted',
                message: 'Your address and everything tied to it are gone. You will receive nothing more from us.',
              }),
            };
          default:
            return this.invalidLink('preferences');
        }
      } catch (error) {
        if (error instanceof InvalidEmailError || error instanceof InvalidPreferencesError)
          return { status: 400, page: await this.preferencesView(t, { problem: error.message }) };
        if (error instanceof RateLimitedError)
          return { status: 429, page: tooManyRequestsPage(this.site, error.message), headers: { 'Retry-After': String(error.retryAfterSeconds) } };
        throw error;
      }
    });
  }

  @Get('preferences/confirm-email')
  async emailChangePrompt(@Query('token') param: unknown, @Res() res: Response): Promise<void> {
    await this.render(res, async () => {
      const parsed = token.safeParse(param);
      if (!parsed.success) return this.invalidLink('address confirmation');
      const { newEmail } = await this.subscribers.checkEmailChangeToken(parsed.data);
      return { status: 200, page: emailChangePromptPage(this.site, parsed.data, newEmail) };
    });
  }

  @Post('preferences/confirm-email')
  async confirmEmailChange(@Query('token') query: unknown, @Body() body: unknown, @Req() req: Request, @Res() res: Response): Promise<void> {
    await this.render(res, async () => {
      const refused = crossSiteRefusal(req, this.config.server.publicUrl);
      if (refused) return { status: 403, page: messagePage(this.site, { title: 'Refused', message: refused }) };
      const value = this.tokenFrom(query, body);
      if (!value) return this.invalidLink('address confirmation');
      const { email } = await this.subscribers.confirmEmailChange(value);
      return { status: 200, page: messagePage(this.site, { title: 'Address changed', message: `From now on the weekly issue goes to ${email}.` }) };
    });
  }

  private async preferencesView(t: string, extra: { notice?: string; problem?: string } = {}): Promise<SafeHtml> {
    const view = await this.subscribers.preferences(t);
    const allBeats = (await this.narratives.listBeats()).map((b) => ({ slug: b.slug, name: b.name }));
    return preferencesPage(this.site, { token: t, ...view, allBeats, ...extra });
  }

  private tokenFrom(query: unknown, body: unknown): string | null {
    const fromQuery = token.safeParse(query);
    const fromForm = tokenForm.safeParse(body ?? {});
    return fromQuery.success ? fromQuery.data : fromForm.success ? fromForm.data.token : null;
  }

  private invalidLink(kind: string): Rendered {
    return {
      status: 400,
      page: messagePage(this.site, {
        title: 'This link does not work',
        message: `This ${kind} link is invalid. Please use the link from the most recent email.`,
      }),
    };
  }

  /** Renders what `work` returns; a domain error becomes a page with its status and message, anything else a 500 page. */
  private async render(res: Response, work: () => Promise<Rendered>): Promise<void> {
    let rendered: Rendered;
    try {
      rendered = await work();
    } catch (error) {
      rendered = this.errorPage(error);
    }
    if (rendered.headers) res.set(rendered.headers);
    sendHtml(res, rendered.status, rendered.page, { cache: rendered.cache ?? 'no-store' });
  }

  private errorPage(error: unknown): Rendered {
    if (error instanceof DomainError) {
      if (error.status === 404)
        return { status: 404, page: error.message ? messagePage(this.site, { title: 'Not found', message: error.message }) : notFoundPage(this.site) };
      const title = error.status === 400 ? 'This did not work' : error.status === 503 ? 'Please try again soon' : 'Something went wrong';
      return { status: error.status, page: messagePage(this.site, { title, message: error.message }) };
    }
    this.logger.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    return {
      status: 500,
      page: messagePage(this.site, { title: 'Something went wrong', message: 'Something went wrong on our side. Please try again in a moment.' }),
    };
  }
}
