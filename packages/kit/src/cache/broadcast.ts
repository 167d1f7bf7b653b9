// Tag invalidations from one process to the others. A memory store is one
// per process: without this, a booking through instance 1 would leave the
// board cached on instances 2 and 3 until their TTL. postgresBroadcast sends
// each invalidation as a NOTIFY on the database the instances already share
// and applies what the others send; no Redis needed.
//
// Delivery is asynchronous (the others apply it within the notification's
// latency, typically a millisecond on one host) and can be lost while a
// listener is disconnected. publish() resolves once the message has come
// back to this process's own listener: PostgreSQL has then committed it and
// signalled every listener, so a request that the caller answers afterwards
// (the booking's redirect) is very unlikely to reach another instance before
// the invalidation does. So the cache reads nothing from its store while
// the broadcast is not connected, and drops every entry when it reconnects
// (`reset`): a lost message can cost misses, never a stale hit.
import { randomUUID } from 'node:crypto';
import { createListener, notify, type Db, type Listener } from '@rampart/data';
import { KitError } from '../errors.ts';

export interface BroadcastSubscriber {
  /** Tags another process invalidated (as the store knows them: prefixed). */
  invalidate(tags: string[]): void;
  /** Messages may have been lost: forget every entry. */
  reset(): void;
}

export interface CacheBroadcast {
  /** True while invalidations from others are being received. */
  readonly connected: boolean;
  /** Sends tags invalidated here to every other process. */
  publish(tags: readonly string[]): Promise<void>;
  /** Called once, by createCache. */
  subscribe(subscriber: BroadcastSubscriber): void;
  /** Resolves once invalidations are being received (cache.ready() waits for it). */
  ready?(): Promise<void>;
  close(): Promise<void>;
}

export interface PostgresBroadcastOptions {
  /** NOTIFY channel, a plain identifier. Default 'rampart_cache'. Every instance of one app must use the same. */
  channel?: string;
  /** Malformed messages and listener errors. */
  onError?: (err: Error) => void;
  /** First delay before reconnecting a dropped listener, doubled up to 5 s. Default 100 ms. */
  reconnectDelay?: number;
}

// PostgreSQL refuses payloads of 8000 bytes or more; stay well below.
const MAX_PAYLOAD = 7000;

interface Message {
  /** Sender: a process ignores its own messages (it applied them already). */
  o: string;
  /** Sequence number of the sender's message, for the sender's echo. */
  i?: number;
  t: string[];
}

// How long publish() waits for its own message to come back.
const ECHO_TIMEOUT = 1000;

function parseMessage(payload: string): Message | null {
  let message: unknown;
  try {
    message = JSON.parse(payload);
  } catch {
    return null;
  }
  if (typeof message !== 'object' || message === null) return null;
  const { o, i, t } = message as Partial<Message>;
  if (typeof o !== 'string' || !Array.isArray(t) || !t.every((tag) => typeof tag === 'string')) return null;
  return { o, i: typeof i === 'number' ? i : undefined, t };
}

class PostgresBroadcast implements CacheBroadcast {
  readonly #db: Db;
  readonly #channel: string;
  readonly #origin = randomUUID();
  readonly #listener: Listener;
  readonly #onError: (err: Error) => void;
  #subscriber: BroadcastSubscriber | null = null;
  #sequence = 0;
  readonly #echoes = new Map<number, () => void>();

  constructor(db: Db, channel: string, onError: (err: Error) => void, reconnectDelay: number) {
    this.#db = db;
    this.#channel = channel;
    this.#onError = onError;
    this.#listener = createListener(db, {
      channels: [channel],
      onNotification: (_channel, payload) => this.#receive(payload),
      onConnect: () => this.#subscriber?.reset(),
      onError,
      minDelayMs: reconnectDelay,
      maxDelayMs: Math.max(reconnectDelay, 5000),
    });
  }

  get connected(): boolean {
    return this.#listener.connected;
  }

  /** Resolves when the first LISTEN is in effect. */
  ready(): Promise<void> {
    return this.#listener.ready();
  }

  subscribe(subscriber: BroadcastSubscriber): void {
    if (this.#subscriber !== null) throw new KitError('RAMPART_ERR_CACHE_OPTIONS', 'postgresBroadcast: one broadcast serves one cache; create one per createCache()');
    this.#subscriber = subscriber;
  }

  async publish(tags: readonly string[]): Promise<void> {
    let chunk: string[] = [];
    let size = 0;
    const sent: Promise<void>[] = [];
    const send = async () => {
      if (chunk.length > 0) {
        const i = ++this.#sequence;
        // Only a connected listener can hear the echo; otherwise the others
        // learn nothing either way until they reconnect (and reset).
        if (this.connected) sent.push(this.#echo(i));
        await notify(this.#db, this.#channel, JSON.stringify({ o: this.#origin, i, t: chunk } satisfies Message));
      }
      chunk = [];
      size = 0;
    };
    for (const tag of tags) {
      const bytes = Buffer.byteLength(JSON.stringify(tag)) + 1;
      if (size + bytes > MAX_PAYLOAD - 64) await send();
      chunk.push(tag);
      size += bytes;
    }
    await send();
    await Promise.all(sent);
  }

  #echo(i: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.#echoes.delete(i);
        resolve();
      }, ECHO_TIMEOUT);
      timer.unref();
      this.#echoes.set(i, () => {
        clearTimeout(timer);
        this.#echoes.delete(i);
        resolve();
      });
    });
  }

  #receive(payload: string): void {
    const message = parseMessage(payload);
    if (message === null) {
      this.#onError(new Error(`postgresBroadcast: ignored a malformed message on ${this.#channel}`));
      return;
    }
    if (message.o === this.#origin) {
      if (message.i !== undefined) this.#echoes.get(message.i)?.();
      return;
    }
    this.#subscriber?.invalidate(message.t);
  }

  close(): Promise<void> {
    for (const resolve of [...this.#echoes.values()]) resolve();
    return this.#listener.close();
  }
}

/**
 * Tag invalidations shared through PostgreSQL LISTEN/NOTIFY on `db`: one
 * extra connection per process. Give it to createCache({ broadcast }).
 */
export function postgresBroadcast(db: Db, options: PostgresBroadcastOptions = {}): CacheBroadcast & { ready(): Promise<void> } {
  const channel = options.channel ?? 'rampart_cache';
  if (typeof channel !== 'string' || !/^[A-Za-z_][A-Za-z0-9_$]{0,62}$/.test(channel)) throw new KitError('RAMPART_ERR_CACHE_OPTIONS', `postgresBroadcast: channel must be a plain identifier (letters, digits, _ and $), got ${JSON.stringify(channel)}`);
  const delay = options.reconnectDelay ?? 100;
  if (typeof delay !== 'number' || !Number.isInteger(delay) || delay < 1 || delay > 60_000) throw new KitError('RAMPART_ERR_CACHE_OPTIONS', `postgresBroadcast: reconnectDelay must be whole milliseconds from 1 to 60000, got ${String(delay)}`);
  return new PostgresBroadcast(db, channel, options.onError ?? (() => {}), delay);
}
