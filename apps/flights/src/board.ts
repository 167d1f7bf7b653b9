// The departures board, cached at the three levels of the lecture, all
// tagged `board` and dropped by every booking (invalidateBoard):
//
//   low-level  the rows (the expensive query): cache.wrap, as JSON;
//   fragment   the next-24-hours summary, rendered: cache.fragment;
//   per-view   the whole page for anonymous visitors: kitCache (routes/pages.ts),
//              and the gateway's edge cache through Cache-Control.
//
// The board also moves with time: it lists departures from now, so the
// first row leaves it the moment that flight departs. Every level therefore
// keeps the board only until the first listed departure (and at most a
// minute): the rows' entry expires then, and the page's s-maxage and
// stale-while-revalidate together never reach past it. The minute bounds
// the summary, whose count also changes when a flight 24 hours ahead enters
// the window.
import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '@rampart/data';
import type { Cache, SafeHtml } from '@rampart/kit';
import { nextDaySummary, nextDepartures, type BoardRow } from './queries/flights.ts';
import { boardSummary } from './views/flights.ts';

export const BOARD_TAG = 'board';
export const BOARD_SIZE = 50;
/** Milliseconds any level keeps the board at most. */
export const BOARD_MAX_AGE = 60_000;
/**
 * Seconds a shared cache may keep the anonymous page. A booking drops the
 * app's copies at once but cannot purge the edge's, so this (plus the
 * stale-while-revalidate window) bounds how old the seat counts can be there.
 */
export const BOARD_SHARED_MAX_AGE = 5;
export const BOARD_STALE_WHILE_REVALIDATE = 5;

export interface Board {
  rows: BoardRow[];
  summary: SafeHtml;
  /** Milliseconds until the first listed flight departs (at most BOARD_MAX_AGE). */
  validFor: number;
}

type StoredRow = Omit<BoardRow, 'departure'> & { departure: string };

export async function loadBoard(cache: Cache, db: Db): Promise<Board> {
  // Cached values are JSON: the departure travels as an ISO string.
  const stored = await cache.wrap<StoredRow[]>('board:rows', { ttl: BOARD_MAX_AGE, tags: [BOARD_TAG] }, async (entry) => {
    const rows = await nextDepartures(db, BOARD_SIZE);
    if (rows[0] !== undefined) entry.ttl = Math.max(0, Math.min(entry.ttl, rows[0].departure.getTime() - Date.now()));
    return rows.map((r) => ({ ...r, departure: r.departure.toISOString() }));
  });
  const rows = stored.map((r) => ({ ...r, departure: new Date(r.departure) }));
  const first = rows[0];
  const validFor = first === undefined ? BOARD_MAX_AGE : Math.max(0, Math.min(BOARD_MAX_AGE, first.departure.getTime() - Date.now()));
  const summary = await cache.fragment('board:summary', { ttl: BOARD_MAX_AGE, tags: [BOARD_TAG] }, async (entry) => {
    entry.ttl = validFor;
    return boardSummary(await nextDaySummary(db));
  });
  return { rows, summary, validFor };
}

/**
 * Cache-Control of the board for anonymous visitors: browsers revalidate
 * every time (max-age=0, and get a 304 from the strong ETag), shared caches
 * keep it a few seconds, never past the first departure.
 */
export function boardCacheControl(validForMs: number): string {
  const seconds = Math.floor(validForMs / 1000);
  const shared = Math.min(BOARD_SHARED_MAX_AGE, seconds);
  const stale = Math.min(BOARD_STALE_WHILE_REVALIDATE, seconds - shared);
  return `public, max-age=0, s-maxage=${shared}${stale > 0 ? `, stale-while-revalidate=${stale}` : ''}`;
}

/** After a booking: seats left, booked here and seats sold have changed. */
export async function invalidateBoard(cache: Cache, log: FastifyBaseLogger): Promise<void> {
  try {
    await cache.invalidateTags([BOARD_TAG]);
  } catch (err) {
    // The booking stands; the board catches up within BOARD_MAX_AGE.
    log.error({ err }, 'could not invalidate the departures board');
  }
}
