import type { ExecutionResult } from 'graphql';
import { AppError } from './errors';

/** How many subscriptions may be active at once. */
export interface SubscriptionLimits {
  perSocket: number;
  perKey: number;
  perProcess: number;
}

/**
 * The subscriptions this process serves, counted per WebSocket, per API key and in all. Each
 * one holds a LISTEN fan-out slot, a context and its loaders, and costs a read per event: a
 * caller that opens thousands slows every subscriber down, so one over a limit is refused
 * (RATE_LIMITED, naming the limit) while the socket and its other subscriptions go on.
 */
export class SubscriptionRegistry {
  private total = 0;
  private readonly bySocket = new Map<string, number>();
  private readonly byKey = new Map<string, number>();

  constructor(private readonly limits: SubscriptionLimits) {}

  /**
   * Counts a new subscription of `socket` made with API key `key`, or throws RATE_LIMITED when
   * it would exceed a limit. The returned function releases it; calling it again does nothing.
   */
  acquire(socket: string, key: string): () => void {
    const refuse = (limit: string, max: number, what: string) =>
      new AppError('RATE_LIMITED', `Too many subscriptions ${what}: at most ${max}. Complete one before starting another.`, { limit, max });
    if ((this.bySocket.get(socket) ?? 0) >= this.limits.perSocket) {
      throw refuse('maxSubscriptionsPerSocket', this.limits.perSocket, 'on this connection');
    }
    if ((this.byKey.get(key) ?? 0) >= this.limits.perKey) throw refuse('maxSubscriptionsPerKey', this.limits.perKey, 'for this API key');
    if (this.total >= this.limits.perProcess) throw refuse('maxSubscriptions', this.limits.perProcess, 'on this server');
    this.total++;
    bump(this.bySocket, socket, 1);
    bump(this.byKey, key, 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total--;
      bump(this.bySocket, socket, -1);
      bump(this.byKey, key, -1);
    };
  }

  /** Active subscriptions in all, and how many sockets and keys have any. */
  active(): { total: number; sockets: number; keys: number } {
    return { total: this.total, sockets: this.bySocket.size, keys: this.byKey.size };
  }
}

function bump(counts: Map<string, number>, name: string, by: number): void {
  const n = (counts.get(name) ?? 0) + by;
  if (n > 0) counts.set(name, n);
  else counts.delete(name);
}

/**
 * The result of a subscribe call, with `release` called once it is over: at once for a result
 * that is not a stream (the subscription failed to start); for a stream, when it ends, fails,
 * or is returned (the client completes it or its socket closes).
 */
export function releaseWhenDone<T>(result: AsyncIterable<T> | ExecutionResult, release: () => void): AsyncIterableIterator<T> | ExecutionResult {
  if (!(Symbol.asyncIterator in result)) {
    release();
    return result;
  }
  const inner = result[Symbol.asyncIterator]();
  const stream: AsyncIterableIterator<T> = {
    async next() {
      try {
        const r = await inner.next();
        if (r.done) release();
        return r;
      } catch (err) {
        release();
        throw err;
      }
    },
    async return(value?: unknown) {
      release();
      return inner.return ? inner.return(value) : { done: true, value: undefined };
    },
    async throw(err?: unknown) {
      release();
      if (inner.throw) return inner.throw(err);
      throw err;
    },
    [Symbol.asyncIterator]() {
      return stream;
    },
  };
  return stream;
}
