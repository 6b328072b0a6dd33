import { html, type SafeHtml } from './html';
import { layout } from './layout';
import { subscribeForm } from './site-pages';
import { type SiteInfo } from './views';

/** The pages of the subscription routes (sign-up, confirmation, unsubscribe): see subscription.controller.ts. */

/** The sign-up form on its own, optionally with a problem to show (400/503) and the typed address. */
export function subscribePage(site: SiteInfo, input: { email?: string; problem?: string } = {}): SafeHtml {
  return layout(site, {
    title: 'Subscribe',
    canonicalPath: '/subscribe',
    body: html`<h1>Subscribe</h1>
<p class="dek">One email a week with the best of ${site.title}.</p>
${input.problem && html`<p class="notice" role="alert">${input.problem}</p>`}
${subscribeForm(input.email ?? '')}
<p>We email you a link to confirm first. Every issue has a one-click unsubscribe link, and we never share your address.</p>`,
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

export function confirmedPage(site: SiteInfo): SafeHtml {
  return layout(site, {
    title: "You're subscribed",
    noindex: true,
    body: html`<h1>You're subscribed</h1>
<p>Thank you. The next weekly issue of ${site.title} will arrive in your inbox. Meanwhile, read the <a href="/">latest stories</a> or the <a href="/issues">archive</a>.</p>`,
  });
}

export function unsubscribePromptPage(site: SiteInfo, token: string): SafeHtml {
  return layout(site, {
    title: 'Unsubscribe',
    noindex: true,
    body: html`<h1>Unsubscribe</h1>
<p>Press the button to stop receiving the weekly issue of ${site.title}.</p>
<form method="post" action="/unsubscribe">
<input type="hidden" name="token" value="${token}">
<button type="submit">Unsubscribe</button>
</form>`,
  });
}

export function unsubscribedPage(site: SiteInfo): SafeHtml {
  return layout(site, {
    title: 'You have been unsubscribed',
    noindex: true,
    body: html`<h1>You have been unsubscribed</h1>
<p>You will not receive any more issues. Changed your mind? You can <a href="/subscribe">subscribe again</a> at any time.</p>`,
  });
}
