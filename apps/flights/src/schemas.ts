// JSON schemas of every route's input. Ids are positive integers within
// PostgreSQL's int range (a bigger one would make the query fail, a 500);
// every string is bounded.

export const ID_PARAMS = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'integer', minimum: 1, maximum: 2_147_483_647 } },
} as const;

/** Every HTML form carries the CSRF token; kitCsrf checks it, the schema only bounds it. */
const CSRF = { type: 'string', maxLength: 512 } as const;
const EMAIL = { type: 'string', minLength: 1, maxLength: 254 } as const;
// Long enough for any passphrase (the policy caps at 128 code points, which
// can be up to 512 UTF-16 units); short enough that nobody hashes a megabyte.
const PASSWORD = { type: 'string', minLength: 1, maxLength: 1024 } as const;

export const SEARCH_QUERY = {
  type: 'object',
  properties: { q: { type: 'string', maxLength: 100 } },
} as const;

export const BOOK_BODY = {
  type: 'object',
  required: ['passenger_name'],
  properties: { _csrf: CSRF, passenger_name: { type: 'string', minLength: 1, maxLength: 100 } },
} as const;

export const LOGIN_QUERY = {
  type: 'object',
  properties: { next: { type: 'string', maxLength: 2048 }, registered: { type: 'string', maxLength: 1 }, reset: { type: 'string', maxLength: 1 } },
} as const;

export const LOGIN_BODY = {
  type: 'object',
  required: ['email', 'password'],
  properties: { _csrf: CSRF, email: EMAIL, password: PASSWORD, next: { type: 'string', maxLength: 2048 } },
} as const;

export const REGISTER_BODY = {
  type: 'object',
  required: ['email', 'password'],
  properties: { _csrf: CSRF, email: EMAIL, password: PASSWORD },
} as const;

export const RESET_REQUEST_BODY = {
  type: 'object',
  required: ['email'],
  properties: { _csrf: CSRF, email: EMAIL },
} as const;

export const RESET_TOKEN_QUERY = {
  type: 'object',
  required: ['token'],
  properties: { token: { type: 'string', minLength: 1, maxLength: 512 } },
} as const;

export const RESET_CONFIRM_BODY = {
  type: 'object',
  required: ['token', 'password'],
  properties: { _csrf: CSRF, token: { type: 'string', minLength: 1, maxLength: 512 }, password: PASSWORD },
} as const;

export const API_KEY_CREATE_BODY = {
  type: 'object',
  required: ['name', 'scopes'],
  properties: {
    _csrf: CSRF,
    name: { type: 'string', minLength: 1, maxLength: 100 },
    // A single checked box arrives as a string; Fastify's coerceTypes: 'array' makes it a list.
    scopes: { type: 'array', minItems: 1, maxItems: 2, uniqueItems: true, items: { type: 'string', enum: ['flights:read', 'bookings:write'] } },
  },
} as const;

export const API_KEY_ID_PARAMS = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', pattern: '^[0-9a-fA-F-]{36}$' } },
} as const;

export const API_FLIGHTS_QUERY = {
  type: 'object',
  required: ['from'],
  additionalProperties: false,
  properties: {
    from: { type: 'string', pattern: '^[A-Za-z]{3}$' },
    to: { type: 'string', pattern: '^[A-Za-z]{3}$' },
    date: { type: 'string', format: 'date' },
    limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
  },
} as const;

const API_FLIGHT = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    number: { type: 'string' },
    kind: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    departure: { type: 'string', format: 'date-time' },
    durationMinutes: { type: 'integer' },
    seatsLeft: { type: 'integer' },
  },
} as const;

export const API_FLIGHTS_RESPONSE = {
  200: { type: 'object', properties: { flights: { type: 'array', items: API_FLIGHT } } },
} as const;

export const API_BOOKING_BODY = {
  type: 'object',
  required: ['flightId', 'passengerName'],
  additionalProperties: false,
  properties: {
    flightId: { type: 'integer', minimum: 1, maximum: 2_147_483_647 },
    passengerName: { type: 'string', minLength: 1, maxLength: 100, pattern: '\\S' },
  },
} as const;

export const API_BOOKING_RESPONSE = {
  201: {
    type: 'object',
    properties: { id: { type: 'integer' }, flightId: { type: 'integer' }, seat: { type: 'integer' }, passengerName: { type: 'string' } },
  },
} as const;
