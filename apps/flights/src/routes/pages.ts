// Public pages: the departures board, a flight, search; and booking a seat.
import type { FastifyInstance } from 'fastify';
import type { Db } from '@rampart/data';
import type { Cache } from '@rampart/kit';
import { BOARD_MAX_AGE, BOARD_TAG, boardCacheControl, invalidateBoard, loadBoard } from '../board.ts';
import { bookSeat } from '../queries/bookings.ts';
import { findFlight, nextDeparturesFrom, searchAirports } from '../queries/flights.ts';
import { BOOK_BODY, ID_PARAMS, SEARCH_QUERY } from '../schemas.ts';
import { pageContext } from '../context.ts';
import { boardPage, flightPage, searchPage } from '../views/flights.ts';
import { fullFlightPage, notFoundPage } from '../views/errors.ts';

export function pageRoutes(app: FastifyInstance, db: Db, cache: Cache): void {
  // The whole page is kept for anonymous visitors (kitCache), for at most
  // the s-maxage it sends; the query string plays no part in it.
  app.get('/', { config: { cache: { ttl: BOARD_MAX_AGE, tags: [BOARD_TAG], key: () => '/' } } }, async function board(request, reply) {
    const board = await loadBoard(cache, db);
    // A logged-in viewer's page is private, no-store (context.ts).
    if (request.viewer === null) reply.header('cache-control', boardCacheControl(board.validFor));
    return reply.html(boardPage(pageContext(request), board));
  });

  app.get<{ Params: { id: number } }>('/flights/:id', { schema: { params: ID_PARAMS } }, async function flight(request, reply) {
    const f = await findFlight(db, request.params.id);
    if (f === null) return reply.html(notFoundPage(pageContext(request), request.url), 404);
    return reply.html(flightPage(pageContext(request), f));
  });

  app.get<{ Querystring: { q?: string } }>('/search', { schema: { querystring: SEARCH_QUERY } }, async function search(request, reply) {
    const q = (request.query.q ?? '').trim();
    const airports = q === '' ? [] : await searchAirports(db, q);
    const departures = airports.length === 0 ? [] : await nextDeparturesFrom(db, airports.map((a) => a.id), 20);
    return reply.html(searchPage(pageContext(request), q, airports, departures));
  });

  app.post<{ Params: { id: number }; Body: { passenger_name: string } }>(
    '/flights/:id/book',
    { schema: { params: ID_PARAMS, body: BOOK_BODY } },
    async function book(request, reply) {
      const viewer = request.viewer;
      if (viewer === null) return reply.redirect(`/login?next=${encodeURIComponent(`/flights/${request.params.id}`)}`, 303);
      const name = request.body.passenger_name.trim();
      if (name === '') return reply.redirect(`/flights/${request.params.id}`, 303);
      const result = await bookSeat(db, { flightId: request.params.id, userId: viewer.id, passengerName: name });
      if (result.ok) {
        await invalidateBoard(cache, request.log);
        return reply.redirect(`/bookings?booked=${result.id}`, 303);
      }
      if (result.reason === 'full') return reply.html(fullFlightPage(pageContext(request), request.params.id), 409);
      return reply.html(notFoundPage(pageContext(request), `/flights/${request.params.id}`), 404);
    },
  );
}
