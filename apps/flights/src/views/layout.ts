// The one layout: header with the navigation (which shows whether someone is
// logged in), main, footer. No inline script or style: the stylesheet is a
// same-origin file, so the CSP needs no 'unsafe-inline' and no nonce here,
// and a page may be kept by a shared cache (which gets no nonce at all).
// The stylesheet's URL is fingerprinted (kitStatic): browsers keep it for a
// year and fetch the new one when it changes.
import { html, type SafeHtml } from '@rampart/kit';

export interface Viewer {
  id: number;
  email: string;
}

export interface PageContext {
  viewer: Viewer | null;
  /** Only called when the page has a form: an anonymous board view creates no session. */
  csrfToken: () => string;
  /** The current URL of a file of public/ (fastify.assetUrl). */
  asset: (name: string) => string;
}

export function csrfField(ctx: PageContext): SafeHtml {
  return html`<input type="hidden" name="_csrf" value="${ctx.csrfToken()}">`;
}

function nav(ctx: PageContext): SafeHtml {
  const viewer = ctx.viewer;
  if (viewer === null) {
    return html`<a href="/login">Log in</a> <a href="/register">Register</a>`;
  }
  return html`<span class="who">${viewer.email}</span>
    <a href="/bookings">My bookings</a>
    <a href="/account/api-keys">API keys</a>
    <form method="post" action="/logout" class="inline">${csrfField(ctx)}<button type="submit">Log out</button></form>`;
}

export function layout(ctx: PageContext, title: string, body: SafeHtml): SafeHtml {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Flights</title>
<link rel="stylesheet" href="${ctx.asset('app.css')}">
</head>
<body>
<header>
  <a href="/" class="brand">Flights</a>
  <form method="get" action="/search" class="inline search"><input type="search" name="q" placeholder="City or airport code" maxlength="100" aria-label="Search"><button type="submit">Search</button></form>
  <nav>${nav(ctx)}</nav>
</header>
<main>
${body}
</main>
<footer>The lecture's flights app, served by rampart.</footer>
</body>
</html>
`;
}
