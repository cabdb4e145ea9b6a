import autocannon from 'autocannon';

export interface LoadOptions {
  url: string;
  headers: Record<string, string>;
  body: string;
  /** The verified response; any other body under load counts as a mismatch. */
  expectBody: string;
  connections: number;
  durationSec: number;
}

/** One autocannon run: every good response's latency, and what went wrong. */
export interface LoadSample {
  /** Latencies (ms) of 2xx responses; the mismatched ones are counted in failures. */
  latenciesMs: number[];
  durationSec: number;
  failures: { errors: number; timeouts: number; non2xx: number; mismatches: number };
}

export interface LoadResult {
  /** 2xx responses whose body was the verified one. */
  requests: number;
  durationSec: number;
  requestsPerSec: number;
  latencyMs: { p50: number; p95: number; p99: number; max: number };
  /** Connection errors, timeouts, non-2xx answers and bodies other than the verified one. */
  failures: { errors: number; timeouts: number; non2xx: number; mismatches: number };
}

/** Runs autocannon against one peer for `durationSec`. */
export async function measure(o: LoadOptions): Promise<LoadSample> {
  const latenciesMs: number[] = [];
  let instance!: autocannon.Instance;
  const done = new Promise<autocannon.Result>((resolve, reject) => {
    // The callback form returns the instance, whose 'response' events carry each latency.
    instance = autocannon(
      {
        url: o.url,
        method: 'POST',
        headers: o.headers,
        body: o.body,
        expectBody: o.expectBody,
        connections: o.connections,
        duration: o.durationSec,
        // The unbatched peer takes seconds a request under load; leave ample room.
        timeout: 60,
      },
      (err: unknown, result: autocannon.Result) => (err ? reject(err) : resolve(result)),
    );
  });
  instance.on('response', (_client, statusCode, _bytes, responseTime) => {
    if (statusCode >= 200 && statusCode < 300) latenciesMs.push(responseTime);
  });
  const result = await done;
  return {
    latenciesMs,
    durationSec: result.duration,
    failures: { errors: result.errors, timeouts: result.timeouts, non2xx: result.non2xx, mismatches: result.mismatches },
  };
}

/**
 * Pools the rounds of one peer into throughput and latency percentiles, computed from every
 * response time: autocannon's own summary has no p95.
 */
export function combine(samples: LoadSample[]): LoadResult {
  const times = samples.flatMap((s) => s.latenciesMs).sort((a, b) => a - b);
  const pct = (p: number) => (times.length ? times[Math.min(times.length - 1, Math.ceil((p / 100) * times.length) - 1)] : NaN);
  const failures = { errors: 0, timeouts: 0, non2xx: 0, mismatches: 0 };
  for (const s of samples) for (const k of Object.keys(failures) as (keyof typeof failures)[]) failures[k] += s.failures[k];
  const durationSec = samples.reduce((t, s) => t + s.durationSec, 0);
  // A 2xx with the wrong body is not a served request.
  const requests = Math.max(0, times.length - failures.mismatches);
  return {
    requests,
    durationSec,
    requestsPerSec: requests / durationSec,
    latencyMs: { p50: pct(50), p95: pct(95), p99: pct(99), max: times[times.length - 1] ?? NaN },
    failures,
  };
}
