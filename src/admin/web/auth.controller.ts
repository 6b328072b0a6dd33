import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, Req, Res, UseFilters } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { type Response } from 'express';
import { APP_CONFIG } from '../../kernel/config/config.module';
import { type AppConfig } from '../../kernel/config/config';
import { ValidationError } from '../../kernel/errors/domain-error';
import { AccountsService } from '../auth/accounts.service';
import { SESSION_COOKIE } from '../auth/admin-auth.guard';
import { AdminArea, AdminPublic, CurrentActor, type AdminRequest } from '../auth/auth.decorators';
import { ForbiddenError } from '../auth/auth-errors';
import { type Actor } from '../auth/actor';
import { Role } from '../auth/role';
import { Requires } from '../auth/auth.decorators';
import { AdminPageFilter } from './admin-page.filter';
import { sendPage } from './layout';
import { loginForm, resetPasswordForm, resetRequestForm, safeNext } from './login-pages';
import { ADMIN_SCRIPT } from './admin-script';

type Form = Record<string, unknown>;
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** Sign-in, sign-out and password reset: the only workspace pages open to anonymous callers. */
@ApiExcludeController()
@AdminArea()
@UseFilters(AdminPageFilter)
@Controller('admin')
export class AuthController {
  constructor(
    private readonly accounts: AccountsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** A public form must be posted from our own pages: refuse cross-site posts (login CSRF). */
  private sameSite(req: AdminRequest): void {
    const site = req.get('sec-fetch-site');
    if (site && site !== 'same-origin' && site !== 'none') throw new ForbiddenError('This form only accepts posts from this site.');
    const origin = req.get('origin');
    if (origin && origin !== 'null') {
      const ours = [new URL(this.config.server.publicUrl).origin, `${req.protocol}://${req.get('host')}`];
      if (!ours.includes(origin)) throw new ForbiddenError('This form only accepts posts from this site.');
    }
  }

  @AdminPublic()
  @Get('assets/admin.js')
  script(@Res() res: Response): void {
    res
      .set({ 'Content-Type': 'text/javascript; charset=utf-8', 'Cache-Control': 'public, max-age=300', 'X-Content-Type-Options': 'nosniff' })
      .send(ADMIN_SCRIPT);
  }

  @AdminPublic()
  @Get('login')
  loginPage(@Req() req: AdminRequest, @Res() res: Response, @Query('next') next?: string): void {
    if (req.actor) return res.redirect(303, safeNext(next));
    sendPage(
      res,
      200,
      loginForm({ siteTitle: this.config.site.title, next, notice: req.query.reset === '1' ? 'Your password was changed: sign in with the new one.' : null }),
    );
  }

  @AdminPublic()
  @Post('login')
  @HttpCode(200)
  async login(@Req() req: AdminRequest, @Res() res: Response, @Body() body: Form): Promise<void> {
    this.sameSite(req);
    const email = str(body?.email);
    const result = await this.accounts.signIn({ email, password: str(body?.password), ip: req.ip ?? null, userAgent: req.get('user-agent') ?? null });
    if (!result.ok) {
      const error =
        result.reason === 'locked'
          ? `This account is locked after too many wrong passwords. Try again after ${result.retryAt.toISOString().slice(11, 16)} UTC, or reset the password.`
          : 'That email and password do not match an account.';
      sendPage(res, 401, loginForm({ siteTitle: this.config.site.title, next: str(body?.next), error, email }));
      return;
    }
    res.cookie(SESSION_COOKIE, result.sessionToken, { httpOnly: true, sameSite: 'lax', secure: this.config.admin.secureCookies, path: '/' });
    res.redirect(303, safeNext(body?.next));
  }

  @Requires(Role.Viewer)
  @Post('logout')
  async logout(@CurrentActor() actor: Actor, @Res() res: Response): Promise<void> {
    await this.accounts.signOut(actor);
    res.clearCookie(SESSION_COOKIE, { httpOnly: true, sameSite: 'lax', secure: this.config.admin.secureCookies, path: '/' });
    res.redirect(303, '/admin/login');
  }

  @AdminPublic()
  @Get('password-reset')
  resetPage(@Res() res: Response): void {
    sendPage(res, 200, resetRequestForm({ siteTitle: this.config.site.title }));
  }

  @AdminPublic()
  @Post('password-reset')
  @HttpCode(200)
  async requestReset(@Req() req: AdminRequest, @Res() res: Response, @Body() body: Form): Promise<void> {
    this.sameSite(req);
    try {
      await this.accounts.requestPasswordReset({ email: str(body?.email), ip: req.ip ?? null, userAgent: req.get('user-agent') ?? null });
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      sendPage(res, 400, resetRequestForm({ siteTitle: this.config.site.title, error: error.message }));
      return;
    }
    sendPage(
      res,
      200,
      resetRequestForm({ siteTitle: this.config.site.title, notice: 'If that address has an account, a link is on its way. It works for an hour.' }),
    );
  }

  @AdminPublic()
  @Get('password-reset/:token')
  async resetForm(@Param('token') token: string, @Res() res: Response): Promise<void> {
    const live = await this.accounts.resetLinkIsLive(token);
    sendPage(res, live ? 200 : 404, resetPasswordForm({ siteTitle: this.config.site.title, token, live }));
  }

  @AdminPublic()
  @Post('password-reset/:token')
  @HttpCode(200)
  async reset(@Req() req: AdminRequest, @Param('token') token: string, @Res() res: Response, @Body() body: Form): Promise<void> {
    this.sameSite(req);
    try {
      await this.accounts.resetPassword({ token, password: str(body?.password), ip: req.ip ?? null, userAgent: req.get('user-agent') ?? null });
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      sendPage(res, 400, resetPasswordForm({ siteTitle: this.config.site.title, token, live: true, error: error.message }));
      return;
    }
    res.redirect(303, '/admin/login?reset=1');
  }
}
