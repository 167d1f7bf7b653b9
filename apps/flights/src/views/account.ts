// Pages about the account: register, log in, reset a password, my bookings,
// API keys.
import { html, type SafeHtml } from '@rampart/kit';
import type { ApiKeyInfo } from '@rampart/kit';
import type { MyBooking } from '../queries/bookings.ts';
import { csrfField, layout, type PageContext } from './layout.ts';
import { formatDeparture, seatLabel } from './format.ts';

function messages(notice?: string, error?: string): SafeHtml {
  return html`${notice !== undefined && html`<p class="notice">${notice}</p>`}${error !== undefined && html`<p class="error" role="alert">${error}</p>`}`;
}

export function loginPage(ctx: PageContext, form: { email?: string; next?: string; error?: string; notice?: string }): SafeHtml {
  return layout(
    ctx,
    'Log in',
    html`<h1>Log in</h1>
${messages(form.notice, form.error)}
<form method="post" action="/login">
${csrfField(ctx)}
${form.next !== undefined && html`<input type="hidden" name="next" value="${form.next}">`}
<label>Email <input type="email" name="email" value="${form.email ?? ''}" required maxlength="254" autocomplete="username"></label>
<label>Password <input type="password" name="password" required maxlength="1024" autocomplete="current-password"></label>
<button type="submit">Log in</button>
</form>
<p><a href="/password-reset">Forgot your password?</a> · <a href="/register">Create an account</a></p>`,
  );
}

export function registerPage(ctx: PageContext, form: { email?: string; error?: string }): SafeHtml {
  return layout(
    ctx,
    'Register',
    html`<h1>Create an account</h1>
${messages(undefined, form.error)}
<form method="post" action="/register">
${csrfField(ctx)}
<label>Email <input type="email" name="email" value="${form.email ?? ''}" required maxlength="254" autocomplete="username"></label>
<label>Password <input type="password" name="password" required minlength="8" maxlength="1024" autocomplete="new-password"></label>
<p>At least 8 characters; a few unrelated words make a good one. Common passwords are refused.</p>
<button type="submit">Register</button>
</form>`,
  );
}

export function resetRequestPage(ctx: PageContext, form: { sent?: boolean }): SafeHtml {
  return layout(
    ctx,
    'Reset your password',
    html`<h1>Reset your password</h1>
${form.sent === true && html`<p class="notice">If an account exists for that address, we have sent it a link to choose a new password. The link works for 30 minutes.</p>`}
<form method="post" action="/password-reset">
${csrfField(ctx)}
<label>Email <input type="email" name="email" required maxlength="254" autocomplete="username"></label>
<button type="submit">Send me a link</button>
</form>`,
  );
}

export function resetConfirmPage(ctx: PageContext, form: { token: string; valid: boolean; error?: string }): SafeHtml {
  if (!form.valid) {
    return layout(ctx, 'Reset link not valid', html`<h1>This link does not work</h1><p>It has expired or was used already. <a href="/password-reset">Ask for a new one</a>.</p>`);
  }
  return layout(
    ctx,
    'Choose a new password',
    html`<h1>Choose a new password</h1>
${messages(undefined, form.error)}
<form method="post" action="/password-reset/confirm">
${csrfField(ctx)}
<input type="hidden" name="token" value="${form.token}">
<label>New password <input type="password" name="password" required minlength="8" maxlength="1024" autocomplete="new-password"></label>
<button type="submit">Set password</button>
</form>`,
  );
}

export function bookingsPage(ctx: PageContext, bookings: MyBooking[], booked?: number): SafeHtml {
  return layout(
    ctx,
    'My bookings',
    html`<h1>My bookings</h1>
${booked !== undefined && html`<p class="notice">Booked: your seat is confirmed.</p>`}
${
  bookings.length === 0
    ? html`<p>No bookings yet. <a href="/">Find a flight</a>.</p>`
    : html`<table>
<thead><tr><th>Flight</th><th>From</th><th>To</th><th>Departure</th><th>Passenger</th><th>Seat</th></tr></thead>
<tbody>
${bookings.map(
  (b) => html`<tr${b.id === booked ? html` class="new"` : false}><td><a href="/flights/${b.flightId}">${b.number}</a></td><td>${b.originCity} (${b.originCode})</td><td>${b.destinationCity} (${b.destinationCode})</td><td>${formatDeparture(b.departure)}</td><td>${b.passengerName}</td><td>${seatLabel(b.seat)}</td></tr>\n`,
)}</tbody>
</table>`
}`,
  );
}

export const API_SCOPES = ['flights:read', 'bookings:write'] as const;

function keyState(k: ApiKeyInfo, now: Date): string {
  if (k.revokedAt !== null && k.revokedAt <= now) return 'revoked';
  if (k.expiresAt !== null && k.expiresAt <= now) return 'expired';
  return 'active';
}

export function apiKeysPage(ctx: PageContext, keys: ApiKeyInfo[], created?: { key: string; name: string }, error?: string): SafeHtml {
  const now = new Date();
  return layout(
    ctx,
    'API keys',
    html`<h1>API keys</h1>
${
  created !== undefined &&
  html`<div class="notice"><p>Your new key “${created.name}”. Copy it now: it is shown only once.</p><p class="key">${created.key}</p>
<p>Use it as <code>Authorization: Bearer &lt;key&gt;</code>.</p></div>`
}
${messages(undefined, error)}
${
  keys.length === 0
    ? html`<p>You have no API keys.</p>`
    : html`<table>
<thead><tr><th>Name</th><th>Key</th><th>Scopes</th><th>Created</th><th>Last used</th><th>State</th><th></th></tr></thead>
<tbody>
${keys.map((k) => {
  const state = keyState(k, now);
  return html`<tr><td>${k.name}</td><td><code>${k.prefix}…</code></td><td>${k.scopes.join(' ')}</td><td>${formatDeparture(k.createdAt)}</td><td>${k.lastUsedAt === null ? 'never' : formatDeparture(k.lastUsedAt)}</td><td>${state}</td>
<td>${state === 'active' && html`<form method="post" action="/account/api-keys/${k.id}/revoke" class="inline">${csrfField(ctx)}<button type="submit">Revoke</button></form>`}</td></tr>\n`;
})}</tbody>
</table>`
}
<h2>New key</h2>
<form method="post" action="/account/api-keys">
${csrfField(ctx)}
<label>Name <input type="text" name="name" required maxlength="100"></label>
${API_SCOPES.map((s) => html`<label><input type="checkbox" name="scopes" value="${s}"> ${s}</label>`)}
<button type="submit">Create key</button>
</form>`,
  );
}
