import { DataType } from '../../dataset/data-type';
import { FeatureSet, FeatureValueStatus } from '../feature-set.entity';
import { checkValue, flattenRows, requestedFeatures, toVector } from '../feature-values';

const fs = Object.assign(new FeatureSet(), {
  id: '00000000-0000-4000-8000-000000000001', projectId: '00000000-0000-4000-8000-000000000002', name: 'stats',
  entityKey: 'customer_id', ttlSeconds: 60,
  features: [{ name: 'age', dtype: DataType.INT, description: null }, { name: 'seen', dtype: DataType.TIMESTAMP, description: null }],
});

const CASES: [DataType, unknown, boolean][] = [
  [DataType.INT, 3, true], [DataType.INT, 3.5, false], [DataType.INT, 2 ** 53, false],
  [DataType.FLOAT, 3, true], [DataType.FLOAT, '3', false],
  [DataType.BOOL, false, true], [DataType.BOOL, 'false', false],
  [DataType.STRING, '', true], [DataType.CATEGORY, 1, false], [DataType.TEXT, 'x', true],
  [DataType.TIMESTAMP, '2026-01-01T00:00:00Z', true], [DataType.TIMESTAMP, '2026-01-01T00:00:00', false], [DataType.TIMESTAMP, '2026-13-01T00:00:00Z', false],
  [DataType.EMBEDDING, [1, 2.5], true], [DataType.EMBEDDING, [], false], [DataType.EMBEDDING, [1, null], false],
  [DataType.JSON, { any: ['thing'] }, true],
  ...Object.values(DataType).map((d): [DataType, unknown, boolean] => [d, null, true]),
];

test.each(CASES)('%s accepts %j: %s', (dtype, value, ok) => {
  expect(checkValue(dtype, value).ok).toBe(ok);
});

test('TIMESTAMP values are normalized to UTC with milliseconds', () => {
  expect(checkValue(DataType.TIMESTAMP, '2026-01-01T01:00:00+01:00')).toEqual({ ok: true, value: '2026-01-01T00:00:00.000Z' });
});

test('flattenRows keeps row order and names every offender', () => {
  const t = new Date('2026-01-01T00:00:00Z');
  const flat = flattenRows(fs, [{ entityKey: 'a', eventTimestamp: t, values: { age: 1, seen: null } }, { entityKey: 'a', eventTimestamp: t, values: { age: 2 } }]);
  expect(flat).toEqual({ entityKeys: ['a', 'a', 'a'], features: ['age', 'seen', 'age'], eventTimestamps: Array(3).fill(t.toISOString()), values: ['1', null, '2'], entities: 1 });
  expect(() => flattenRows(fs, [{ entityKey: 'a', eventTimestamp: t, values: { age: 'x', other: 1 } }])).toThrow(/rows\.0\.values\.age.*rows\.0\.values\.other/);
});

test('requestedFeatures: all by default, in the order asked, unknown ones refused', () => {
  expect(requestedFeatures(fs, null).map((f) => f.name)).toEqual(['age', 'seen']);
  expect(requestedFeatures(fs, ['seen', 'age', 'seen']).map((f) => f.name)).toEqual(['seen', 'age', 'seen']);
  expect(() => requestedFeatures(fs, ['nope'])).toThrow(/nope/);
  expect(() => requestedFeatures(fs, [])).toThrow();
});

test('toVector: EXPIRED only when strictly older than reference - ttl', () => {
  const ref = new Date('2026-01-01T00:01:00Z');
  const v = toVector(fs, 'a', null, fs.features, ref, (f) => (f === 'age' ? { value: 1, eventTs: new Date('2026-01-01T00:00:00Z') } : { value: 'x', eventTs: new Date('2025-12-31T23:59:59.999Z') }));
  expect(v.values.map((x) => x.status)).toEqual([FeatureValueStatus.PRESENT, FeatureValueStatus.EXPIRED]);
  expect(v.values[1].value).toBeNull();
  expect(toVector(fs, 'b', ref, fs.features, ref, () => undefined).values.map((x) => x.status)).toEqual([FeatureValueStatus.NOT_FOUND, FeatureValueStatus.NOT_FOUND]);
});
