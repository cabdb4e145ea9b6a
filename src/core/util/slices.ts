/**
 * CPU-bound work cut into slices, so that one request's computation does not hold the event
 * loop (and every other request of the process) for its whole length. The work is written as
 * a generator that yields wherever it may pause; `runNow` runs it to the end at once, and
 * `Slices.run` runs it a slice at a time, letting the event loop turn in between.
 */
export type Steps<T> = Generator<void, T, void>;

/** How long a slice runs before the event loop gets a turn. */
export const SLICE_MS = 10;

/** Runs `steps` to the end without pausing. */
export function runNow<T>(steps: Steps<T>): T {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

export class Slices {
  private start = performance.now();

  constructor(private readonly sliceMs = SLICE_MS) {}

  /** When the current slice is used up: a promise that resolves once the event loop has turned. Otherwise null: go on. */
  due(): Promise<void> | null {
    if (performance.now() - this.start < this.sliceMs) return null;
    return new Promise((resolve) => setImmediate(() => {
      this.start = performance.now();
      resolve();
    }));
  }

  /** Runs `steps` to the end, pausing at its yields whenever a slice is used up. */
  async run<T>(steps: Steps<T>): Promise<T> {
    for (;;) {
      const r = steps.next();
      if (r.done) return r.value;
      const turn = this.due();
      if (turn) await turn;
    }
  }
}
