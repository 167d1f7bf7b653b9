// How times, durations and seats read on the pages. Times are UTC: the
// schema keeps no time zone per airport.

export function formatDeparture(date: Date): string {
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

export function formatTime(date: Date): string {
  return date.toISOString().slice(11, 16);
}

export function formatDuration(minutes: number): string {
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return h === 0 ? `${m} min` : `${h} h ${String(m).padStart(2, '0')}`;
}

/** Seat 1 is 1A; six seats a row. */
export function seatLabel(seat: number): string {
  return `${Math.ceil(seat / 6)}${'ABCDEF'[(seat - 1) % 6] ?? ''}`;
}
