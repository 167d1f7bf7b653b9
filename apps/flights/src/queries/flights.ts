// Reads of airports and flights. Every value reaches PostgreSQL as a
// parameter of the sql tag; LIKE patterns are escaped on top of that, since
// % and _ in a parameter are still wildcards to ILIKE.
import { sql, type Queryable } from '@rampart/data';

export interface Airport {
  id: number;
  code: string;
  name: string;
  city: string;
  country: string;
}

export interface FlightRow {
  id: number;
  number: string;
  kind: 'domestic' | 'international';
  departure: Date;
  duration: number;
  seats: number;
  seatsLeft: number;
  originCode: string;
  originCity: string;
  destinationCode: string;
  destinationCity: string;
}

export interface BoardRow extends FlightRow {
  /** Seats booked through this site (rows in bookings). */
  bookedHere: number;
}

export interface BoardSummary {
  kind: 'domestic' | 'international';
  flights: number;
  seatsSold: number;
}

const FLIGHT_COLUMNS = sql`
  f.id::int as id, f.number, f.kind, f.departure, f.duration, f.seats, f.seats_left as "seatsLeft",
  o.code as "originCode", o.city as "originCity", d.code as "destinationCode", d.city as "destinationCity"`;

const FLIGHT_JOINS = sql`
  join airports o on o.id = f.origin_id
  join airports d on d.id = f.destination_id`;

/**
 * The next `limit` departures of the whole network, with both airports and
 * the seats booked here: the rows of the departures board. Deliberately
 * expensive (an aggregate over all bookings); src/board.ts caches it.
 */
export function nextDepartures(db: Queryable, limit: number): Promise<BoardRow[]> {
  return db.many<BoardRow>(sql`
    select ${FLIGHT_COLUMNS}, coalesce(b.booked, 0) as "bookedHere"
    from flights f
    ${FLIGHT_JOINS}
    left join (select flight_id, flight_kind, count(*)::int as booked from bookings group by flight_id, flight_kind) b
      on b.flight_id = f.id and b.flight_kind = f.kind
    where f.departure >= now()
    order by f.departure, f.id
    limit ${limit}`);
}

/** Flights and seats sold in the next 24 hours, by kind: the board's summary. */
export function nextDaySummary(db: Queryable): Promise<BoardSummary[]> {
  return db.many<BoardSummary>(sql`
    select kind, count(*)::int as flights, coalesce(sum(seats - seats_left), 0)::int as "seatsSold"
    from flights
    where departure >= now() and departure < now() + interval '24 hours'
    group by kind
    order by kind`);
}

/** Both parts of the board, uncached. */
export async function departuresBoard(db: Queryable, limit: number): Promise<{ rows: BoardRow[]; summary: BoardSummary[] }> {
  return { rows: await nextDepartures(db, limit), summary: await nextDaySummary(db) };
}

export function findFlight(db: Queryable, id: number): Promise<FlightRow | null> {
  return db.maybeOne<FlightRow>(sql`select ${FLIGHT_COLUMNS} from flights f ${FLIGHT_JOINS} where f.id = ${id}`);
}

/** `\`, `%` and `_` taken literally by LIKE/ILIKE (with the default escape character `\`). */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** Airports whose code is `q`, or whose city, name or country contains it (case-insensitive). */
export function searchAirports(db: Queryable, q: string, limit = 50): Promise<Airport[]> {
  const pattern = `%${escapeLike(q)}%`;
  return db.many<Airport>(sql`
    select id, code, name, city, country
    from airports
    where code = upper(${q}) or city ilike ${pattern} or name ilike ${pattern} or country ilike ${pattern}
    order by city, code
    limit ${limit}`);
}

export function nextDeparturesFrom(db: Queryable, airportIds: readonly number[], limit: number): Promise<FlightRow[]> {
  return db.many<FlightRow>(sql`
    select ${FLIGHT_COLUMNS}
    from flights f
    ${FLIGHT_JOINS}
    where f.origin_id = any(${airportIds}::int[]) and f.departure >= now()
    order by f.departure, f.id
    limit ${limit}`);
}

export interface RouteQuery {
  from: string;
  to?: string;
  /** A UTC day, YYYY-MM-DD: departures on that day. Without it: the next departures from now. */
  date?: string;
  limit: number;
}

export function flightsOnRoute(db: Queryable, q: RouteQuery): Promise<FlightRow[]> {
  const to = q.to === undefined ? sql.empty : sql`and d.code = upper(${q.to})`;
  const when = q.date === undefined ? sql`and f.departure >= now()` : sql`and f.departure >= (${q.date}::date)::timestamp at time zone 'UTC' and f.departure < (${q.date}::date + 1)::timestamp at time zone 'UTC'`;
  return db.many<FlightRow>(sql`
    select ${FLIGHT_COLUMNS}
    from flights f
    ${FLIGHT_JOINS}
    where o.code = upper(${q.from}) ${to} ${when}
    order by f.departure, f.id
    limit ${q.limit}`);
}
