"""Reference values for experiment.spec.ts, computed independently with scipy.

Run:  python3 src/core/stats/__tests__/experiment-reference.py   (scipy 1.17.x)

statsmodels is not installed here, so the pooled two-proportion z-test (what
statsmodels.stats.proportion.proportions_ztest computes) is written from its formula with
scipy.stats.norm and cross-checked against scipy.stats.chi2_contingency(correction=False),
whose Pearson chi-square on the 2x2 table equals z**2 with the same p-value. The Wilson
interval comes from scipy.stats.binomtest(...).proportion_ci(method='wilson'), which is what
statsmodels' proportion_confint(method='wilson') returns.
"""
import numpy as np
from scipy import stats

Z = stats.norm.ppf(0.975)


def show(label, value):
    print(f"{label} = {value!r}")


def ztest(k1, n1, k2, n2):
    """treatment (k2/n2) minus control (k1/n1); pooled SE for z, unpooled Wald SE for the CI."""
    p1, p2 = k1 / n1, k2 / n2
    pool = (k1 + k2) / (n1 + n2)
    z = (p2 - p1) / np.sqrt(pool * (1 - pool) * (1 / n1 + 1 / n2))
    p = 2 * stats.norm.sf(abs(z))
    chi2, p_chi2, _, _ = stats.chi2_contingency([[k1, n1 - k1], [k2, n2 - k2]], correction=False)
    assert abs(chi2 - z * z) < 1e-9 and abs(p_chi2 - p) < 1e-12, (chi2, z * z, p_chi2, p)
    se = np.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    return dict(z=z, p=p, diff=p2 - p1, lo=p2 - p1 - Z * se, hi=p2 - p1 + Z * se)


print("# two-proportion z-tests (control, treatment)")
for name, (k1, n1, k2, n2) in {
    "significant": (120, 1000, 165, 1000),
    "not_significant": (45, 200, 52, 210),
    "unbalanced": (830, 5000, 31, 140),
}.items():
    print(name, {k: float(v) for k, v in ztest(k1, n1, k2, n2).items()})

print("# Wilson intervals")
for k, n in [(120, 1000), (165, 1000), (45, 200), (0, 25), (25, 25), (1, 1)]:
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    print(k, n, float(ci.low), float(ci.high))

print("# Welch t-tests: ttest_ind(treatment, control, equal_var=False)")
# small n, raw ratings written into the spec as arrays
small_control = [3, 4, 2, 5, 3, 4]
small_treatment = [5, 4, 5, 5, 4]
r = stats.ttest_ind(small_treatment, small_control, equal_var=False)
ci = r.confidence_interval(0.95)
print("small", float(r.statistic), float(r.df), float(r.pvalue), float(ci.low), float(ci.high))

# zero variance on one side
r = stats.ttest_ind(small_treatment, [4, 4, 4], equal_var=False)
print("one_constant", float(r.statistic), float(r.df), float(r.pvalue))

# unequal variances, generated; the spec gets the summaries (n, sum, sum of squares)
rng = np.random.default_rng(20240608)
control = rng.normal(4.0, 0.5, 60)
treatment = rng.normal(4.3, 1.4, 45)
for label, x in [("unequal_control", control), ("unequal_treatment", treatment)]:
    print(label, len(x), repr(float(x.sum())), repr(float((x * x).sum())))
r = stats.ttest_ind(treatment, control, equal_var=False)
ci = r.confidence_interval(0.95)
print("unequal", float(r.statistic), float(r.df), float(r.pvalue), float(ci.low), float(ci.high))
r2 = stats.ttest_ind_from_stats(treatment.mean(), treatment.std(ddof=1), len(treatment),
                                control.mean(), control.std(ddof=1), len(control), equal_var=False)
assert abs(r2.statistic - r.statistic) < 1e-12 and abs(r2.pvalue - r.pvalue) < 1e-12

# latency-like, large unbalanced n, not significant
lat_control = rng.lognormal(5.0, 0.6, 800)
lat_treatment = rng.lognormal(5.0, 0.4, 240)
for label, x in [("latency_control", lat_control), ("latency_treatment", lat_treatment)]:
    print(label, len(x), repr(float(x.sum())), repr(float((x * x).sum())))
r = stats.ttest_ind(lat_treatment, lat_control, equal_var=False)
ci = r.confidence_interval(0.95)
print("latency", float(r.statistic), float(r.df), float(r.pvalue), float(ci.low), float(ci.high))

print("# one-sample t-intervals: ttest_1samp(x, 0).confidence_interval(0.95)")
for label, x in [("small_control", small_control), ("unequal_treatment", treatment)]:
    ci = stats.ttest_1samp(x, 0).confidence_interval(0.95)
    print(label, float(np.mean(x)), float(np.std(x, ddof=1)), float(ci.low), float(ci.high))
