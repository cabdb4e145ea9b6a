"""How much drift histogram KS misses against scipy's ks_2samp on the raw values, by binning.

For each seed, draws n values from N(0, 1) (reference) and n from N(shift, 1) (current), runs
scipy.stats.ks_2samp on the raw values, and the server's ksTest (dist/, so `npm run build`
first) on histograms of the same values, binned several ways. Prints, per binning, how many
seeds each flags as drifted (p <= 0.05, Evidently's rule), then how many the asymptotic p-value
the server used before flags (p < 0.05), and the mean ratio of the histogram statistic to the
raw one at the non-zero shifts. ksTest in drift.stats.ts and the KS description in the schema
quote the figures.

    npm run build --silent && python3 test/reference/ks_resolution.py [--seeds 30] [--n 2000]
"""
import argparse
import json
import os
import subprocess

import numpy as np
from scipy import stats

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHIFTS = [0.0, 0.06, 0.08, 0.1]


def binnings(x, y):
    """(name, reference histogram, current histogram) for each binning of one seed's samples."""
    lo, hi = min(x.min(), y.min()), max(x.max(), y.max())
    out = []
    for b in [10, 20, 30, 50, 100, 200]:
        e = np.linspace(lo, hi, b + 1)
        out.append((f'{b} equal-width bins, shared edges', (e, x), (e, y)))
    for b in [10, 20, 50, 100, 200, 500]:
        e = np.quantile(x, np.linspace(0, 1, b + 1))
        e[0], e[-1] = lo, hi
        out.append((f'{b} reference-quantile bins, shared edges', (e, x), (e, y)))
    for b in [10, 30, 100]:
        out.append((f'{b} equal-width bins, each side its own range',
                    (np.histogram_bin_edges(x, b), x), (np.histogram_bin_edges(y, b), y)))
    return [(name, hist(*r), hist(*c)) for name, r, c in out]


def hist(edges, values):
    edges = np.unique(edges)
    return {'edges': edges.tolist(), 'counts': np.histogram(values, edges)[0].tolist()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--seeds', type=int, default=30)
    ap.add_argument('--n', type=int, default=2000)
    args = ap.parse_args()
    raw = {s: [] for s in SHIFTS}
    jobs = []
    for shift in SHIFTS:
        for seed in range(args.seeds):
            rng = np.random.default_rng([seed, int(round(shift * 1000))])
            x = rng.normal(0, 1, args.n)
            y = rng.normal(shift, 1, args.n)
            r = stats.ks_2samp(x, y)
            raw[shift].append((float(r.statistic), float(r.pvalue)))
            for name, rh, ch in binnings(x, y):
                jobs.append({'shift': shift, 'seed': seed, 'name': name, 'reference': rh, 'current': ch})
    script = ('const s = require("./dist/src/modules/drift/drift.stats.js");'
              'const jobs = JSON.parse(require("fs").readFileSync(0, "utf8"));'
              'const n = (h) => h.counts.reduce((a, b) => a + b, 0);'
              'console.log(JSON.stringify(jobs.map((j) => ({ ...s.ksTest(j.reference, j.current), '
              'asymptotic: s.ksAsymptoticPValue(s.ksTest(j.reference, j.current).statistic, n(j.reference), n(j.current)) }))));')
    out = subprocess.run(['node', '-e', script], input=json.dumps(jobs), capture_output=True, text=True, cwd=ROOT, check=True)
    results = json.loads(out.stdout)
    names = list(dict.fromkeys(j['name'] for j in jobs))
    table = {name: {s: [0, [], 0] for s in SHIFTS} for name in names}
    for j, r in zip(jobs, results):
        cell = table[j['name']][j['shift']]
        cell[0] += r['pValue'] <= 0.05
        cell[1].append(r['statistic'] / raw[j['shift']][j['seed']][0])
        cell[2] += r['asymptotic'] < 0.05
    print(f'n = {args.n} per side, {args.seeds} seeds; seeds drifted at mean shifts {SHIFTS} sd: with the exact p <= 0.05 '
          '(scipy\'s and the server\'s rule), then with the asymptotic (Stephens) p < 0.05 the server used before')
    print(f'{"scipy ks_2samp on raw values":48s} ' + ' '.join(f'{sum(p <= 0.05 for _, p in raw[s]):4d}' for s in SHIFTS))
    for name in names:
        flags = ' '.join(f'{table[name][s][0]:4d}' for s in SHIFTS)
        before = ' '.join(f'{table[name][s][2]:4d}' for s in SHIFTS)
        ratio = np.mean([x for s in SHIFTS[1:] for x in table[name][s][1]])
        print(f'{name:48s} {flags}  | {before}   D_hist / D_raw {ratio:.3f}')


if __name__ == '__main__':
    main()
