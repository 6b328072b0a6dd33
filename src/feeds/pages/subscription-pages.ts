import { html, type SafeHtml } from '../../kernel/web/html';
import { layout } from './layout';
import { challengeNotice, subscribeForm } from './site-pages';
import { type SiteInfo } from './views';

/** The pages of the subscription routes (sign-up, confirmation, unsubscribe, preferences): see subscription.controller.ts. */

/** What the sign-up forms say; recorded with each consent. */
export function subscribeFormText(site: SiteInfo): string {
  return `One email a week with the best of ${site.title}. We send a confirmation link first; every issue has a one-click unsubscribe.`;
}

/** The sign-up form on its own, optionally with a problem to show (400/429) and the typed address. */
export function subscribePage(site: SiteInfo, input: { email?: string; problem?: string; suggestion?: string; challenge?: boolean } = {}): SafeHtml {
  const challenge = Boolean(input.challenge);
  const marked = challenge ? html` data-challenge="pow"` : '';
  return layout(site, {
    title: 'Subscribe',
    canonicalPath: '/subscribe',
    noindex: Boolean(input.problem),
    body: html`<h1>Subscribe</h1>
<p class="dek">One email a week with the best of ${site.title}.</p>
${input.problem && html`<p class="notice" role="alert">${input.problem}</p>`}
${
  input.suggestion
    ? html`<form method="post" action="/subscribe"${marked}>
<input type="hidden" name="email" value="${input.suggestion}">
<button type="submit">Use ${input.suggestion}</button>
</form>
<form method="post" action="/subscribe"${marked}>
<input type="hidden" name="email" value="${input.email ?? ''}">
<input type="hidden" name="accept_typo" value="1">
<p><button type="submit">No, ${input.email ?? ''} is right</button></p>
</form>${challenge && challengeNotice}`
    : subscribeForm(input.email ?? '', challenge)
}
<p>We email you a link to confirm first. Every issue has a one-click unsubscribe link, and we never share your address.</p>
${challenge && html`<script src="/subscribe/challenge.js" defer></script>`}`,
  });
}

export function checkInboxPage(site: SiteInfo, email: string): SafeHtml {
  return layout(site, {
    title: 'Check your inbox',
    noindex: true,
    body: html`<h1>Check your inbox</h1>
<p>If <strong>${email}</strong> is not subscribed yet, we have sent it a link to confirm your subscription. Open the email and follow the link to start receiving the weekly issue.</p>
<p>Nothing there after a few minutes? Look in your spam folder, or <a href="/subscribe">try again</a>.</p>`,
  });
}

/** 429: says when to try again. */
export function tooManyRequestsPage(site: SiteInfo, message: string): SafeHtml {
  return layout(site, {
    title: 'Please wait a little',
    noindex: true,
    body: html`<h1>Please wait a little</h1>
<p class="notice" role="alert">${message}</p>
<p><a href="/">Read the latest stories</a> meanwhile.</p>`,
  });
}

/** A page whose only action is a button that POSTs the token: link scanners that open the link change nothing. */
function buttonPage(site: SiteInfo, input: { title: string; text: SafeHtml | string; action: string; token: string; button: string }): SafeHtml {
  return layout(site, {
    title: input.title,
    noindex: true,
    body: html`<h1>${input.title}</h1>
<p>${input.text}</p>
<form method="post" action="${input.action}">
<input type="hidden" name="token" value="${input.token}">
<button type="submit">${input.button}</button>
</form>`,
  });
}

export function confirmPromptPage(site: SiteInfo, token: string): SafeHtml {
  return buttonPage(site, {
    title: 'Confirm your subscription',
    text: `Press the button to start receiving the weekly issue of ${site.title}.`,
    action: '/subscribe/confirm',
    token,
    button: 'Confirm my subscription',
  });
}

export function confirmedPage(site: SiteInfo, preferencesUrl?: string): SafeHtml {
  return layout(site, {
    title: "You're subscribed",
    noindex: true,
    body: html`<h1>You're subscribed</h1>
<p>Thank you. The next weekly issue of ${site.title} will arrive in your inbox. Meanwhile, read the <a href="/">latest stories</a> or the <a href="/issues">archive</a>.</p>
${preferencesUrl && html`<p>Choose your beats or pause for a while on your <a href="${preferencesUrl}">preferences page</a> (the link is also in every email).</p>`}`,
  });
}

export function unsubscribePromptPage(site: SiteInfo, token: string): SafeHtml {
  return buttonPage(site, {
    title: 'Unsubscribe',
    text: `Press the button to stop receiving the weekly issue of ${site.title}.`,
    action: '/unsubscribe',
    token,
    button: 'Unsubscribe',
  });
}

export function unsubscribedPage(site: SiteInfo, already = false): SafeHtml {
  const title = already ? 'You are already unsubscribed' : 'You have been unsubscribed';
  return layout(site, {
    title,
    noindex: true,
    body: html`<h1>${title}</h1>
<p>${already ? 'This address does not receive any issues.' : 'You will not receive any more issues.'} Changed your mind? You can <a href="/subscribe">subscribe again</a> at any time.</p>`,
  });
}

export interface PreferencesPageInput {
  token: string;
  email: string;
  status: string;
  beats: string[] | null;
  pausedUntil: Date | null;
  pendingEmail: string | null;
  allBeats: ReadonlyArray<{ slug: string; name: string }>;
  notice?: string;
  problem?: string;
}

const STATUS_TEXT: Record<string, string> = {
  active: 'You receive the weekly issue.',
  pending: 'Your subscription is waiting for you to confirm it from the email we sent.',
  unsubscribed: 'You are unsubscribed: no issues are sent to this address.',
  suppressed: 'Emails to this address are stopped (it bounced, or a message was reported as spam). Resubscribe to confirm it afresh.',
};

export function preferencesPage(site: SiteInfo, p: PreferencesPageInput): SafeHtml {
  const hidden = html`<input type="hidden" name="token" value="${p.token}">`;
  const action = (name: string, label: string) =>
    html`<form method="post" action="/preferences">${hidden}<input type="hidden" name="action" value="${name}"><button type="submit">${label}</button></form>`;
  return layout(site, {
    title: 'Your preferences',
    noindex: true,
    body: html`<h1>Your preferences</h1>
${p.notice && html`<p class="notice" role="status">${p.notice}</p>`}
${p.problem && html`<p class="notice" role="alert">${p.problem}</p>`}
<p>Subscription for <strong>${p.email}</strong>. ${STATUS_TEXT[p.status] ?? ''}${p.pausedUntil && html` Paused until ${p.pausedUntil.toISOString().slice(0, 10)}.`}</p>
<section class="panel">
<h2>What you receive</h2>
<form method="post" action="/preferences">${hidden}<input type="hidden" name="action" value="save">
${
  p.allBeats.length > 0 &&
  html`<p>Beats (none ticked: all of them):</p>
${p.allBeats.map((b) => html`<label><input type="checkbox" name="beats" value="${b.slug}"${p.beats?.includes(b.slug) ? html` checked` : html``}> ${b.name}</label>`)}`
}
<label for="pause">Pause for (weeks, 0 to resume)</label>
<input type="number" id="pause" name="pause_weeks" min="0" max="52" value="">
<p><button type="submit">Save</button></p>
</form>
</section>
<section class="panel">
<h2>Change your address</h2>
${p.pendingEmail && html`<p>Waiting for <strong>${p.pendingEmail}</strong> to be confirmed from the email we sent there.</p>`}
<form method="post" action="/preferences">${hidden}<input type="hidden" name="action" value="change-email">
<label for="new-email">New email address</label>
<div class="inline"><input type="email" id="new-email" name="email" required maxlength="254" autocomplete="email"><button type="submit">Send a confirmation</button></div>
</form>
</section>
<section class="panel">
<h2>Subscription</h2>
${p.status === 'active' || p.status === 'pending' ? action('unsubscribe', 'Unsubscribe') : action('resubscribe', 'Resubscribe')}
</section>
<section class="panel">
<h2>Your data</h2>
<p>Download everything we hold about you, or delete it: your address, beats and consent records are removed; only anonymous counts remain.</p>
${action('download', 'Download my data (JSON)')}
<form method="post" action="/preferences">${hidden}<input type="hidden" name="action" value="delete">
<label><input type="checkbox" name="confirm_delete" value="yes" required> Yes, delete my subscription and my data</label>
<button type="submit">Delete me</button>
</form>
</section>`,
  });
}

export function emailChangePromptPage(site: SiteInfo, token: string, email: string): SafeHtml {
  return buttonPage(site, {
    title: 'Confirm your new address',
    text: html`Press the button to receive ${site.title} at <strong>${email}</strong> from now on.`,
    action: '/preferences/confirm-email',
    token,
    button: 'Use this address',
  });
}
