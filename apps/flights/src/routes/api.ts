// The JSON API: API keys only (Authorization: Bearer), never the session
// cookie, so there is nothing for a cross-site form to ride on and the CSRF
// check is off for these routes. The key is checked in onRequest, before the
// body is read or validated: a caller without a key learns nothing else.
import type { FastifyInstance } from 'fastify';
import type { Db } from '@rampart/data';
import { requireApiKey, type Cache } from '@rampart/kit';
import { invalidateBoard } from '../board.ts';
import { bookSeat } from '../queries/bookings.ts';
import { flightsOnRoute } from '../queries/flights.ts';
import { API_BOOKING_BODY, API_BOOKING_RESPONSE, API_FLIGHTS_QUERY, API_FLIGHTS_RESPONSE } from '../schemas.ts';

export function apiRoutes(app: FastifyInstance, db: Db, cache: Cache): void {
  app.get<{ Querystring: { from: string; to?: string; date?: string; limit: number } }>(
    '/api/flights',
    { schema: { querystring: API_FLIGHTS_QUERY, response: API_FLIGHTS_RESPONSE }, onRequest: requireApiKey('flights:read'), config: { csrf: false } },
    async function listFlights(request) {
      const rows = await flightsOnRoute(db, request.query);
      return {
        flights: rows.map((f) => ({ id: f.id, number: f.number, kind: f.kind, from: f.originCode, to: f.destinationCode, departure: f.departure.toISOString(), durationMinutes: f.duration, seatsLeft: f.seatsLeft })),
      };
    },
  );

  app.post<{ Body: { flightId: number; passengerName: string } }>(
    '/api/bookings',
    { schema: { body: API_BOOKING_BODY, response: API_BOOKING_RESPONSE }, onRequest: requireApiKey('bookings:write'), config: { csrf: false } },
    async function createBooking(request, reply) {
      const ownerId = Number(request.apiKey?.ownerId);
      const passengerName = request.body.passengerName.trim();
      const result = await bookSeat(db, { flightId: request.body.flightId, userId: ownerId, passengerName });
      if (result.ok) {
        await invalidateBoard(cache, request.log);
        return reply.code(201).send({ id: result.id, flightId: result.flightId, seat: result.seat, passengerName });
      }
      return result.reason === 'full'
        ? reply.code(409).send({ statusCode: 409, error: 'Conflict', message: 'This flight is full.' })
        : reply.code(404).send({ statusCode: 404, error: 'Not Found', message: `No flight ${request.body.flightId}.` });
    },
  );
}
