import { canonicalLabels, labelsProblem } from '../labels';
import { Comparator, Monitor, MonitorStatus } from '../monitor.entity';
import { statusOf } from '../monitor.service';

const monitor = (comparator: Comparator, threshold: number, warningThreshold: number | null, paused = false) =>
  Object.assign(new Monitor(), { comparator, threshold, warningThreshold, paused });

describe('statusOf', () => {
  test.each([
    [Comparator.GT, 100, 80, 79, MonitorStatus.OK],
    [Comparator.GT, 100, 80, 80, MonitorStatus.OK],
    [Comparator.GT, 100, 80, 81, MonitorStatus.WARNING],
    [Comparator.GT, 100, 80, 100, MonitorStatus.WARNING],
    [Comparator.GT, 100, 80, 101, MonitorStatus.ALERT],
    [Comparator.GTE, 100, 80, 80, MonitorStatus.WARNING],
    [Comparator.GTE, 100, 80, 100, MonitorStatus.ALERT],
    [Comparator.LT, 0.5, 0.7, 0.7, MonitorStatus.OK],
    [Comparator.LT, 0.5, 0.7, 0.6, MonitorStatus.WARNING],
    [Comparator.LT, 0.5, 0.7, 0.4, MonitorStatus.ALERT],
    [Comparator.LTE, 0.5, null, 0.5, MonitorStatus.ALERT],
    [Comparator.LTE, 0.5, null, 0.6, MonitorStatus.OK],
  ])('%s threshold %d warning %p, value %d: %s', (c, threshold, warning, value, want) => {
    expect(statusOf(monitor(c, threshold, warning), 1, value)).toBe(want);
  });

  test('no points is NO_DATA; paused wins over everything', () => {
    expect(statusOf(monitor(Comparator.GT, 1, null), 0, null)).toBe(MonitorStatus.NO_DATA);
    expect(statusOf(monitor(Comparator.GT, 1, null, true), 5, 100)).toBe(MonitorStatus.PAUSED);
    expect(statusOf(monitor(Comparator.GT, 1, null, true), 0, null)).toBe(MonitorStatus.PAUSED);
  });
});

describe('labels', () => {
  test('a flat object of strings passes; anything else says why', () => {
    expect(labelsProblem({})).toBeNull();
    expect(labelsProblem({ region: 'eu', 'k8s.pod/name': 'a-1' })).toBeNull();
    expect(labelsProblem([])).toMatch(/object/);
    expect(labelsProblem({ n: 1 })).toMatch(/string/);
    expect(labelsProblem({ n: { deep: 'x' } })).toMatch(/string/);
    expect(labelsProblem({ '1abc': 'x' })).toMatch(/key/);
    expect(labelsProblem({ k: 'x'.repeat(257) })).toMatch(/256/);
    expect(labelsProblem(Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v'])))).toMatch(/16/);
  });

  test('the canonical text does not depend on key order', () => {
    expect(canonicalLabels({ b: '2', a: '1' })).toBe(canonicalLabels({ a: '1', b: '2' }));
    expect(canonicalLabels({ a: '1' })).not.toBe(canonicalLabels({ a: '2' }));
  });
});
