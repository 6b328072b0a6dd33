import { type Response } from 'express';
import { type Actor } from '../auth/actor';
import { Role, roleAtLeast } from '../auth/role';
import { html, raw, type HtmlValue, type SafeHtml } from '../../kernel/web/html';

/** Workspace pages: our own script only, no framing except our own previews, nothing cached. */
export const ADMIN_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'same-origin',
  'Cache-Control': 'no-store',
};

export function sendPage(res: Response, status: number, page: SafeHtml): void {
  res.status(status).set(ADMIN_HEADERS).type('text/html; charset=utf-8').send(page.toString());
}

const STYLE = `
:root{--ink:#1d1d1b;--muted:#555;--paper:#fbf8f2;--line:#d9d2c3;--accent:#8a2b0f;--ok:#1e6b35;--warn:#8a5a00;--bad:#a1221b;--focus:#1a56c4}
*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:var(--ink);background:var(--paper)}
a{color:var(--accent)}a:focus,button:focus,input:focus,textarea:focus,select:focus,[tabindex]:focus{outline:3px solid var(--focus);outline-offset:2px}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:1rem;background:#fff;padding:.5rem;z-index:9}
header.top{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center;padding:.6rem 1rem;background:#1d1d1b;color:#fff}
header.top a{color:#fff;text-decoration:none}header.top nav{display:flex;flex-wrap:wrap;gap:.25rem .9rem}header.top nav a[aria-current]{text-decoration:underline}
header.top .who{margin-left:auto;display:flex;gap:.5rem;align-items:center;font-size:.9rem}
main{max-width:68rem;margin:0 auto;padding:1rem}h1{font-family:Georgia,serif;margin:.5rem 0 1rem}
table{border-collapse:collapse;width:100%;background:#fff}th,td{border-bottom:1px solid var(--line);padding:.45rem .5rem;text-align:left;vertical-align:top}
.table-wrap{overflow-x:auto}
label{display:block;font-weight:600;margin:.6rem 0 .2rem}input[type=text],input[type=email],input[type=password],input[type=datetime-local],input[type=search],input[type=date],textarea,select{width:100%;max-width:40rem;padding:.5rem;border:1px solid #8c8577;border-radius:4px;font:inherit;background:#fff}
textarea{min-height:7rem}textarea#f-body{min-height:24rem}
button,.button{display:inline-block;padding:.5rem .9rem;border:1px solid var(--accent);border-radius:4px;background:var(--accent);color:#fff;font:inherit;cursor:pointer;text-decoration:none;min-height:44px}
button.secondary,.button.secondary{background:#fff;color:var(--accent)}button.danger{background:var(--bad);border-color:var(--bad)}
.row{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center}.card{background:#fff;border:1px solid var(--line);border-radius:6px;padding:1rem;margin:0 0 1rem}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(16rem,1fr));gap:1rem}
.notice{padding:.7rem 1rem;border-radius:4px;margin:0 0 1rem;background:#eef6ef;border:1px solid var(--ok)}.error{background:#fbeeed;border-color:var(--bad)}
.badge{display:inline-block;padding:0 .45rem;border-radius:3px;font-size:.85rem;border:1px solid currentColor}.b-ok{color:var(--ok)}.b-warn{color:var(--warn)}.b-bad{color:var(--bad)}
.muted{color:var(--muted)}.mono{font-family:ui-monospace,monospace;word-break:break-all}
ol.entries{list-style:none;padding:0;margin:0}ol.entries li{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;background:#fff;border:1px solid var(--line);border-radius:6px;padding:.6rem;margin:0 0 .5rem}
ol.entries li[draggable=true]{cursor:grab}ol.entries li.dragging{opacity:.5}ol.entries li .title{flex:1 1 16rem}
.handle{font-size:1.2rem;padding:0 .3rem;border:1px dashed #8c8577;border-radius:4px;background:#fff;color:var(--ink);min-height:44px;min-width:44px}
.previews{display:flex;flex-wrap:wrap;gap:1rem}.previews iframe{border:1px solid var(--line);background:#fff;height:640px;max-width:100%}.previews figure{margin:0;max-width:100%}form.inline{display:inline}
progress{width:100%;height:1.4rem}
.field-error{color:var(--bad);font-weight:600;margin:.2rem 0 0}[aria-invalid=true]{border-color:var(--bad)!important;border-width:2px!important}.hint{display:block;font-size:.9rem}
fieldset{border:1px solid var(--line);border-radius:4px;margin:.8rem 0;padding:.4rem .8rem;max-width:40rem}legend{font-weight:600}label.check{font-weight:400;display:flex;gap:.5rem;align-items:center;min-height:44px;margin:0}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}dl.facts dt{font-weight:600}dl.facts dd{margin:0}
.grid .wide{grid-column:1/-1}figure.chart{margin:0}figure.chart svg{width:100%;height:auto;max-width:40rem;background:#fff}ol.preview li,ol.citations li{margin:0 0 .6rem}
.sr-only{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
@media (max-width:40rem){header.top .who{margin-left:0}main{padding:.6rem}}
`;

const NAV: Array<{ href: string; label: string; role: Role }> = [
  { href: '/admin', label: 'Dashboard', role: Role.Viewer },
  { href: '/admin/issues', label: 'Issues', role: Role.Viewer },
  { href: '/admin/stories', label: 'Storylines', role: Role.Viewer },
  { href: '/admin/beats', label: 'Beats', role: Role.Viewer },
  { href: '/admin/sources', label: 'Sources', role: Role.Viewer },
  { href: '/admin/subscribers', label: 'Subscribers', role: Role.Viewer },
  { href: '/admin/tokens', label: 'API tokens', role: Role.Owner },
  { href: '/admin/users', label: 'Editors', role: Role.Owner },
  { href: '/admin/audit', label: 'Audit log', role: Role.Owner },
];

/** A hidden form field carrying the session's CSRF token. */
export function csrfField(actor: Actor): SafeHtml {
  return html`<input type="hidden" name="_csrf" value="${actor.csrfToken ?? ''}">`;
}

/** What an admin controller's page shows: the notice code from a redirect (`?done=`) becomes a confirmation, or an alert if it is a warning. */
export interface AdminPageInput {
  title: string;
  current: string;
  body: HtmlValue;
  done?: string;
  error?: string | null;
  status?: number;
}

/** A controller's notice codes (codes, so a crafted link cannot put words on our page); warnings show as alerts. */
export interface AdminNotices {
  siteTitle: string;
  messages: Readonly<Record<string, string>>;
  warnings?: ReadonlySet<string>;
}

/** Sends one workspace page in the layout, signed in as `actor`. */
export function adminPage(res: Response, actor: Actor, input: AdminPageInput, notices: AdminNotices): void {
  const warning = input.done !== undefined && (notices.warnings?.has(input.done) ?? false);
  const message = input.done ? (notices.messages[input.done] ?? null) : null;
  sendPage(
    res,
    input.status ?? 200,
    layout({
      title: input.title,
      actor,
      current: input.current,
      body: input.body,
      siteTitle: notices.siteTitle,
      notice: warning ? null : message,
      error: input.error ?? (warning ? message : null),
    }),
  );
}

export function layout(input: {
  title: string;
  actor: Actor | null;
  current?: string;
  body: HtmlValue;
  notice?: string | null;
  error?: string | null;
  siteTitle: string;
}): SafeHtml {
  const { actor } = input;
  return html`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${input.title} · ${input.siteTitle} editors</title><style>${raw(STYLE)}</style>
${actor?.csrfToken ? html`<meta name="csrf-token" content="${actor.csrfToken}">` : ''}
<script src="/admin/assets/admin.js" defer></script></head><body>
<a class="skip" href="#main">Skip to content</a>
<header class="top"><a href="/admin"><strong>${input.siteTitle}</strong> editors</a>
${
  actor
    ? html`<nav aria-label="Workspace">${NAV.filter((n) => roleAtLeast(actor.role, n.role)).map((n) => html`<a href="${n.href}"${n.href === input.current ? html` aria-current="page"` : ''}>${n.label}</a>`)}</nav>
<div class="who"><span>${actor.label} (${actor.role})</span><form method="post" action="/admin/logout">${csrfField(actor)}<button class="secondary" type="submit">Sign out</button></form></div>`
    : ''
}
</header>
<main id="main" tabindex="-1">
${input.notice ? html`<p class="notice" role="status">${input.notice}</p>` : ''}
${input.error ? html`<p class="notice error" role="alert">${input.error}</p>` : ''}
<h1>${input.title}</h1>
${input.body}
</main></body></html>`;
}
