import type { Client as WsClient } from 'graphql-ws';
import type { GqlResponse } from './harness';

/** Every bounded wait of these helpers gives up after this long, so a lost message fails instead of hanging. */
export const WAIT_MS = 10000;

/** A subscription whose results a test takes as they come, each wait bounded. */
export function follow<T = any>(client: WsClient, query: string, variables?: Record<string, unknown>) {
  const results: GqlResponse<T>[] = [];
  let ended: unknown = null;
  let wake: (() => void) | null = null;
  const stop = client.subscribe<T>({ query, variables }, {
    next: (r) => { results.push({ status: 0, data: r.data as T, errors: r.errors as GqlResponse['errors'] }); wake?.(); },
    error: (e) => { ended = e ?? 'error'; wake?.(); },
    complete: () => { ended ??= 'complete'; wake?.(); },
  });
  let taken = 0;
  const waitFor = async (done: () => boolean, what: string) => {
    const deadline = Date.now() + WAIT_MS;
    while (!done()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`waited for ${what}; got ${JSON.stringify(results.slice(taken)).slice(0, 500)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        wake = () => { clearTimeout(timer); resolve(); };
      });
      wake = null;
    }
  };
  return {
    /** The next `n` results; fails when they do not all come within WAIT_MS or the stream ends first. */
    async take(n: number): Promise<GqlResponse<T>[]> {
      await waitFor(() => {
        if (results.length < taken + n && ended) throw new Error(`subscription ended (${JSON.stringify(ended)})`);
        return results.length >= taken + n;
      }, `${n} results`);
      const out = results.slice(taken, taken + n);
      taken += n;
      return out;
    },
    /** The errors of an operation refused or failed at once (an `error` message, or a result with errors). */
    async failure(): Promise<GqlResponse<T>['errors']> {
      await waitFor(() => results.length > taken || ended !== null, 'a failure');
      if (results.length > taken) return results[taken].errors;
      return Array.isArray(ended) ? (ended as GqlResponse['errors']) : undefined;
    },
    /** Resolves once the server has ended the subscription (complete or error). */
    async ended(): Promise<unknown> {
      await waitFor(() => ended !== null, 'the end of the subscription');
      return ended;
    },
    stop,
  };
}

/**
 * Waits, bounded, until `check` holds: for server-side state that follows a client's action
 * asynchronously. `waitMs`: a longer bound for what waits on another process's start.
 */
export async function until(check: () => boolean | Promise<boolean>, what: string, waitMs = WAIT_MS): Promise<void> {
  const deadline = Date.now() + waitMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
