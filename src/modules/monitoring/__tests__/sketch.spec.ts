import { DDSketch, SKETCH_RELATIVE_ACCURACY } from '../sketch';

/** mulberry32: a small seeded generator, so every run draws the same data. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** percentile_cont by exact sorting, as PostgreSQL defines it. */
function percentileCont(values: number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  const r = q * (s.length - 1);
  const lo = Math.floor(r);
  const hi = Math.ceil(r);
  return s[lo] + (r - lo) * (s[hi] - s[lo]);
}

const QS = [0, 0.01, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1];
const sketchOf = (values: number[]) => values.reduce((s, v) => s.add(v), new DDSketch());

function expectWithin(actual: number | null, exact: number) {
  expect(actual).not.toBeNull();
  expect(Math.abs(actual! - exact)).toBeLessThanOrEqual(SKETCH_RELATIVE_ACCURACY * Math.abs(exact) + 1e-12);
}

describe('DDSketch', () => {
  const r = rng(42);
  const normal = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const datasets: Record<string, number[]> = {
    uniform: Array.from({ length: 20000 }, () => r() * 1000),
    lognormal: Array.from({ length: 20000 }, () => Math.exp(3 + 2 * normal())),
    negative: Array.from({ length: 5000 }, () => -Math.exp(normal())),
    tiny: Array.from({ length: 5000 }, () => 1e-9 * (1 + r())),
    heavyTail: Array.from({ length: 10000 }, () => 1 / Math.pow(1 - r(), 2)),
    constant: Array.from({ length: 100 }, () => 7.25),
  };

  it.each(Object.keys(datasets))('answers every quantile of %s within its relative accuracy', (name) => {
    const values = datasets[name];
    const s = sketchOf(values);
    for (const q of QS) expectWithin(s.quantile(q), percentileCont(values, q));
    expect(s.count).toBe(values.length);
  });

  it('meets the reference quantiles of 1..1000 (percentile_cont: P50 500.5, P95 950.05, P99 990.01, by its definition)', () => {
    // Reference: for 1..n, percentile_cont(q) = 1 + q (n - 1), e.g. PostgreSQL
    // `SELECT percentile_cont(0.95) WITHIN GROUP (ORDER BY x) FROM generate_series(1, 1000) x` = 950.05.
    const s = sketchOf(Array.from({ length: 1000 }, (_, i) => i + 1));
    expectWithin(s.quantile(0.5), 500.5);
    expectWithin(s.quantile(0.95), 950.05);
    expectWithin(s.quantile(0.99), 990.01);
    expect(s.quantile(0)).toBe(1);
    expect(s.quantile(1)).toBe(1000);
  });

  it('merges exactly: the merge of parts encodes as the sketch of the whole', () => {
    const values = datasets.lognormal.concat(datasets.negative, [0, 0, 0]);
    const parts = [values.slice(0, 7000), values.slice(7000, 7001), values.slice(7001)];
    const merged = parts.map(sketchOf).reduce((a, b) => a.merge(b), new DDSketch());
    expect(merged.encode().equals(sketchOf(values).encode())).toBe(true);
    for (const q of QS) expectWithin(merged.quantile(q), percentileCont(values, q));
  });

  it('survives encode and decode unchanged, and is compact', () => {
    const s = sketchOf(datasets.uniform.concat(datasets.negative, [0]));
    const back = DDSketch.decode(s.encode());
    expect(back.encode().equals(s.encode())).toBe(true);
    for (const q of QS) expect(back.quantile(q)).toBe(s.quantile(q));
    // 1% accuracy: about 230 bins per decade at most, whatever the count.
    expect(s.encode().length).toBeLessThan(4000);
  });

  it('refuses what it cannot hold', () => {
    expect(() => new DDSketch().add(Number.NaN)).toThrow(RangeError);
    expect(() => new DDSketch(0.01).merge(new DDSketch(0.02))).toThrow(RangeError);
    expect(() => DDSketch.decode(Buffer.from([9]))).toThrow(RangeError);
    expect(new DDSketch().quantile(0.5)).toBeNull();
  });
});
