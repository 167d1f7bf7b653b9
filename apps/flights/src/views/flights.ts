// Pages about flights: the departures board, a flight, a search.
import { html, type SafeHtml } from '@rampart/kit';
import type { Airport, BoardRow, BoardSummary, FlightRow } from '../queries/flights.ts';
import { csrfField, layout, type PageContext } from './layout.ts';
import { formatDeparture, formatDuration } from './format.ts';

function seatsCell(f: FlightRow): SafeHtml {
  return f.seatsLeft === 0 ? html`<td class="num full">full</td>` : html`<td class="num">${f.seatsLeft}</td>`;
}

function route(f: FlightRow): SafeHtml {
  return html`<td>${f.originCity} (${f.originCode})</td><td>${f.destinationCity} (${f.destinationCode})</td>`;
}

/** The next 24 hours by kind: a fragment of the board, cached by itself (src/board.ts). */
export function boardSummary(summary: BoardSummary[]): SafeHtml {
  return html`<div class="summary">${summary.map((s) => html`<p><strong>${s.flights}</strong> ${s.kind} flights in the next 24 hours, <strong>${s.seatsSold}</strong> seats sold</p>`)}</div>`;
}

export function boardPage(ctx: PageContext, board: { rows: BoardRow[]; summary: SafeHtml }): SafeHtml {
  return layout(
    ctx,
    'Departures',
    html`<h1>Departures</h1>
${board.summary}
<table>
<thead><tr><th>Departure</th><th>Flight</th><th>From</th><th>To</th><th>Duration</th><th class="num">Seats left</th><th class="num">Booked here</th></tr></thead>
<tbody>
${board.rows.map(
  (f) => html`<tr><td>${formatDeparture(f.departure)}</td><td><a href="/flights/${f.id}">${f.number}</a></td>${route(f)}<td>${formatDuration(f.duration)}</td>${seatsCell(f)}<td class="num">${f.bookedHere}</td></tr>
`,
)}</tbody>
</table>
${board.rows.length === 0 && html`<p>No departures scheduled.</p>`}`,
  );
}

export function flightPage(ctx: PageContext, f: FlightRow): SafeHtml {
  let booking: SafeHtml;
  if (f.seatsLeft === 0) booking = html`<p class="full">This flight is full.</p>`;
  else if (ctx.viewer === null) booking = html`<p><a href="/login?next=/flights/${f.id}">Log in</a> to book a seat.</p>`;
  else {
    booking = html`<form method="post" action="/flights/${f.id}/book">
${csrfField(ctx)}
<label>Passenger name <input type="text" name="passenger_name" required maxlength="100"></label>
<button type="submit">Book a seat</button>
</form>`;
  }
  return layout(
    ctx,
    `Flight ${f.number}`,
    html`<h1>Flight ${f.number}: ${f.originCode} → ${f.destinationCode}</h1>
<dl>
<dt>From</dt><dd>${f.originCity} (${f.originCode})</dd>
<dt>To</dt><dd>${f.destinationCity} (${f.destinationCode})</dd>
<dt>Departure</dt><dd>${formatDeparture(f.departure)}</dd>
<dt>Duration</dt><dd>${formatDuration(f.duration)}</dd>
<dt>Kind</dt><dd>${f.kind}</dd>
<dt>Seats left</dt><dd>${f.seatsLeft} of ${f.seats}</dd>
</dl>
${booking}`,
  );
}

export function searchPage(ctx: PageContext, q: string, airports: Airport[], departures: FlightRow[]): SafeHtml {
  const results =
    q === ''
      ? html`<p>Search by city, airport name, country or IATA code.</p>`
      : airports.length === 0
        ? html`<p>No airport matches “${q}”.</p>`
        : html`<h2>Airports</h2>
<ul class="airports">${airports.map((a) => html`<li><strong>${a.code}</strong> ${a.name}, ${a.city}, ${a.country}</li>`)}</ul>
<h2>Next departures</h2>
<table>
<thead><tr><th>Departure</th><th>Flight</th><th>From</th><th>To</th><th class="num">Seats left</th></tr></thead>
<tbody>
${departures.map((f) => html`<tr><td>${formatDeparture(f.departure)}</td><td><a href="/flights/${f.id}">${f.number}</a></td>${route(f)}${seatsCell(f)}</tr>\n`)}</tbody>
</table>`;
  return layout(
    ctx,
    q === '' ? 'Search' : `Search: ${q}`,
    html`<h1>Search</h1>
<form method="get" action="/search"><input type="search" name="q" value="${q}" maxlength="100" aria-label="City or code"> <button type="submit">Search</button></form>
${results}`,
  );
}
