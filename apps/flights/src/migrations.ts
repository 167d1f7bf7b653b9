// The migrations the flights app needs, in order: the kit's (sessions, API
// keys) and then the app's own.
import path from 'node:path';
import { migrate, type Db } from '@rampart/data';
import { KIT_MIGRATIONS } from '@rampart/kit';

export const FLIGHTS_MIGRATIONS: string = path.join(import.meta.dirname, '..', 'migrations');

export function migrateFlights(db: Db, log?: (message: string) => void): Promise<{ applied: string[]; current: string[] }> {
  return migrate(db, [KIT_MIGRATIONS, FLIGHTS_MIGRATIONS], { log });
}
