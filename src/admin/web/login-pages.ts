import { html, type SafeHtml } from '../../kernel/web/html';
import { layout } from './layout';

/** Only our own workspace paths are followed after sign-in (no open redirect). */
export function safeNext(next: unknown): string {
  const value = typeof next === 'string' ? next : '';
  return /^\/admin(\/|$|\?)/.test(value) && !value.startsWith('//') && !value.includes('\\') ? value : '/admin';
}

export function loginForm(input: { siteTitle: string; next?: string; error?: string | null; notice?: string | null; email?: string }): SafeHtml {
  return layout({
    title: 'Sign in',
    actor: null,
    siteTitle: input.siteTitle,
    error: input.error,
    notice: input.notice,
    body: html`<form class="card" method="post" action="/admin/login">
<input type="hidden" name="next" value="${safeNext(input.next)}">
<label for="email">Email</label><input id="email" name="email" type="email" autocomplete="username" required value="${input.email ?? ''}">
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<p><button type="submit">Sign in</button></p>
<p><a href="/admin/password-reset">Forgot your password?</a></p></form>`,
  });
}

export function resetRequestForm(input: { siteTitle: string; notice?: string | null; error?: string | null }): SafeHtml {
  return layout({
    title: 'Reset your password',
    actor: null,
    siteTitle: input.siteTitle,
    notice: input.notice,
    error: input.error,
    body: html`<form class="card" method="post" action="/admin/password-reset">
<p>Enter your account's email address: we send a link to choose a new password, valid for an hour.</p>
<label for="email">Email</label><input id="email" name="email" type="email" autocomplete="username" required>
<p><button type="submit">Send the link</button></p><p><a href="/admin/login">Back to sign-in</a></p></form>`,
  });
}

export function resetPasswordForm(input: { siteTitle: string; token: string; live: boolean; error?: string | null }): SafeHtml {
  return layout({
    title: 'Choose a new password',
    actor: null,
    siteTitle: input.siteTitle,
    error: input.live ? input.error : 'This reset link has expired or was used already.',
    body: input.live
      ? html`<form class="card" method="post" action="/admin/password-reset/${input.token}">
<label for="password">New password (12 characters or more)</label><input id="password" name="password" type="password" autocomplete="new-password" minlength="12" maxlength="256" required>
<p><button type="submit">Set the password</button></p></form>`
      : html`<p><a href="/admin/password-reset">Ask for a new link</a></p>`,
  });
}
