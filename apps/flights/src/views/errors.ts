// Error pages. The 404 page is the lecture's XSS example, fixed: the path is
// text in the page, escaped by html`…`, never markup.
import { html, type SafeHtml } from '@rampart/kit';
import { layout, type PageContext } from './layout.ts';

export function notFoundPage(ctx: PageContext, path: string): SafeHtml {
  return layout(ctx, 'Not Found', html`<h1>Not Found: ${path}</h1><p><a href="/">Back to the departures</a></p>`);
}

export function fullFlightPage(ctx: PageContext, flightId: number): SafeHtml {
  return layout(
    ctx,
    'Flight full',
    html`<h1>Sorry, this flight is full</h1><p>Someone booked the last seat first. <a href="/flights/${flightId}">Back to the flight</a> or <a href="/">pick another departure</a>.</p>`,
  );
}

export function errorPage(ctx: PageContext, status: number): SafeHtml {
  const [title, text] =
    status === 403
      ? ['Forbidden', 'This form has expired or did not come from this site. Go back, reload the page and try again.']
      : status === 413
        ? ['Too large', 'That request was too large.']
        : status >= 500
          ? ['Something went wrong', 'Something went wrong on our side. Please try again in a moment.']
          : ['Bad request', 'That request was not valid. Go back and check what you entered.'];
  return layout(ctx, title, html`<h1>${title}</h1><p>${text}</p><p><a href="/">Back to the departures</a></p>`);
}
