import { Body, Controller, Get, Inject, Logger, Post, Query, Req, Res } from '@nestjs/common';
import { type Request, type Response } from 'express';
import { z } from 'zod';
import { type AppConfig } from '../kernel/config/config';
import { APP_CONFIG } from '../kernel/config/config.module';
import { DomainError } from '../kernel/errors/domain-error';
import { ConfirmationEmailError, InvalidEmailError, SubscribersService } from '../subscribers/subscribers.service';
import { sendHtml } from './html-response';
import { type SafeHtml } from './pages/html';
import { messagePage, notFoundPage } from './pages/site-pages';
import { checkInboxPage, confirmedPage, subscribePage, unsubscribedPage, unsubscribePromptPage } from './pages/subscription-pages';
import { siteInfo, type SiteInfo } from './pages/views';

const token = z.string().trim().min(1).max(4096);
const subscribeForm = z.object({ email: z.string().max(2000) });
const tokenForm = z.object({ token });

interface Rendered {
  status: number;
  page: SafeHtml;
  cache?: 'public' | 'no-store';
  headers?: Record<string, string>;
}

/** The public subscription routes: sign-up, confirmation and unsubscribe (owned by the subscribers work). */
@Controller()
export class SubscriptionController {
  private readonly logger = new Logger(SubscriptionController.name);

  constructor(
    private readonly subscribers: SubscribersService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  private get site(): SiteInfo {
    return siteInfo(this.config);
  }

  @Get('subscribe')
  async subscribeForm(@Res() res: Response): Promise<void> {
    await this.render(res, async () => ({ status: 200, page: subscribePage(this.site), cache: 'public' }));
  }

  @Post('subscribe')
  async subscribe(@Body() body: unknown, @Req() req: Request, @Res() res: Response): Promise<void> {
    const parsed = subscribeForm.safeParse(body);
    const email = parsed.success ? parsed.data.email : '';
    await this.render(res, async () => {
      try {
        await this.subscribers.subscribe({ email, ip: req.ip ?? null, source: 'web-form' });
      } catch (error) {
        if (error instanceof InvalidEmailError) return { status: 400, page: subscribePage(this.site, { email, problem: error.message }) };
        if (error instanceof ConfirmationEmailError) {
          return { status: 503, page: subscribePage(this.site, { email, problem: error.message }), headers: { 'Retry-After': '300' } };
        }
        throw error;
      }
      // The same page whether or not the address was already subscribed: it tells a stranger nothing.
      return { status: 200, page: checkInboxPage(this.site, email.trim()) };
    });
  }

  @Get('subscribe/confirm')
  async confirm(@Query('token') param: unknown, @Res() res: Response): Promise<void> {
    await this.render(res, async () => {
      const parsed = token.safeParse(param);
      if (!parsed.success) return this.invalidLink('confirmation');
      await this.subscribers.confirm(parsed.data);
      return { status: 200, page: confirmedPage(this.site) };
    });
  }

  /** Shows a button only: link scanners that follow the email's link must not unsubscribe anyone. */
  @Get('unsubscribe')
  async unsubscribePrompt(@Query('token') param: unknown, @Res() res: Response): Promise<void> {
    await this.render(res, async () => {
      const parsed = token.safeParse(param);
      if (!parsed.success) return this.invalidLink('unsubscribe');
      await this.subscribers.checkUnsubscribeToken(parsed.data);
      return { status: 200, page: unsubscribePromptPage(this.site, parsed.data) };
    });
  }

  /**
   * RFC 8058 one-click (`List-Unsubscribe=One-Click` in the body, the token in the URL) and our own page's button
   * (the token as a form field). Unsubscribes at once, whatever else the body holds.
   */
  @Post('unsubscribe')
  async unsubscribe(@Query('token') query: unknown, @Body() body: unknown, @Res() res: Response): Promise<void> {
    await this.render(res, async () => {
      const fromQuery = token.safeParse(query);
      const fromForm = tokenForm.safeParse(body);
      const value = fromQuery.success ? fromQuery.data : fromForm.success ? fromForm.data.token : null;
      if (!value) return this.invalidLink('unsubscribe');
      await this.subscribers.unsubscribe(value);
      return { status: 200, page: unsubscribedPage(this.site) };
    });
  }

  private invalidLink(kind: 'confirmation' | 'unsubscribe'): Rendered {
    return { status: 400, page: messagePage(this.site, { title: 'This link does not work', message: `This ${kind} link is invalid. Please use the link from the most recent email.` }) };
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
      if (error.status === 404) return { status: 404, page: notFoundPage(this.site) };
      const title = error.status === 400 ? 'This did not work' : error.status === 503 ? 'Please try again soon' : 'Something went wrong';
      return { status: error.status, page: messagePage(this.site, { title, message: error.message }) };
    }
    this.logger.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    return { status: 500, page: messagePage(this.site, { title: 'Something went wrong', message: 'Something went wrong on our side. Please try again in a moment.' }) };
  }
}
