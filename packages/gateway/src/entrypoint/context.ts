import type { GatewayConfig } from '../config/load.ts';
import type { BadRequestError } from '../errors.ts';
import type { Router } from '../router/router.ts';
import type { Http1Connection, RequestRecord } from './http1-connection.ts';

/**
 * What a client connection needs from the gateway. `config()` and `router()`
 * are read at the start of each request, so a reload applies to the next
 * request of every connection, idle or busy, without dropping any.
 */
export interface EntrypointContext {
  config(): GatewayConfig;
  router(): Router;
  shuttingDown(): boolean;
  isTrustedProxy(address: string): boolean;
  onRequestStart(): void;
  onRequestDone(record: RequestRecord): void;
  onRejected(error: BadRequestError, remote: string): void;
  onTunnelOpen(connection: Http1Connection): void;
  onConnectionClose(connection: Http1Connection): void;
}
