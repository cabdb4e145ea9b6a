"""Reference values for the drift statistics, computed with scipy as Evidently computes them.

Writes src/modules/drift/__tests__/drift.reference.ts, the constants that the unit tests
(src/modules/drift/__tests__/drift.reference.spec.ts) and the integration test
(test/drift.test.ts) hold the server to. Deterministic: every sample comes from a fixed seed.

    python3 test/reference/drift_reference.py

Numeric cases draw n reference values from N(0, 1) and n current values from the scenario's
normal distribution, and bin both on Evidently's own edges for PSI and Jensen-Shannon:
numpy's Sturges edges over both samples (Evidently's get_binned_data). On those histograms:

- PSI and the Jensen-Shannon distance are exactly what Evidently computes from the raw values;
- KS is scipy.stats.ks_2samp (its default method) on the binned values, each at its bin's
  midpoint, which has the histogram CDFs' largest gap at the edges as its statistic;
- Wasserstein is the integral of |F_ref - F_cur| with each bin's values spread uniformly over
  the bin (scipy.integrate.quad, split at every edge and crossing), divided by numpy's std of
  the raw reference values, as Evidently divides.

`raw` holds ks_2samp and the normed scipy.stats.wasserstein_distance on the raw values:
what Evidently reports, which histograms can only approximate.

Categorical cases draw multinomial counts. The compared table is the one the server builds:
values whose count both sides know, plus one pooled "other" category (see categoryTable in
drift.stats.ts). On it: PSI with Evidently's zero fill, scipy's jensenshannon, chi2_contingency
without correction (homogeneity) and chisquare(cur, ref * n_cur / n_ref) (goodness-of-fit,
Evidently's chisquare test), and for two categories Evidently's z test. The truncated
scenario also carries the verdicts on the full counts, which truncation must not overturn.
"""
import json
import math
import os
import platform

import numpy as np
import scipy
from scipy import integrate, stats
from scipy.spatial import distance

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, 'src', 'modules', 'drift', '__tests__', 'drift.reference.ts')
SIZES = [50, 500, 5000]
OTHER = '\u0000other'

# Evidently's defaults (legacy/calculations/stattests): thresholds and how each compares.
PSI_T = JS_T = W_T = 0.1
P_T = 0.05


def ks_drift(p):  # ks_stattest: p_value <= threshold
    return bool(p <= P_T)


def chi_drift(p):  # chisquare_stattest and z_stattest: p_value < threshold
    return bool(p < P_T)


def evidently_fill(percents):
    """get_binned_data's zero fill."""
    percents = percents.copy()
    smallest = percents[percents != 0].min()
    np.place(percents, percents == 0, smallest / 10**6 if smallest <= 0.0001 else 0.0001)
    return percents


def psi(ref_counts, cur_counts):
    r = evidently_fill(np.asarray(ref_counts, float) / np.sum(ref_counts))
    c = evidently_fill(np.asarray(cur_counts, float) / np.sum(cur_counts))
    return float(np.sum((r - c) * np.log(r / c)))


def js(ref_counts, cur_counts):
    return float(distance.jensenshannon(np.asarray(ref_counts, float) / np.sum(ref_counts),
                                        np.asarray(cur_counts, float) / np.sum(cur_counts)))


# ---------------------------------------------------------------- numeric

NUMERIC = [
    ('identical', 'identical distributions', 0.0, 1.0),
    ('shift-0.1sd', 'mean shift of 0.1 sd', 0.1, 1.0),
    ('shift-1sd', 'mean shift of 1 sd', 1.0, 1.0),
    ('variance', 'stddev 1 to 1.5', 0.0, 1.5),
]


def uniform_within_bins_w1(edges, a, b):
    fa = np.concatenate([[0.0], np.cumsum(a) / np.sum(a)])
    fb = np.concatenate([[0.0], np.cumsum(b) / np.sum(b)])

    def gap(t):
        return abs(np.interp(t, edges, fa) - np.interp(t, edges, fb))

    total = 0.0
    for i in range(len(edges) - 1):
        lo, hi = edges[i], edges[i + 1]
        d0, d1 = fa[i] - fb[i], fa[i + 1] - fb[i + 1]
        pieces = [lo, hi]
        if d0 * d1 < 0:
            pieces = [lo, lo + (hi - lo) * d0 / (d0 - d1), hi]
        for x0, x1 in zip(pieces, pieces[1:]):
            total += integrate.quad(gap, x0, x1, epsabs=1e-15, epsrel=1e-13)[0]
    return total


def numeric_case(index, scenario, label, shift, sd, n):
    rng = np.random.default_rng([1, index, n])
    x = rng.normal(0.0, 1.0, n)
    y = rng.normal(shift, sd, n)
    edges = np.histogram_bin_edges(np.concatenate([x, y]), bins='sturges')
    a = np.histogram(x, edges)[0]
    b = np.histogram(y, edges)[0]
    mids = (edges[:-1] + edges[1:]) / 2
    ks = stats.ks_2samp(np.repeat(mids, a), np.repeat(mids, b))
    std = float(np.std(x))
    norm = max(std, 0.001)
    w = uniform_within_bins_w1(edges, a, b) / norm
    raw_ks = stats.ks_2samp(x, y)
    expected = {
        'psi': psi(a, b),
        'jensenShannon': js(a, b),
        'ks': {'statistic': float(ks.statistic), 'pValue': float(ks.pvalue)},
        'wasserstein': w,
    }
    drifted = {
        'PSI': expected['psi'] >= PSI_T,
        'JENSEN_SHANNON': expected['jensenShannon'] >= JS_T,
        'KS': ks_drift(expected['ks']['pValue']),
        'WASSERSTEIN': w >= W_T,
    }
    auto = 'KS' if n <= 1000 else 'WASSERSTEIN'
    return {
        'name': f'{label}, n = {n}',
        'scenario': scenario,
        'n': n,
        'reference': {'edges': edges.tolist(), 'counts': a.tolist(), 'stddev': std},
        'current': {'edges': edges.tolist(), 'counts': b.tolist()},
        'expected': {**expected, 'drifted': drifted, 'auto': {'method': auto, 'drifted': drifted[auto]}},
        'raw': {
            'ks': {'statistic': float(raw_ks.statistic), 'pValue': float(raw_ks.pvalue)},
            'wasserstein': float(stats.wasserstein_distance(x, y)) / norm,
        },
    }


# ---------------------------------------------------------------- categorical

LETTERS = 'ABCDE'


def top(counts, values, k=None):
    """A top-value list: by count, then value; the first k when truncated."""
    listed = sorted(((v, int(c)) for v, c in zip(values, counts) if c > 0), key=lambda vc: (-vc[1], vc[0]))
    return [{'value': v, 'count': c} for v, c in (listed if k is None else listed[:k])]


def table(ref_top, ref_n, cur_top, cur_n):
    """The server's comparison table (categoryTable): known counts, plus a pooled "other"."""
    r = {v['value']: v['count'] for v in ref_top}
    c = {v['value']: v['count'] for v in cur_top}
    r_complete = sum(r.values()) >= ref_n
    c_complete = sum(c.values()) >= cur_n
    values, a, b = [], [], []
    for v in list(dict.fromkeys([*r, *c])):
        x = r.get(v, 0 if r_complete else None)
        y = c.get(v, 0 if c_complete else None)
        if x is None or y is None or x + y == 0:
            continue
        values.append(v)
        a.append(x)
        b.append(y)
    other_a, other_b = ref_n - sum(a), cur_n - sum(b)
    if other_a > 0 or other_b > 0:
        values.append(OTHER)
        a.append(other_a)
        b.append(other_b)
    return values, a, b


def merge_tops(parts):
    """The server's merge of truncated top-value lists (mergeTopValueLists)."""
    sums, complete, listed = {}, [], []
    for values, n in parts:
        d = {v['value']: v['count'] for v in values}
        listed.append(d)
        complete.append(sum(d.values()) >= n)
        for v, c in d.items():
            sums[v] = sums.get(v, 0) + c
    keep = [(v, c) for v, c in sums.items() if all(v in d or full for d, full in zip(listed, complete))]
    return [{'value': v, 'count': c} for v, c in sorted(keep, key=lambda vc: (-vc[1], vc[0]))]


def categorical_stats(a, b):
    a = np.asarray(a, float)
    b = np.asarray(b, float)
    na, nb = a.sum(), b.sum()
    homo = stats.chi2_contingency(np.array([a, b]), correction=False)
    with np.errstate(divide='ignore'):
        gof = stats.chisquare(b, a * nb / na)
    out = {
        'psi': psi(a, b),
        'jensenShannon': js(a, b),
        'chiSquared': {'statistic': float(homo.statistic), 'pValue': float(homo.pvalue)},
        'goodnessOfFit': {'statistic': float(gof.statistic), 'pValue': float(gof.pvalue)},
    }
    if len(a) == 2:
        # Evidently's z test: the first category against the rest.
        p1, p2 = a[0] / na, b[0] / nb
        pooled = (a[0] + b[0]) / (na + nb)
        z = (p1 - p2) / np.sqrt(pooled * (1 - pooled) * (1 / na + 1 / nb))
        out['zTestPValue'] = float(2 * (1 - stats.norm.cdf(abs(z))))
        assert math.isclose(out['zTestPValue'], out['chiSquared']['pValue'], rel_tol=1e-9, abs_tol=1e-15)
    return out


def verdicts(s, n_ref, k):
    drifted = {
        'PSI': s['psi'] >= PSI_T,
        'JENSEN_SHANNON': s['jensenShannon'] >= JS_T,
        'CHI_SQUARED': chi_drift(s['chiSquared']['pValue']),
        'CHI_SQUARED_GOODNESS_OF_FIT': chi_drift(s['goodnessOfFit']['pValue']),
    }
    # _get_default_stattest: chisquare for more than two values, z (= CHI_SQUARED) for two, by n_ref.
    auto = ('CHI_SQUARED_GOODNESS_OF_FIT' if k > 2 else 'CHI_SQUARED') if n_ref <= 1000 else 'JENSEN_SHANNON'
    return {**s, 'drifted': drifted, 'auto': {'method': auto, 'drifted': drifted[auto]}}


def column(dtype, n, top_values, histogram=None):
    return {'dtype': dtype, 'count': n, 'topValues': top_values, 'histogram': histogram}


def simple_categorical(index, scenario, label, p_ref, p_cur, n, dtype='CATEGORY', values=LETTERS):
    rng = np.random.default_rng([2, index, n])
    a = rng.multinomial(n, p_ref)
    b = rng.multinomial(n, p_cur)
    ref_top, cur_top = top(a, values), top(b, values)
    vals, ta, tb = table(ref_top, n, cur_top, n)
    hist = None
    if dtype == 'INT':
        edges = list(range(len(values) + 1))
        hist = ({'edges': edges, 'counts': [int(c) for c in a]}, {'edges': edges, 'counts': [int(c) for c in b]})
    return {
        'name': f'{label}, n = {n}',
        'scenario': scenario,
        'n': n,
        'reference': column(dtype, n, ref_top, hist and hist[0]),
        'current': column(dtype, n, cur_top, hist and hist[1]),
        'windows': None,
        'table': {'values': vals, 'reference': ta, 'current': tb},
        'expected': verdicts(categorical_stats(ta, tb), n, len(ta)),
        'full': None,
    }


TRUNCATED_P = [0.30, 0.25, 0.175, 0.175, 0.10]


def truncated_categorical(n):
    """Both sides from one distribution, each listing its top 3 only, the current side in two
    windows with lists of their own. The first seed where the lists differ in a value, so that
    reading an unlisted value as 0 would invent drift, and the full counts show none."""
    for seed in range(10_000):
        rng = np.random.default_rng([3, n, seed])
        a = rng.multinomial(n, TRUNCATED_P)
        w1 = rng.multinomial(n // 2, TRUNCATED_P)
        w2 = rng.multinomial(n - n // 2, TRUNCATED_P)
        b = w1 + w2
        ref_top = top(a, LETTERS, 3)
        windows = [top(w1, LETTERS, 3), top(w2, LETTERS, 3)]
        merged = merge_tops([(windows[0], n // 2), (windows[1], n - n // 2)])
        if {v['value'] for v in windows[0]} == {v['value'] for v in windows[1]}:
            continue
        if {v['value'] for v in ref_top} == {v['value'] for v in top(b, LETTERS, 3)}:
            continue
        full = verdicts(categorical_stats(a, b), n, 5)
        if any(full['drifted'].values()):
            continue
        vals, ta, tb = table(ref_top, n, merged, n)
        return {
            'name': f'truncated top values (top 3 of 5, identical distributions), n = {n}',
            'scenario': 'truncated',
            'n': n,
            'reference': column('CATEGORY', n, ref_top),
            'current': column('CATEGORY', n, merged),
            'windows': [column('CATEGORY', n // 2, windows[0]), column('CATEGORY', n - n // 2, windows[1])],
            'table': {'values': vals, 'reference': ta, 'current': tb},
            'expected': verdicts(categorical_stats(ta, tb), n, len(ta)),
            'full': {'reference': [int(c) for c in a], 'current': [int(c) for c in b], **full},
        }
    raise RuntimeError(f'no seed for the truncated case at n = {n}')


# ---------------------------------------------------------------- KS p-values alone

def ks_p_values():
    """ks_2samp on samples of unequal sizes too: (statistic, n, m, pValue, exact)."""
    out = []
    for i, (n, m, shift) in enumerate([(40, 50, 0.5), (37, 91, 0.3), (300, 500, 0.15), (999, 1000, 0.1),
                                       (3000, 5000, 0.05), (7000, 10000, 0.04), (9000, 12000, 0.03),
                                       (30, 20000, 0.4), (50000, 50000, 0.02)]):
        rng = np.random.default_rng([4, i])
        r = stats.ks_2samp(rng.normal(0, 1, n), rng.normal(shift, 1, m))
        out.append([float(r.statistic), n, m, float(r.pvalue), max(n, m) <= 10000])
    return out


def cases(items):
    """One case a line: long lines, but a diff shows which case changed."""
    return '[\n' + ''.join(f'  {json.dumps(c)},\n' for c in items) + ']'


def main():
    numeric = [numeric_case(i, s, label, shift, sd, n) for i, (s, label, shift, sd) in enumerate(NUMERIC) for n in SIZES]
    categorical = []
    for n in SIZES:
        categorical.append(simple_categorical(0, 'identical', 'identical distributions (4 categories)',
                                              [0.4, 0.3, 0.2, 0.1, 0], [0.4, 0.3, 0.2, 0.1, 0], n))
        categorical.append(simple_categorical(1, 'new-category', 'a new category with 10% of the current values',
                                              [0.4, 0.3, 0.2, 0.1, 0], [0.36, 0.27, 0.18, 0.09, 0.10], n))
        categorical.append(simple_categorical(2, 'binary', 'two categories, 30% to 36%', [0.7, 0.3], [0.64, 0.36], n,
                                              dtype='BOOL', values=['false', 'true']))
        categorical.append(simple_categorical(3, 'few-values', 'numeric with 4 distinct values, compared by value',
                                              [0.4, 0.3, 0.2, 0.1], [0.3, 0.3, 0.2, 0.2], n,
                                              dtype='INT', values=['0', '1', '2', '3']))
        categorical.append(truncated_categorical(n))
    source = (f'test/reference/drift_reference.py with scipy {scipy.__version__}, numpy {np.__version__}, '
              f'Python {platform.python_version()}')
    text = f'''// Generated by {source}. Do not edit: change the script and run it again.
import type {{ CategoricalReferenceCase, KsReferencePValue, NumericReferenceCase }} from './drift.reference.types';

export const REFERENCE_SOURCE = {json.dumps(source)};

export const NUMERIC_CASES: NumericReferenceCase[] = {cases(numeric)};

export const CATEGORICAL_CASES: CategoricalReferenceCase[] = {cases(categorical)};

/** [ks_2samp statistic, n, m, ks_2samp pValue, whether scipy computed it exactly]. */
export const KS_P_VALUES: KsReferencePValue[] = {json.dumps(ks_p_values())};
'''
    with open(OUT, 'w') as f:
        f.write(text)
    print(f'wrote {os.path.relpath(OUT, ROOT)}: {len(numeric)} numeric, {len(categorical)} categorical cases')


if __name__ == '__main__':
    main()
