// A store given a URL opens (and later closes) its own client; a store given
// a client shares it and leaves it open.
import { Redis } from 'ioredis';
import { KitError } from '../errors.ts';

export interface OwnedRedis {
  readonly client: Redis;
  close(): Promise<void>;
}

export function useRedis(urlOrClient: string | Redis, who: string): OwnedRedis {
  if (typeof urlOrClient === 'string') {
    if (!/^rediss?:\/\//.test(urlOrClient)) {
      throw new KitError('RAMPART_ERR_SESSION_OPTIONS', `${who}: expected a redis:// or rediss:// URL or an ioredis client`);
    }
    const client = new Redis(urlOrClient, { lazyConnect: false, maxRetriesPerRequest: 2 });
    // Without a listener a lost connection is an unhandled 'error' event;
    // ioredis reconnects by itself and the failed command rejects.
    client.on('error', () => {});
    return { client, close: async () => void (await client.quit().catch(() => client.disconnect())) };
  }
  if (!(urlOrClient instanceof Redis)) throw new KitError('RAMPART_ERR_SESSION_OPTIONS', `${who}: expected a redis:// URL or an ioredis client`);
  return { client: urlOrClient, close: () => Promise.resolve() };
}
