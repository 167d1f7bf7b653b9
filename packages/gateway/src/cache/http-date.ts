// HTTP-date (RFC 9110 §5.6.7): IMF-fixdate, and the obsolete RFC 850 and
// asctime forms that recipients must still read. Date.parse is not used: it
// accepts far more than HTTP allows (`0`, `2024`, local times) and would turn
// an invalid Expires, which means "already expired", into a date.

const MONTHS: Record<string, number> = { jan: 0, feb: 1, mar: 2, apr: 3, may: 4, jun: 5, jul: 6, aug: 7, sep: 8, oct: 9, nov: 10, dec: 11 };
const SHORT_DAYS = new Set(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']);
const LONG_DAYS = new Set(['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday']);

// RFC 9111 §4.2: a cache reads dates case-insensitively, hence the `i` flags.
const IMF_FIXDATE = /^([a-z]{3}), (\d{2}) ([a-z]{3}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/i;
const RFC850 = /^([a-z]{6,9}), (\d{2})-([a-z]{3})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) GMT$/i;
const ASCTIME = /^([a-z]{3}) ([a-z]{3}) ([ \d]\d) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/i;

/** Milliseconds since the epoch, or undefined when `value` is not an HTTP-date. */
export function parseHttpDate(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  let m = IMF_FIXDATE.exec(text);
  if (m !== null) {
    if (!SHORT_DAYS.has(m[1]!.toLowerCase())) return undefined;
    return build(Number(m[4]), m[3]!, Number(m[2]), Number(m[5]), Number(m[6]), Number(m[7]));
  }
  m = RFC850.exec(text);
  if (m !== null) {
    if (!LONG_DAYS.has(m[1]!.toLowerCase())) return undefined;
    // §5.6.7: a two-digit year that would be more than 50 years in the future is in the past century.
    const yy = Number(m[4]);
    const thisYear = new Date(now).getUTCFullYear();
    let year = Math.floor(thisYear / 100) * 100 + yy;
    if (year > thisYear + 50) year -= 100;
    return build(year, m[3]!, Number(m[2]), Number(m[5]), Number(m[6]), Number(m[7]));
  }
  m = ASCTIME.exec(text);
  if (m !== null) {
    if (!SHORT_DAYS.has(m[1]!.toLowerCase())) return undefined;
    return build(Number(m[7]), m[2]!, Number(m[3]!.trim()), Number(m[4]), Number(m[5]), Number(m[6]));
  }
  return undefined;
}

function build(year: number, monthName: string, day: number, hour: number, minute: number, second: number): number | undefined {
  const month = MONTHS[monthName.toLowerCase()];
  // 60 seconds: a leap second, which §5.6.7 allows.
  if (month === undefined || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return undefined;
  const ms = Date.UTC(year, month, day, hour, minute, Math.min(second, 59));
  // Date.UTC rolls 31 Feb over into March; such a date is invalid.
  if (new Date(ms).getUTCDate() !== day) return undefined;
  return ms;
}

const DAY_NAMES = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTH_NAMES = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** IMF-fixdate, the only form a sender generates. */
export function formatHttpDate(ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => (n < 10 ? `0${n}` : String(n));
  return `${DAY_NAMES[d.getUTCDay()]!}, ${two(d.getUTCDate())} ${MONTH_NAMES[d.getUTCMonth()]!} ${d.getUTCFullYear()} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} GMT`;
}
