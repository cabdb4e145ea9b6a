import type { FormattedExecutionResult } from 'graphql-ws';
import { ModelGraphError, isConnectionLoss, toModelGraphError } from './errors';

/** How a live stream comes back after losing its connection. */
export interface ReconnectOptions {
  /** Reconnections in a row (without an event between them) before giving up; default: no limit. */
  attempts?: number;
  /** First wait; doubles per failed attempt. Default 250 ms. */
  initialDelayMs?: number;
  /** Longest wait between attempts. Default 10 s. */
  maxDelayMs?: number;
}

export interface LiveOptions {
  /**
   * Resume after this cursor (one an earlier event carried). Default: from now, where "now" is
   * fixed by asking the server for the stream's current cursor before subscribing, so even a
   * stream that loses its socket before its first event resumes with nothing missed.
   */
  since?: string | null;
  reconnect?: ReconnectOptions;
  /** Told before each reconnection: why the connection was lost, and the cursor it resumes from. */
  onReconnect?: (info: { attempt: number; error: ModelGraphError; cursor: string }) => void;
}

export interface LiveSink<T> {
  next(item: T): void;
  /** The stream ended with an error it will not recover from (a refusal, a revoked key, or reconnect attempts exhausted). */
  error?(error: ModelGraphError): void;
  /** The server ended the stream. */
  complete?(): void;
}

/**
 * A subscription that survives lost connections: every event's cursor is kept, and after a
 * drop the stream subscribes again from the last one, so its consumer sees each event once, in
 * order. Iterate it (`for await`), or give a sink to `subscribe`-style methods.
 */
export interface LiveStream<T> extends AsyncIterable<T> {
  /** The cursor of the last event received (or the starting cursor before the first); null until it is known. */
  readonly cursor: string | null;
  /** Resolves with the starting cursor once it is fixed (the server was asked, or `since` was given). */
  readonly started: Promise<string>;
  /** Ends the stream; an iteration in progress finishes. */
  stop(): void;
}

/** One subscribe of the underlying transport: calls the sink with raw results, returns a dispose. */
export type Connect<TData> = (since: string, sink: {
  next(result: FormattedExecutionResult<TData>): void;
  error(err: unknown): void;
  complete(): void;
}) => () => void;

/** Starts a stream; `pick` takes the item (with its cursor) out of a result's data. */
export function liveStream<TData, TItem extends { cursor: string }>(
  connect: Connect<TData>,
  startCursor: () => Promise<string>,
  pick: (data: TData) => TItem,
  options: LiveOptions = {},
  sink?: LiveSink<TItem>,
): LiveStream<TItem> {
  const attempts = options.reconnect?.attempts ?? Infinity;
  const initialDelay = options.reconnect?.initialDelayMs ?? 250;
  const maxDelay = options.reconnect?.maxDelayMs ?? 10_000;

  let cursor: string | null = options.since ?? null;
  let stopped = false;
  let dispose: (() => void) | null = null;
  let wakeSleep: (() => void) | null = null;

  // Events not yet taken by an iterator, and the iterators waiting for one.
  const queue: TItem[] = [];
  let ended: { error?: ModelGraphError } | null = null;
  const waiting: { resolve: (r: IteratorResult<TItem>) => void; reject: (e: unknown) => void }[] = [];

  const deliver = (item: TItem) => {
    if (sink) return sink.next(item);
    const w = waiting.shift();
    if (w) w.resolve({ value: item, done: false });
    else queue.push(item);
  };
  const finish = (error?: ModelGraphError) => {
    if (ended) return;
    ended = { error };
    stopped = true;
    if (sink) {
      if (error) sink.error?.(error);
      else sink.complete?.();
    }
    for (const w of waiting.splice(0)) {
      if (error) w.reject(error);
      else w.resolve({ value: undefined, done: true });
    }
  };

  let resolveStarted!: (c: string) => void;
  let rejectStarted!: (e: unknown) => void;
  const started = new Promise<string>((resolve, reject) => { resolveStarted = resolve; rejectStarted = reject; });
  // A stream stopped before it started must not leave an unhandled rejection behind.
  started.catch(() => undefined);

  const sleep = (ms: number) => new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    wakeSleep = () => { clearTimeout(timer); resolve(); };
  });

  void (async () => {
    let failures = 0;
    while (!stopped) {
      let lost: unknown;
      if (cursor === null) {
        try {
          cursor = await startCursor();
        } catch (err) {
          lost = err;
        }
      }
      if (cursor !== null && lost === undefined) {
        resolveStarted(cursor);
        const outcome = await new Promise<{ error?: unknown }>((resolve) => {
          // A transport that fails to start (no WebSocket class, a bad URL) ends the stream like any refusal.
          try {
            dispose = connect(cursor!, {
              next: (result) => {
                if (result.errors?.length) return resolve({ error: result.errors });
                const item = pick(result.data as TData);
                cursor = item.cursor;
                failures = 0;
                deliver(item);
              },
              error: (error) => resolve({ error: error ?? new Error('subscription failed') }),
              complete: () => resolve({}),
            });
          } catch (err) {
            resolve({ error: [{ message: `cannot subscribe: ${(err as Error).message}`, extensions: { code: 'CLIENT_ERROR' } }] });
          }
        });
        // Assigned inside the callback above, which the compiler does not see.
        (dispose as (() => void) | null)?.();
        dispose = null;
        if (stopped) break;
        if (outcome.error === undefined) return finish();
        lost = outcome.error;
      }
      if (stopped) break;
      const error = toModelGraphError(lost);
      if (!isConnectionLoss(lost) || failures >= attempts) {
        rejectStarted(error);
        return finish(error);
      }
      failures++;
      options.onReconnect?.({ attempt: failures, error, cursor: cursor ?? '' });
      await sleep(Math.min(initialDelay * 2 ** (failures - 1), maxDelay));
    }
    finish();
  })();

  const stream: LiveStream<TItem> = {
    get cursor() { return cursor; },
    started,
    stop() {
      if (stopped && ended) return;
      stopped = true;
      dispose?.();
      dispose = null;
      wakeSleep?.();
      rejectStarted(new ModelGraphError('stopped before it started', 'STOPPED'));
      finish();
    },
    [Symbol.asyncIterator](): AsyncIterator<TItem> {
      return {
        next: () => {
          if (queue.length) return Promise.resolve({ value: queue.shift()!, done: false });
          if (ended) return ended.error ? Promise.reject(ended.error) : Promise.resolve({ value: undefined, done: true });
          return new Promise((resolve, reject) => waiting.push({ resolve, reject }));
        },
        return: () => {
          stream.stop();
          return Promise.resolve({ value: undefined, done: true });
        },
      };
    },
  };
  return stream;
}
