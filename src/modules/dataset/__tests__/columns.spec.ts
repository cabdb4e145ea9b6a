import { DataType } from '../data-type';
import { checkColumns } from '../columns';
import { ColumnInput } from '../dto/dataset.input';

const col = (statistics: Record<string, unknown> | null, name = 'a'): ColumnInput =>
  ({ name, dtype: DataType.FLOAT, statistics: statistics && { count: 10, nullCount: 0, ...statistics } }) as ColumnInput;

const fieldOf = (fn: () => unknown): unknown => {
  try {
    fn();
  } catch (e) {
    return (e as { extensions: { code: string; field: string } }).extensions;
  }
  return null;
};

test('valid columns are stored with every optional field present', () => {
  expect(checkColumns([col(null), col({ quantiles: [{ q: 0.5, value: 1 }] }, 'b')], 10)).toEqual([
    { name: 'a', dtype: 'FLOAT', description: null, statistics: null },
    {
      name: 'b', dtype: 'FLOAT', description: null,
      statistics: {
        count: 10, nullCount: 0, distinctCount: null, mean: null, stddev: null, min: null, max: null,
        quantiles: [{ q: 0.5, value: 1 }], histogram: null, topValues: null,
      },
    },
  ]);
});

test.each([
  ['duplicate names', [col(null), col(null)], null, 'columns.1.name'],
  ['count above rowCount', [col({ count: 11 })], 10, 'columns.0.statistics.count'],
  ['nullCount above count', [col({ nullCount: 11 })], null, 'columns.0.statistics.nullCount'],
  ['distinctCount above count', [col({ distinctCount: 11 })], null, 'columns.0.statistics.distinctCount'],
  ['min above max', [col({ min: 2, max: 1 })], null, 'columns.0.statistics.min'],
  ['q outside [0, 1]', [col({ quantiles: [{ q: 1.01, value: 1 }] })], null, 'columns.0.statistics.quantiles.0.q'],
  ['repeated q', [col({ quantiles: [{ q: 0.5, value: 1 }, { q: 0.5, value: 1 }] })], null, 'columns.0.statistics.quantiles.1.q'],
  ['decreasing quantile values', [col({ quantiles: [{ q: 0.1, value: 2 }, { q: 0.9, value: 1 }] })], null, 'columns.0.statistics.quantiles.1.value'],
  ['edges not one more than counts', [col({ histogram: { edges: [0, 1, 2], counts: [1, 2, 3] } })], null, 'columns.0.statistics.histogram.edges'],
  ['equal edges', [col({ histogram: { edges: [0, 1, 1], counts: [1, 2] } })], null, 'columns.0.statistics.histogram.edges.2'],
  ['negative histogram count', [col({ histogram: { edges: [0, 1], counts: [-1] } })], null, 'columns.0.statistics.histogram.counts.0'],
  ['top value above count', [col({ topValues: [{ value: 'x', count: 11 }] })], null, 'columns.0.statistics.topValues.0.count'],
])('%s is BAD_USER_INPUT naming the field', (_, columns, rowCount, field) => {
  expect(fieldOf(() => checkColumns(columns as ColumnInput[], rowCount))).toEqual({ code: 'BAD_USER_INPUT', field });
});
