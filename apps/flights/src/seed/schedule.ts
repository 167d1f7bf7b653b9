// The flight schedule the seed writes, as column arrays ready for unnest():
// deterministic for the same options, plausible (durations from great-circle
// distance, seat counts by range, a mix of domestic and international).
import { createRandom } from './prng.ts';
import { AIRPORTS, type AirportRow } from './airports.ts';

export interface ScheduleOptions {
  flights: number;
  /** First possible departure; departures spread over `days` after it, on 5-minute marks. */
  start: Date;
  days: number;
  seed: number;
}

export interface Schedule {
  id: number[];
  kind: string[];
  number: string[];
  originId: number[];
  destinationId: number[];
  departure: string[];
  duration: number[];
  seats: number[];
  seatsLeft: number[];
}

// Big hubs are picked three times as often, so the board looks like an airport's.
const HUBS = new Set(['JFK', 'LHR', 'CDG', 'PVG', 'IST', 'NRT', 'LAX', 'ORD', 'ATL', 'DFW', 'DXB', 'FRA', 'AMS', 'SIN', 'HND', 'PEK', 'ICN', 'HKG', 'DEL', 'MAD', 'SYD', 'GRU', 'DOH']);
const DOMESTIC_SHARE = 0.45;
const SOLD_OUT_SHARE = 0.02;

interface Airport {
  id: number;
  code: string;
  country: string;
  lat: number;
  lon: number;
  weight: number;
}

/** Airport ids are positions in AIRPORTS, from 1: the seed inserts them with these ids. */
export function airportsWithIds(): Airport[] {
  return AIRPORTS.map((row: AirportRow, i) => ({ id: i + 1, code: row[0], country: row[3], lat: row[4], lon: row[5], weight: HUBS.has(row[0]) ? 3 : 1 }));
}

/** Great-circle distance in km (haversine, mean Earth radius). */
export function distanceKm(a: { lat: number; lon: number }, b: { lat: number; lon: number }): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371 * Math.asin(Math.sqrt(h));
}

/** Block time in minutes: ~830 km/h cruise plus 30 minutes of taxi, climb and approach, on 5-minute marks. */
export function durationMinutes(km: number): number {
  return Math.max(30, Math.round((30 + (km / 830) * 60) / 5) * 5);
}

function seatsFor(km: number, pick: (n: number) => number): number {
  const options = km < 1500 ? [132, 150, 174, 180, 186] : km < 4500 ? [180, 200, 220, 240] : [250, 300, 350, 400];
  return options[pick(options.length)] as number;
}

export function generateSchedule(options: ScheduleOptions): Schedule {
  const random = createRandom(options.seed);
  const airports = airportsWithIds();
  const byCountry = new Map<string, Airport[]>();
  for (const a of airports) byCountry.set(a.country, [...(byCountry.get(a.country) ?? []), a]);
  const domesticOrigins = airports.filter((a) => (byCountry.get(a.country)?.length ?? 0) >= 2);
  const abroad = new Map([...byCountry.keys()].map((country) => [country, airports.filter((a) => a.country !== country)]));
  const weight = (a: Airport) => a.weight;
  const slots = options.days * 24 * 12;
  const startMs = options.start.getTime();

  const s: Schedule = { id: [], kind: [], number: [], originId: [], destinationId: [], departure: [], duration: [], seats: [], seatsLeft: [] };
  for (let i = 0; i < options.flights; i++) {
    const domestic = random.next() < DOMESTIC_SHARE;
    const origin = random.weighted(domestic ? domesticOrigins : airports, weight);
    const candidates = domestic ? (byCountry.get(origin.country) ?? []).filter((a) => a.id !== origin.id) : (abroad.get(origin.country) ?? []);
    const destination = random.weighted(candidates, weight);
    const km = distanceKm(origin, destination);
    const seats = seatsFor(km, (n) => random.below(n));
    const soldOut = random.next() < SOLD_OUT_SHARE;
    s.id.push(i + 1);
    s.kind.push(domestic ? 'domestic' : 'international');
    s.number.push(`RA ${1 + random.below(9999)}`);
    s.originId.push(origin.id);
    s.destinationId.push(destination.id);
    s.departure.push(new Date(startMs + random.below(slots) * 5 * 60_000).toISOString());
    s.duration.push(durationMinutes(km));
    s.seats.push(seats);
    s.seatsLeft.push(soldOut ? 0 : seats - Math.floor(seats * random.next() * 0.95));
  }
  return s;
}
