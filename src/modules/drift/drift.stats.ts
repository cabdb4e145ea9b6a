/**
 * The statistics behind drift reports, on the summaries ModelGraph stores (histograms and
 * value counts), never on samples. Pure functions: no database, no GraphQL, so the unit tests
 * can hold them to hand-computed and textbook values.
 */

/** counts[i] values fall in [edges[i], edges[i+1]); edges strictly ascending. */
export interface Hist {
  edges: number[];
  counts: number[];
}

/**
 * PSI replaces a share of 0 with this, or with a millionth of the side's smallest non-zero share
 * when that is itself at most PSI_EPSILON (Evidently's get_binned_data), so log(0) never happens.
 */
export const PSI_EPSILON = 1e-4;
/** Evidently divides the Wasserstein distance by max(reference stddev, 0.001), so a constant reference cannot divide by 0. */
export const MIN_NORMALIZING_STDDEV = 1e-3;

// ---------------------------------------------------------------- special functions

const MAX_ITERATIONS = 1000;
const TINY = 1e-300;
const EPS = 1e-15;

/** ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9): about 15 significant digits. */
export function logGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const z = x - 1;
  let a = c[0];
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/**
 * Regularized upper incomplete gamma Q(a, x) = Γ(a, x) / Γ(a): the series for P when
 * x < a + 1, else the Lentz continued fraction for Q (Numerical Recipes §6.2).
 */
export function gammaQ(a: number, x: number): number {
  if (!(a > 0) || !(x >= 0)) throw new RangeError(`gammaQ needs a > 0 and x >= 0, got a=${a}, x=${x}`);
  if (x === 0) return 1;
  if (x === Infinity) return 0;
  const logPrefix = -x + a * Math.log(x) - logGamma(a);
  if (x < a + 1) {
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n < MAX_ITERATIONS; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * EPS) break;
    }
    return Math.min(1, Math.max(0, 1 - sum * Math.exp(logPrefix)));
  }
  let b = x + 1 - a;
  let c = 1 / TINY;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < MAX_ITERATIONS; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < TINY) d = TINY;
    c = b + an / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < EPS) break;
  }
  return Math.min(1, Math.max(0, Math.exp(logPrefix) * h));
}

/** P(X > x) for X ~ χ²(df). */
export function chiSquaredSurvival(x: number, df: number): number {
  if (!(df > 0)) throw new RangeError(`chi-squared needs df > 0, got ${df}`);
  if (x <= 0) return 1;
  return gammaQ(df / 2, x / 2);
}

/** Q_KS(λ) = 2 Σ_{k≥1} (-1)^(k-1) e^(-2k²λ²): P(K > λ) for the Kolmogorov distribution. */
export function kolmogorovSurvival(lambda: number): number {
  if (lambda <= 0) return 1;
  // Below ~0.27 the alternating series converges too slowly to sum; Q is 1 to double precision there.
  if (lambda < 0.27) return 1;
  let sum = 0;
  let sign = 1;
  for (let k = 1; k <= 100; k++) {
    const term = sign * Math.exp(-2 * k * k * lambda * lambda);
    sum += term;
    if (Math.abs(term) < 1e-16) break;
    sign = -sign;
  }
  return Math.min(1, Math.max(0, 2 * sum));
}

/** Up to this many values on each side, scipy's ks_2samp (method 'auto', Evidently's call) uses the exact distribution. */
export const KS_EXACT_MAX_N = 10000;
/**
 * Lattice cells the exact computation for unequal sizes may visit (about 50 ms). Only large
 * statistics with thousands of values on both sides need more, and their p is far below the
 * threshold: at 10,000 × 9,999 values the cap is reached at D = 0.025, p = 0.004, and p falls
 * fast from there. The asymptotic p-value is used beyond it (within 3% of the exact one there).
 */
const KS_EXACT_MAX_CELLS = 5e6;

const gcd = (a: number, b: number): number => { while (b) [a, b] = [b, a % b]; return a; };

/**
 * Two-sample KS p-value P(D ≥ d) for sample sizes n and m, as scipy's ks_2samp computes it by
 * default: exact when neither side has more than KS_EXACT_MAX_N values (d rounded to the
 * lattice of multiples of 1 / lcm(n, m), as scipy does), else asymptotic.
 */
export function ksPValue(d: number, n: number, m: number): number {
  const [a, b] = [Math.round(n), Math.round(m)];
  if (!(a > 0 && b > 0)) throw new RangeError(`KS needs two non-empty samples, got sizes ${n} and ${m}`);
  if (Math.max(a, b) <= KS_EXACT_MAX_N) {
    const exact = ksExactPValue(d, a, b);
    if (exact != null) return exact;
  }
  return ksAsymptoticPValue(d, a, b);
}

/**
 * The asymptotic p-value: the Kolmogorov distribution at (√ne + 0.12 + 0.11/√ne) · d with
 * ne = nm / (n + m) (Stephens' correction, Numerical Recipes §14.3). scipy uses the exact
 * one-sample distribution kstwo(round(ne)) here, which needs three algorithms to compute;
 * Stephens' value is within 0.25% of it near p = 0.05 for ne ≥ 25 (0.04% for ne ≥ 2,500),
 * and within 2% for p between 1e-4 and 0.5 once ne ≥ 2,500, the usual case above 10,000
 * values a side. Far in the tail (p < 1e-10) the two part further; no verdict changes there.
 */
export function ksAsymptoticPValue(d: number, n: number, m: number): number {
  const ne = (n * m) / (n + m);
  const sq = Math.sqrt(ne);
  return kolmogorovSurvival((sq + 0.12 + 0.11 / sq) * d);
}

/**
 * The exact two-sample p-value, or null when it would cost more than KS_EXACT_MAX_CELLS.
 * Equal sizes: the alternating sum of binomial ratios 2 Σ (−1)^(k−1) C(2n, n − kh) / C(2n, n),
 * evaluated inside out. Unequal sizes: the share of monotone lattice paths from (0, 0) to
 * (n, m) that leave the band |x/n − y/m| < d, by the recursion on that share itself
 * (Viehmann 2021, arXiv:2102.08037), which stays accurate for small p.
 */
export function ksExactPValue(d: number, n: number, m: number): number | null {
  const g = gcd(n, m);
  const lcm = (n / g) * m;
  const h = Math.round(d * lcm);
  if (h <= 0) return 1;
  if (n === m) {
    let p = 0;
    for (let k = Math.floor(n / h); k >= 0; k--) {
      let ratio = 1;
      for (let j = 0; j < h; j++) ratio *= (n - k * h - j) / (n + k * h + j + 1);
      p = ratio * (1 - p);
    }
    return Math.min(1, Math.max(0, 2 * p));
  }
  // x runs over the larger sample, y over the smaller; a point is inside when |sx·x − bx·y| < h.
  const [big, small] = n > m ? [n, m] : [m, n];
  const bx = big / g;
  const sx = small / g;
  if ((big + 1) * (Math.ceil((2 * h) / bx) + 1) > KS_EXACT_MAX_CELLS) return null;
  let prev = new Float64Array(small + 1);
  let cur = new Float64Array(small + 1);
  // Column x = 0: inside below the band's top, where no path has left yet.
  let lo = 0;
  let hi = Math.min(Math.ceil(h / bx), small + 1);
  for (let x = 1; x <= big; x++) {
    const plo = lo;
    const phi = hi;
    lo = Math.min(Math.max(Math.floor((sx * x - h) / bx) + 1, 0), small);
    hi = Math.min(Math.ceil((sx * x + h) / bx), small + 1);
    if (hi <= lo) return 1;
    // The share of paths to (x, y) that already left the band: 1 at any point outside it.
    let below = lo === 0 ? 0 : 1;
    for (let y = lo; y < hi; y++) {
      const left = y >= plo && y < phi ? prev[y] : 1;
      below = (x * left + y * below) / (x + y);
      cur[y] = below;
    }
    const t = prev;
    prev = cur;
    cur = t;
  }
  return Math.min(1, Math.max(0, prev[small]));
}

// ---------------------------------------------------------------- histograms

const total = (xs: number[]) => xs.reduce((s, x) => s + x, 0);

/** The sorted union of several edge lists, without duplicates. */
export function unionEdges(...lists: number[][]): number[] {
  // A typed array sorts numbers natively, many times faster than sort() with a comparator on
  // the hundreds of thousands of edges that merging many profiles brings.
  const all = new Float64Array(lists.reduce((n, l) => n + l.length, 0));
  let at = 0;
  for (const l of lists) { all.set(l, at); at += l.length; }
  all.sort();
  const out: number[] = [];
  for (const e of all) if (out.length === 0 || out[out.length - 1] !== e) out.push(e);
  return out;
}

/**
 * Re-bins a histogram onto other edges by linear interpolation: each bin's count is spread
 * uniformly over its width and each target bin takes the share that overlaps it. Mass
 * outside the target range is dropped, so targets should cover the source (the union of
 * edges always does). Exact when every source edge is a target edge.
 */
export function rebin(h: Hist, target: number[]): number[] {
  const out = new Array<number>(Math.max(0, target.length - 1)).fill(0);
  let j = 0;
  for (let i = 0; i < h.counts.length; i++) {
    const lo = h.edges[i];
    const hi = h.edges[i + 1];
    const n = h.counts[i];
    if (n === 0) continue;
    while (j < out.length && target[j + 1] <= lo) j++;
    for (let k = j; k < out.length && target[k] < hi; k++) {
      const overlap = Math.min(hi, target[k + 1]) - Math.max(lo, target[k]);
      if (overlap > 0) out[k] += (n * overlap) / (hi - lo);
    }
  }
  return out;
}

/**
 * Most bins a merged histogram keeps. Re-binning P profiles of E edges each onto the union of
 * their edges makes up to P×E bins and costs P²×E (60 profiles of 10,001 edges blocked the event
 * loop for 12 s). While the union stays within this many bins the merge is exact on it; beyond,
 * the profiles are re-binned onto this many equal-width bins over their whole range, so a merge
 * costs P×(E + MAX_MERGED_BINS). Counts are conserved either way; only resolution is lost.
 */
export const MAX_MERGED_BINS = 2000;

/** Adds histograms: summed counts on identical edges, else re-binned onto their union (or a bounded grid, see MAX_MERGED_BINS). */
export function mergeHistograms(hs: Hist[]): Hist {
  const first = hs[0];
  const same = hs.every((h) => h.edges.length === first.edges.length && h.edges.every((e, i) => e === first.edges[i]));
  const edges = same ? [...first.edges] : mergedEdges(hs);
  const counts = new Array<number>(edges.length - 1).fill(0);
  for (const h of hs) {
    const c = same ? h.counts : rebin(h, edges);
    c.forEach((n, i) => { counts[i] += n; });
  }
  return { edges, counts };
}

/** The union of the histograms' edges when it is small enough, else MAX_MERGED_BINS equal-width bins over their range. */
function mergedEdges(hs: Hist[]): number[] {
  const edgeCount = hs.reduce((n, h) => n + h.edges.length, 0);
  if (edgeCount - hs.length <= MAX_MERGED_BINS) return unionEdges(...hs.map((h) => h.edges));
  let lo = Infinity;
  let hi = -Infinity;
  for (const h of hs) {
    lo = Math.min(lo, h.edges[0]);
    hi = Math.max(hi, h.edges[h.edges.length - 1]);
  }
  const width = (hi - lo) / MAX_MERGED_BINS;
  return Array.from({ length: MAX_MERGED_BINS + 1 }, (_, i) => (i === MAX_MERGED_BINS ? hi : lo + i * width));
}

/** Both histograms on the union of their edges, as counts. */
export function alignHistograms(a: Hist, b: Hist): { edges: number[]; a: number[]; b: number[] } {
  const edges = unionEdges(a.edges, b.edges);
  return { edges, a: rebin(a, edges), b: rebin(b, edges) };
}

const shares = (counts: number[]): number[] => {
  const n = total(counts);
  return counts.map((c) => c / n);
};

/** Cumulative shares at each edge (length edges.length, first 0, last 1). */
const cdfAtEdges = (counts: number[]): number[] => {
  const p = shares(counts);
  const out = [0];
  for (const x of p) out.push(out[out.length - 1] + x);
  return out;
};

/** Population mean and standard deviation of a histogram, each value at its bin's midpoint. */
export function histogramStddev(h: Hist): number {
  const n = total(h.counts);
  if (n === 0) return 0;
  const mids = h.counts.map((_, i) => (h.edges[i] + h.edges[i + 1]) / 2);
  const mean = h.counts.reduce((s, c, i) => s + c * mids[i], 0) / n;
  const variance = h.counts.reduce((s, c, i) => s + c * (mids[i] - mean) ** 2, 0) / n;
  return Math.sqrt(variance);
}

// ---------------------------------------------------------------- the tests

/** Shares with Evidently's zero fill (see PSI_EPSILON). */
export function psiShares(counts: number[]): number[] {
  const p = shares(counts);
  let smallest = Infinity;
  for (const x of p) if (x > 0 && x < smallest) smallest = x;
  const fill = smallest <= PSI_EPSILON ? smallest / 1e6 : PSI_EPSILON;
  return p.map((x) => (x > 0 ? x : fill));
}

/** Population stability index Σ (c − r) ln(c / r) over shares, zeros filled as Evidently fills them. */
export function psi(reference: number[], current: number[]): number {
  const r = psiShares(reference);
  const c = psiShares(current);
  let sum = 0;
  for (let i = 0; i < r.length; i++) sum += (c[i] - r[i]) * Math.log(c[i] / r[i]);
  return sum;
}

/**
 * Jensen-Shannon distance with the natural log, as scipy.spatial.distance.jensenshannon computes
 * it by default and Evidently calls it: √JSD, within [0, √ln 2 ≈ 0.8326].
 */
export function jensenShannon(reference: number[], current: number[]): number {
  const p = shares(reference);
  const q = shares(current);
  let jsd = 0;
  for (let i = 0; i < p.length; i++) {
    const m = (p[i] + q[i]) / 2;
    if (p[i] > 0) jsd += 0.5 * p[i] * Math.log(p[i] / m);
    if (q[i] > 0) jsd += 0.5 * q[i] * Math.log(q[i] / m);
  }
  return Math.sqrt(Math.max(0, jsd));
}

/**
 * Two-sample KS on histograms: the largest gap between the two CDFs over the union of the
 * edges (within a bin both CDFs are linear, so the largest gap is at an edge), and its
 * p-value (ksPValue) with each side's size being its histogram total.
 *
 * An approximation of scipy's ks_2samp on the raw values, and a one-sided one: at an edge
 * both CDFs are exact (every value below the edge is counted), but the raw gap can peak
 * inside a bin, where the histograms cannot see it. So the statistic is at most the raw one,
 * and a coarse histogram misses drift the raw test finds. With the same edges on both sides it
 * is at least the raw statistic minus the largest share of either side's values in one bin
 * (within a bin each empirical CDF rises by that bin's share at most). Histograms with
 * different edges are re-binned by interpolation, which can move it either way.
 *
 * Measured by test/reference/ks_resolution.py: 2,000 values a side from N(0, 1) and
 * N(shift, 1), 300 seeds, seeds flagged (p ≤ 0.05) at shifts 0 / 0.06 / 0.08 / 0.1 sd:
 *
 *   scipy ks_2samp on the raw values           20  103  181  232
 *   10 equal-width bins, shared edges           5   37   94  156   (D_hist / D_raw 0.78)
 *   30 equal-width bins                         9   63  138  200   (0.88)
 *   100 equal-width bins                       14   76  159  215   (0.94)
 *   10 bins at reference quantiles             10   60  130  184   (0.87)
 *   100 bins at reference quantiles            15   89  172  220   (0.96)
 *   500 bins at reference quantiles            17   98  178  223   (0.98)
 *   10 equal-width bins, each side its range    8   72  137  190   (0.92, interpolated)
 *
 * The p-value method hardly matters here (the asymptotic p-value the server used before
 * flags the same seeds, give or take two); the resolution does.
 */
export function ksTest(reference: Hist, current: Hist): { statistic: number; pValue: number } {
  const { a, b } = alignHistograms(reference, current);
  const fa = cdfAtEdges(a);
  const fb = cdfAtEdges(b);
  let d = 0;
  for (let i = 0; i < fa.length; i++) d = Math.max(d, Math.abs(fa[i] - fb[i]));
  return { statistic: d, pValue: ksPValue(d, total(reference.counts), total(current.counts)) };
}

/**
 * First Wasserstein distance between two binned distributions, ∫ |F_ref − F_cur| dx, with each
 * bin's mass spread uniformly: both CDFs are piecewise linear on the union of edges, so the
 * integral is exact per segment (split where the difference changes sign).
 */
export function wasserstein(reference: Hist, current: Hist): number {
  const { edges, a, b } = alignHistograms(reference, current);
  const fa = cdfAtEdges(a);
  const fb = cdfAtEdges(b);
  let sum = 0;
  for (let i = 0; i + 1 < edges.length; i++) {
    const w = edges[i + 1] - edges[i];
    const d0 = fa[i] - fb[i];
    const d1 = fa[i + 1] - fb[i + 1];
    if (d0 * d1 >= 0) sum += (w * (Math.abs(d0) + Math.abs(d1))) / 2;
    else sum += (w * (d0 * d0 + d1 * d1)) / (2 * (Math.abs(d0) + Math.abs(d1)));
  }
  return sum;
}

/**
 * Chi-squared test of homogeneity on a 2 × k table (reference and current counts per
 * category): expected counts come from the pooled shares, so a category only one side has
 * is evidence of drift rather than a division by zero. Categories neither side has are
 * dropped; df = k − 1.
 */
export function chiSquaredTest(reference: number[], current: number[]): { statistic: number; pValue: number } {
  const nr = total(reference);
  const nc = total(current);
  const n = nr + nc;
  let stat = 0;
  let k = 0;
  for (let i = 0; i < reference.length; i++) {
    const col = reference[i] + current[i];
    if (col === 0) continue;
    k++;
    const er = (col * nr) / n;
    const ec = (col * nc) / n;
    stat += (reference[i] - er) ** 2 / er + (current[i] - ec) ** 2 / ec;
  }
  if (k < 2) return { statistic: 0, pValue: 1 };
  return { statistic: stat, pValue: chiSquaredSurvival(stat, k - 1) };
}

/**
 * Chi-squared goodness-of-fit of the current counts to the reference shares, as Evidently's
 * chisquare test calls scipy: chisquare(current, reference · n_cur / n_ref), df = k − 1 over
 * the categories either side has. A category the current side has and the reference lacks
 * has an expected count of 0: the statistic is infinite and pValue 0, as in scipy.
 */
export function chiSquaredGoodnessOfFit(reference: number[], current: number[]): { statistic: number; pValue: number } {
  const nr = total(reference);
  const nc = total(current);
  let stat = 0;
  let k = 0;
  let unexpected = false;
  for (let i = 0; i < reference.length; i++) {
    if (reference[i] === 0 && current[i] === 0) continue;
    k++;
    const expected = (reference[i] * nc) / nr;
    if (expected === 0) unexpected = true;
    else stat += (current[i] - expected) ** 2 / expected;
  }
  if (k < 2) return { statistic: 0, pValue: 1 };
  if (unexpected) return { statistic: Infinity, pValue: 0 };
  return { statistic: stat, pValue: chiSquaredSurvival(stat, k - 1) };
}

// ---------------------------------------------------------------- top values

export interface Counted {
  value: string;
  count: number;
}

/** A side's listed values summed by value, and what its list leaves out of its non-null count. */
function listed(values: Counted[], nonNull: number): { byValue: Map<string, number>; remainder: number } {
  const byValue = new Map<string, number>();
  for (const v of values) byValue.set(v.value, (byValue.get(v.value) ?? 0) + v.count);
  let sum = 0;
  for (const c of byValue.values()) sum += c;
  return { byValue, remainder: Math.max(0, nonNull - sum) };
}

/**
 * Both sides' category counts on one partition of the values, from top-value lists that may
 * be truncated. A value is its own category when each side's count of it is known: listed
 * there, or absent from a list that leaves nothing out (so its count there is 0). Everything
 * else, including a value only one side lists while the other side's list is truncated (its
 * count there is hidden in that side's remainder, not 0), falls into one pooled "other"
 * category: each side's non-null count minus its own categories. "Other" is left out when it
 * is empty on both sides, and so is a listed value with a count of 0 on both.
 */
export function categoryTable(
  reference: Counted[], referenceNonNull: number, current: Counted[], currentNonNull: number,
): { values: string[]; reference: number[]; current: number[] } {
  const r = listed(reference, referenceNonNull);
  const c = listed(current, currentNonNull);
  const known = (side: typeof r, v: string) => side.byValue.get(v) ?? (side.remainder === 0 ? 0 : null);
  const values: string[] = [];
  const a: number[] = [];
  const b: number[] = [];
  let ownA = 0;
  let ownB = 0;
  for (const v of new Set([...r.byValue.keys(), ...c.byValue.keys()])) {
    const x = known(r, v);
    const y = known(c, v);
    if (x == null || y == null || x + y === 0) continue;
    values.push(v);
    a.push(x);
    b.push(y);
    ownA += x;
    ownB += y;
  }
  const otherA = Math.max(0, referenceNonNull - ownA);
  const otherB = Math.max(0, currentNonNull - ownB);
  if (otherA > 0 || otherB > 0) {
    values.push(OTHER);
    a.push(otherA);
    b.push(otherB);
  }
  return { values, reference: a, current: b };
}

/** The label of the pooled category in categoryTable; no stored value can clash with it, as jsonb cannot hold a NUL. */
export const OTHER = '\u0000other';

/**
 * Several top-value lists of one column added up, without inventing zeros: a value stays
 * listed only when every list has it or leaves nothing out, since a truncated list that
 * lacks it hides its count in the remainder. The others drop out of the list, and so join
 * the merged remainder (the merged non-null count is the sum of the parts'). Sorted by count,
 * then value.
 */
export function mergeTopValueLists(parts: { values: Counted[]; nonNull: number }[]): Counted[] {
  const sides = parts.map((p) => listed(p.values, p.nonNull));
  const sums = new Map<string, number>();
  for (const side of sides) for (const [v, n] of side.byValue) sums.set(v, (sums.get(v) ?? 0) + n);
  return [...sums.entries()]
    .filter(([v]) => sides.every((side) => side.byValue.has(v) || side.remainder === 0))
    .map(([value, count]) => ({ value, count }))
    .sort((x, y) => y.count - x.count || (x.value < y.value ? -1 : x.value > y.value ? 1 : 0));
}
