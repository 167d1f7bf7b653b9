// Booking a seat without overselling: the seat count is decremented by one
// UPDATE … WHERE seats_left > 0 in the booking's transaction. Concurrent
// bookings of one flight queue on that row's lock, and each re-checks
// seats_left > 0 on the row as the previous one left it (READ COMMITTED
// re-evaluates the WHERE clause on the updated row: PostgreSQL docs 13.2.1),
// so exactly seats_left of them succeed. The seat number comes from the same
// UPDATE, which makes it unique too; the unique constraint is the backstop.
import { sql, type Db, type Queryable } from '@rampart/data';

export type BookingResult =
  | { ok: true; id: number; flightId: number; seat: number }
  | { ok: false; reason: 'not-found' | 'full' };

export async function bookSeat(db: Db, input: { flightId: number; userId: number; passengerName: string }): Promise<BookingResult> {
  return db.transaction(async (tx) => {
    const taken = await tx.maybeOne<{ kind: string; seat: number }>(sql`
      update flights set seats_left = seats_left - 1
      where id = ${input.flightId} and seats_left > 0
      returning kind, seats - seats_left as seat`);
    if (taken === null) {
      const exists = await tx.maybeOne(sql`select 1 from flights where id = ${input.flightId}`);
      return { ok: false, reason: exists === null ? 'not-found' : 'full' };
    }
    const { id } = await tx.one<{ id: number }>(sql`
      insert into bookings (flight_id, flight_kind, user_id, passenger_name, seat)
      values (${input.flightId}, ${taken.kind}, ${input.userId}, ${input.passengerName}, ${taken.seat})
      returning id::int as id`);
    return { ok: true, id, flightId: input.flightId, seat: taken.seat };
  });
}

export interface MyBooking {
  id: number;
  flightId: number;
  number: string;
  departure: Date;
  duration: number;
  originCode: string;
  originCity: string;
  destinationCode: string;
  destinationCity: string;
  passengerName: string;
  seat: number;
  createdAt: Date;
}

export function bookingsOf(db: Queryable, userId: number): Promise<MyBooking[]> {
  return db.many<MyBooking>(sql`
    select b.id::int as id, f.id::int as "flightId", f.number, f.departure, f.duration,
      o.code as "originCode", o.city as "originCity", d.code as "destinationCode", d.city as "destinationCity",
      b.passenger_name as "passengerName", b.seat, b.created_at as "createdAt"
    from bookings b
    join flights f on f.id = b.flight_id and f.kind = b.flight_kind
    join airports o on o.id = f.origin_id
    join airports d on d.id = f.destination_id
    where b.user_id = ${userId}
    order by b.created_at desc, b.id desc
    limit 200`);
}
