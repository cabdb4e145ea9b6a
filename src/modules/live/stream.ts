/**
 * An async iterator fed by a producer (push) and drained by graphql-ws (next). Not an async
 * generator: a generator blocked waiting for the next event cannot be returned from, so an
 * unsubscribe or a closing socket would wait for an event that may never come. Here return()
 * ends the stream at once and wakes the producer through `onClose`.
 */
export class Stream<T> implements AsyncIterableIterator<T> {
  private queue: T[] = [];
  private pending: ((r: IteratorResult<T>) => void) | null = null;
  private space: (() => void) | null = null;
  private done = false;
  private ending = false;
  private weight = 0;

  /**
   * `onDeliver` runs as each value is handed to the consumer, before it is executed. With
   * `bound`, the values waiting for the consumer weigh at most `max` (by `weigh`): past it the
   * stream closes and `onOverflow` runs, so a consumer that stops taking values costs bounded
   * memory and a producer that never waits (a shared feed) is never held back by it.
   */
  constructor(
    private readonly onClose: () => void,
    private readonly onDeliver: () => void = () => undefined,
    private readonly bound?: { weigh: (value: T) => number; max: number; onOverflow: () => void },
  ) {}

  get closed(): boolean {
    return this.done;
  }

  push(value: T): void {
    if (this.done) return;
    if (this.pending) {
      const resolve = this.pending;
      this.pending = null;
      this.onDeliver();
      resolve({ value, done: false });
    } else {
      this.queue.push(value);
      if (this.bound) {
        this.weight += this.bound.weigh(value);
        if (this.weight > this.bound.max) {
          this.close();
          this.bound.onOverflow();
        }
      }
    }
  }

  /** Ends the stream once the consumer has taken what is queued. */
  finish(): void {
    if (this.done) return;
    this.ending = true;
    if (this.queue.length === 0) this.close();
  }

  /** Back-pressure: resolves once the consumer has left at most `max` values queued. */
  async drained(max = 100): Promise<void> {
    while (!this.done && this.queue.length > max) await new Promise<void>((r) => { this.space = r; });
  }

  next(): Promise<IteratorResult<T>> {
    if (this.queue.length) {
      const value = this.queue.shift()!;
      if (this.bound) this.weight -= this.bound.weigh(value);
      const s = this.space;
      this.space = null;
      s?.();
      if (this.ending && this.queue.length === 0) this.close();
      this.onDeliver();
      return Promise.resolve({ value, done: false });
    }
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => { this.pending = resolve; });
  }

  return(): Promise<IteratorResult<T>> {
    this.close();
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(err: unknown): Promise<IteratorResult<T>> {
    this.close();
    return Promise.reject(err);
  }

  close(): void {
    if (this.done) return;
    this.done = true;
    this.queue = [];
    const p = this.pending;
    this.pending = null;
    p?.({ value: undefined, done: true });
    const s = this.space;
    this.space = null;
    s?.();
    this.onClose();
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}
