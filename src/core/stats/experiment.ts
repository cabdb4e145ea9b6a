/**
 * The statistics of an A/B comparison between the routes of a deployment: estimates with 95%
 * confidence intervals, the two-proportion z-test (thumbs-up share), Welch's t-test (mean
 * rating, latency, cost per request) and the verdict drawn from them. docs/experiments.md says
 * what each test assumes and why these tests.
 *
 * Everything here works on SUMMARIES (counts, sums, sums of squares), which is what SQL
 * aggregates return, so the database does the per-row work and a window of a million requests
 * costs the same here as a window of ten. The distributions come from @stdlib (a kept numerical
 * library) rather than from hand-written approximations.
 *
 * A quantity that the data does not define (the share of zero trials, the spread of one
 * observation) is `null`, never NaN; nothing returned is infinite either, because GraphQL's
 * Float cannot carry NaN or Infinity.
 */
import normalCdf from '@stdlib/stats-base-dists-normal-cdf';
import normalQuantile from '@stdlib/stats-base-dists-normal-quantile';
import tCdf from '@stdlib/stats-base-dists-t-cdf';
import tQuantile from '@stdlib/stats-base-dists-t-quantile';

/** Significance level of every verdict, two-sided. */
export const ALPHA = 0.05;
/** Coverage of every interval: 1 - ALPHA. */
export const CONFIDENCE = 1 - ALPHA;
/** Means: at least this many observations per route (see meanSampleRule). */
export const MIN_OBSERVATIONS = 30;
/** Proportions: at least this many successes AND this many failures per route. */
export const MIN_SUCCESSES_AND_FAILURES = 10;

/**
 * Sums of squares from SQL carry rounding: `sumSquares - sum²/n` of ten thousand copies of 0.1
 * is a few 1e-15, not 0, and a spread of 1e-15 would make two constant routes "significantly"
 * different. Spreads and differences below this share of the data's own magnitude are
 * treated as exactly zero. At 1e-9 of the sum of squares, that is a coefficient of variation
 * under about 3e-5: nothing a latency, a cost or a rating ever varies by on purpose, and well
 * above the rounding of double sums over millions of rows (about n × 1.1e-16 at worst).
 */
const RELATIVE_TOLERANCE = 1e-9;

/** The normal quantile for a two-sided 95% interval (1.959963984540054). */
const Z_CRIT = normalQuantile(1 - ALPHA / 2, 0, 1);

export interface ProportionSummary {
  /** Trials that succeeded (thumbs up). */
  successes: number;
  /** All trials (thumbs up + thumbs down). */
  trials: number;
}

export interface MeanSummary {
  /** Number of observations. */
  n: number;
  /** Sum of the observations. */
  sum: number;
  /** Sum of the squared observations. */
  sumSquares: number;
}

export interface Interval {
  lower: number;
  upper: number;
}

export interface ProportionEstimate {
  successes: number;
  trials: number;
  /** successes / trials; null with no trials. */
  share: number | null;
  /** Wilson score interval at CONFIDENCE; null with no trials. */
  interval: Interval | null;
}

export interface MeanEstimate {
  n: number;
  /** null with no observations. */
  mean: number | null;
  /** Sample standard deviation (n - 1 in the denominator); null below 2 observations. */
  sd: number | null;
  /** Student t interval of the mean at CONFIDENCE; null below 2 observations. */
  interval: Interval | null;
}

/** A comparison of treatment against control. Every difference is treatment minus control. */
export interface TestResult {
  /** treatment - control; null when either side has no data. */
  difference: number | null;
  /** Interval of the difference at CONFIDENCE; null when the test is not defined. */
  interval: Interval | null;
  /** z or t; null when not defined (no data, or infinite: zero spread with unequal values). */
  statistic: number | null;
  /** Two-sided p-value; null when the test is not defined. */
  pValue: number | null;
}

export interface WelchResult extends TestResult {
  /** Welch–Satterthwaite degrees of freedom; null when the test has no spread to weigh. */
  df: number | null;
}

export type Direction = 'HIGHER_IS_BETTER' | 'LOWER_IS_BETTER';
export type Verdict = 'BETTER' | 'WORSE' | 'NO_DIFFERENCE' | 'NOT_ENOUGH_DATA';

export interface SampleRule {
  /** Whether both routes meet the rule. */
  enough: boolean;
  /** Observations (trials) each route needs, as a number to show next to NOT_ENOUGH_DATA. */
  minimumSampleSize: number;
  /** The rule in words. */
  rule: string;
}

export interface VerdictResult {
  verdict: Verdict;
  pValue: number | null;
  alpha: number;
  minimumSampleSize: number;
  rule: string;
}

export interface Comparison<E, T extends TestResult> {
  control: E;
  treatment: E;
  test: T;
  verdict: VerdictResult;
}

function checkCount(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${what} must be a non-negative integer, got ${value}`);
}

function checkProportion(s: ProportionSummary): void {
  checkCount(s.trials, 'trials');
  checkCount(s.successes, 'successes');
  if (s.successes > s.trials) throw new RangeError(`successes (${s.successes}) exceed trials (${s.trials})`);
}

/**
 * The share with a Wilson score interval, as statsmodels'
 * `proportion_confint(successes, trials, alpha=0.05, method='wilson')` and scipy's
 * `binomtest(k, n).proportion_ci(method='wilson')`.
 *
 * Why Wilson rather than the textbook Wald interval p ± z·√(p(1-p)/n): Wald's coverage is
 * erratic and far below 95% for small n or shares near 0 or 1 (Brown, Cai & DasGupta,
 * "Interval Estimation for a Binomial Proportion", Statistical Science 16(2), 2001, who
 * recommend Wilson), it collapses to a zero-width interval at 0 or n successes (0 thumbs up
 * out of 12 is not "exactly 0%"), and it can leave [0, 1]. Wilson inverts the score test
 * instead, stays inside [0, 1] and keeps close to 95% coverage down to small samples.
 */
export function proportionEstimate(s: ProportionSummary): ProportionEstimate {
  checkProportion(s);
  const { successes, trials } = s;
  if (trials === 0) return { successes, trials, share: null, interval: null };
  const share = successes / trials;
  const z2 = Z_CRIT * Z_CRIT;
  const denominator = 1 + z2 / trials;
  const centre = (share + z2 / (2 * trials)) / denominator;
  const half = (Z_CRIT / denominator) * Math.sqrt((share * (1 - share)) / trials + z2 / (4 * trials * trials));
  // At 0 or n successes the bound is 0 or 1 exactly; the clamp only removes rounding.
  return { successes, trials, share, interval: { lower: Math.max(0, centre - half), upper: Math.min(1, centre + half) } };
}

/** Two-sided p-value of a standard normal statistic (lower tail doubled: exact for large |z|). */
function normalPValue(z: number): number {
  return Math.min(1, 2 * normalCdf(-Math.abs(z), 0, 1));
}

/**
 * Two-sided two-proportion z-test with the pooled variance under H0 (p_control = p_treatment),
 * as statsmodels' `proportions_ztest([k_t, k_c], [n_t, n_c])` (its default, pooled), and
 * equivalent to Pearson's chi-square on the 2×2 table without continuity correction
 * (scipy's `chi2_contingency(table, correction=False)`: chi² = z², same p-value).
 *
 * The interval of the difference uses the unpooled (Wald) standard error
 * √(p_c(1-p_c)/n_c + p_t(1-p_t)/n_t): the pooled one only holds under H0, which an interval
 * of the difference does not assume. This is the standard pairing (statsmodels'
 * `confint_proportions_2indep(method='wald')`).
 */
export function twoProportionZTest(control: ProportionSummary, treatment: ProportionSummary): TestResult {
  checkProportion(control);
  checkProportion(treatment);
  if (control.trials === 0 || treatment.trials === 0) return { difference: null, interval: null, statistic: null, pValue: null };
  const pc = control.successes / control.trials;
  const pt = treatment.successes / treatment.trials;
  const difference = pt - pc;
  const pooled = (control.successes + treatment.successes) / (control.trials + treatment.trials);
  if (pooled === 0 || pooled === 1) {
    // Every trial on both sides failed (or succeeded): the shares are equal and there is no
    // variance to test against. Nothing distinguishes the routes: z = 0, p = 1.
    return { difference: 0, interval: { lower: 0, upper: 0 }, statistic: 0, pValue: 1 };
  }
  const pooledSe = Math.sqrt(pooled * (1 - pooled) * (1 / control.trials + 1 / treatment.trials));
  const z = difference / pooledSe;
  // Zero when both shares are 0 or 1 (e.g. 0/5 against 5/5): the Wald interval degenerates to a
  // point there, one more reason the verdict asks for 10 successes and 10 failures first.
  const se = Math.sqrt((pc * (1 - pc)) / control.trials + (pt * (1 - pt)) / treatment.trials);
  return {
    difference,
    interval: { lower: difference - Z_CRIT * se, upper: difference + Z_CRIT * se },
    statistic: z,
    pValue: normalPValue(z),
  };
}

function checkMean(s: MeanSummary): void {
  checkCount(s.n, 'n');
  if (!Number.isFinite(s.sum) || !Number.isFinite(s.sumSquares) || s.sumSquares < 0) {
    throw new RangeError(`sum and sumSquares must be finite and sumSquares non-negative, got ${s.sum} and ${s.sumSquares}`);
  }
}

/**
 * Sample variance (n - 1) from the summary, with rounding below RELATIVE_TOLERANCE set to 0.
 * Only for n >= 2.
 */
function sampleVariance({ n, sum, sumSquares }: MeanSummary): number {
  const deviations = sumSquares - (sum * sum) / n;
  const tolerance = RELATIVE_TOLERANCE * sumSquares;
  if (deviations < -tolerance) {
    // Cauchy–Schwarz: sumSquares >= sum²/n for any real data. Below it, the summary is wrong.
    throw new RangeError(`sumSquares ${sumSquares} is below sum²/n = ${(sum * sum) / n}: not the summary of real numbers`);
  }
  return deviations <= tolerance ? 0 : deviations / (n - 1);
}

/** Mean, sample standard deviation and the Student t interval of the mean (n - 1 df). */
export function meanEstimate(s: MeanSummary): MeanEstimate {
  checkMean(s);
  const { n } = s;
  if (n === 0) return { n, mean: null, sd: null, interval: null };
  const mean = s.sum / n;
  if (n === 1) return { n, mean, sd: null, interval: null };
  const sd = Math.sqrt(sampleVariance(s));
  const half = tQuantile(1 - ALPHA / 2, n - 1) * (sd / Math.sqrt(n));
  return { n, mean, sd, interval: { lower: mean - half, upper: mean + half } };
}

/**
 * Welch's unequal-variance t-test from summaries, two-sided, on treatment - control: as scipy's
 * `ttest_ind(treatment, control, equal_var=False)` and
 * `ttest_ind_from_stats(mean_t, sd_t, n_t, mean_c, sd_c, n_c, equal_var=False)`, with the
 * Welch–Satterthwaite degrees of freedom, which also give the interval of the difference (as
 * scipy's `result.confidence_interval(0.95)`).
 *
 * Welch rather than Student's pooled t-test: Student's assumes both routes have the same
 * variance, and its error rate drifts far from alpha when they do not and the sizes differ,
 * which is the normal case for routes with a 90/10 split. When the variances are equal, Welch
 * loses almost nothing.
 */
export function welchTTest(control: MeanSummary, treatment: MeanSummary): WelchResult {
  checkMean(control);
  checkMean(treatment);
  const none = { interval: null, statistic: null, pValue: null, df: null };
  if (control.n === 0 || treatment.n === 0) return { difference: null, ...none };
  const meanC = control.sum / control.n;
  const meanT = treatment.sum / treatment.n;
  const difference = meanT - meanC;
  // One observation has no spread: nothing to weigh the difference against.
  if (control.n < 2 || treatment.n < 2) return { difference, ...none };
  const vc = sampleVariance(control) / control.n;
  const vt = sampleVariance(treatment) / treatment.n;
  if (vc + vt === 0) {
    // Both routes are constant. Equal constants (up to rounding) do not differ at all; unequal
    // ones differ for certain (t is infinite, so left null, and p = 0).
    const scale = Math.max(Math.abs(meanC), Math.abs(meanT));
    if (Math.abs(difference) <= RELATIVE_TOLERANCE * scale) {
      return { difference: 0, interval: { lower: 0, upper: 0 }, statistic: 0, pValue: 1, df: null };
    }
    return { difference, interval: { lower: difference, upper: difference }, statistic: null, pValue: 0, df: null };
  }
  const se = Math.sqrt(vc + vt);
  const t = difference / se;
  const df = (vc + vt) ** 2 / ((vc * vc) / (control.n - 1) + (vt * vt) / (treatment.n - 1));
  const half = tQuantile(1 - ALPHA / 2, df) * se;
  return {
    difference,
    interval: { lower: difference - half, upper: difference + half },
    statistic: t,
    // Lower tail doubled rather than 2(1 - cdf): no cancellation for large |t|.
    pValue: Math.min(1, 2 * tCdf(-Math.abs(t), df)),
    df,
  };
}

/**
 * Proportions: at least MIN_SUCCESSES_AND_FAILURES successes and as many failures in each
 * route, the usual condition for the normal approximation behind the z-test (the
 * "success–failure condition", e.g. OpenIntro Statistics, 4th ed., §6.1 and §6.2 for two
 * proportions). The number stated is the smallest number of trials per route that can meet it
 * at the pooled share seen so far: 10 / min(p, 1 - p), at least 20 (when no share is known
 * yet, or it is 0 or 1, 20 is the least that could ever meet it).
 */
export function proportionSampleRule(control: ProportionSummary, treatment: ProportionSummary): SampleRule {
  checkProportion(control);
  checkProportion(treatment);
  const m = MIN_SUCCESSES_AND_FAILURES;
  const meets = (s: ProportionSummary) => s.successes >= m && s.trials - s.successes >= m;
  const trials = control.trials + treatment.trials;
  const successes = control.successes + treatment.successes;
  // The rarer outcome's count, pooled; m · trials / rarer in integers, so that a share of 0.9
  // asks for 100 trials, not the 101 that 10 / (1 - 0.9) gives in floating point.
  const rarer = Math.min(successes, trials - successes);
  const minimumSampleSize = rarer > 0 ? Math.max(2 * m, Math.ceil((m * trials) / rarer)) : 2 * m;
  return {
    enough: meets(control) && meets(treatment),
    minimumSampleSize,
    rule: `at least ${m} successes and ${m} failures per route`,
  };
}

/**
 * Means: at least MIN_OBSERVATIONS observations per route, the common rule of thumb for the
 * central limit theorem to make a t-test on means trustworthy without assuming normal data
 * (e.g. OpenIntro Statistics, 4th ed., §7.1). Heavily skewed data (latency tails) may need
 * more; docs/experiments.md says so.
 */
export function meanSampleRule(control: MeanSummary, treatment: MeanSummary): SampleRule {
  checkMean(control);
  checkMean(treatment);
  return {
    enough: control.n >= MIN_OBSERVATIONS && treatment.n >= MIN_OBSERVATIONS,
    minimumSampleSize: MIN_OBSERVATIONS,
    rule: `at least ${MIN_OBSERVATIONS} observations per route`,
  };
}

/**
 * The verdict on treatment against control: NOT_ENOUGH_DATA when either route falls short of
 * the sample rule (or the test is not defined), else BETTER or WORSE when p < alpha, by the
 * sign of the difference and the direction that is good, else NO_DIFFERENCE.
 */
export function verdict(test: TestResult, direction: Direction, sample: SampleRule, alpha: number = ALPHA): VerdictResult {
  const base = { pValue: test.pValue, alpha, minimumSampleSize: sample.minimumSampleSize, rule: sample.rule };
  if (!sample.enough || test.pValue === null || test.difference === null) return { verdict: 'NOT_ENOUGH_DATA', ...base };
  if (test.pValue >= alpha || test.difference === 0) return { verdict: 'NO_DIFFERENCE', ...base };
  const higher = test.difference > 0;
  const good = direction === 'HIGHER_IS_BETTER' ? higher : !higher;
  return { verdict: good ? 'BETTER' : 'WORSE', ...base };
}

/** Shares of two routes, the z-test and the verdict (thumbs-up share: HIGHER_IS_BETTER). */
export function compareProportions(
  control: ProportionSummary, treatment: ProportionSummary, direction: Direction,
): Comparison<ProportionEstimate, TestResult> {
  const test = twoProportionZTest(control, treatment);
  return {
    control: proportionEstimate(control),
    treatment: proportionEstimate(treatment),
    test,
    verdict: verdict(test, direction, proportionSampleRule(control, treatment)),
  };
}

/** Means of two routes, Welch's test and the verdict (rating: HIGHER_IS_BETTER; latency, cost: LOWER_IS_BETTER). */
export function compareMeans(
  control: MeanSummary, treatment: MeanSummary, direction: Direction,
): Comparison<MeanEstimate, WelchResult> {
  const test = welchTTest(control, treatment);
  return {
    control: meanEstimate(control),
    treatment: meanEstimate(treatment),
    test,
    verdict: verdict(test, direction, meanSampleRule(control, treatment)),
  };
}
