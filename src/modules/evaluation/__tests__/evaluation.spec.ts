import 'reflect-metadata';
import { validate } from 'class-validator';
import { Params } from '../../../core/db/sql';
import { toGlobalId } from '../../../core/graphql/ids';
import { encodeCursor } from '../../../core/graphql/pagination';
import { CompleteEvaluationInput, EvalMetricInput, EvalSampleInput, LogEvaluationSamplesInput } from '../dto/evaluation.input';
import { EvaluationStatus } from '../evaluation.entity';
import { metricBoundSql } from '../evaluation.filters';
import { evaluationPage, samplePage } from '../evaluation.pages';
import { MAX_SAMPLES_PER_CALL, lastPerKey, scoresProblem } from '../evaluation.rules';
import { registerNodeType } from '../../../core/graphql/ids';
import { datasetModule } from '../../dataset';

// Ids of dataset versions parse once the dataset module has registered its node types.
beforeAll(() => datasetModule.nodeTypes?.forEach(registerNodeType));

const metric = (v: Partial<EvalMetricInput>) => Object.assign(new EvalMetricInput(), { name: 'accuracy', value: 0.5, ...v });
const failedProps = async (o: object) => (await validate(o)).map((e) => e.property);
const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return (e as { extensions?: { code?: string; field?: string } }).extensions;
  }
  return undefined;
};

describe('metric inputs', () => {
  test.each(['accuracy', 'ndcg@10', 'rouge-L', 'judge/helpfulness', 'latency.p95', 'f1_macro', '_private'])('name %s is accepted', async (name) => {
    expect(await failedProps(metric({ name }))).toEqual([]);
  });

  test.each(['', ' accuracy', 'acc uracy', '-x', 'a'.repeat(129), 'acc\n'])('name %j is refused', async (name) => {
    expect(await failedProps(metric({ name }))).toEqual(['name']);
  });

  test.each(['lang=fr', 'length > 512', 'région:eu/fr', 'x'])('slice %j is accepted', async (slice) => {
    expect(await failedProps(metric({ slice }))).toEqual([]);
  });

  test.each(['', ' ', ' lang=fr', 'lang=fr ', 'a\tb', 'x'.repeat(257)])('slice %j is refused', async (slice) => {
    expect(await failedProps(metric({ slice }))).toEqual(['slice']);
  });

  test('values must be finite numbers', async () => {
    expect(await failedProps(metric({ value: Number.NaN }))).toEqual(['value']);
    expect(await failedProps(metric({ value: Number.POSITIVE_INFINITY }))).toEqual(['value']);
    expect(await failedProps(metric({ value: -1e300 }))).toEqual([]);
  });

  test('a repeated (name, slice) in one call keeps the last value, in the position of the last', () => {
    const kept = lastPerKey([
      { name: 'a', value: 1 }, { name: 'a', slice: 'x', value: 2 }, { name: 'b', value: 3 }, { name: 'a', slice: null, value: 4 },
    ]);
    expect(kept).toEqual([{ name: 'a', slice: 'x', value: 2 }, { name: 'b', value: 3 }, { name: 'a', slice: null, value: 4 }]);
  });

  test('completing needs COMPLETED or FAILED', async () => {
    const input = (status: EvaluationStatus) => Object.assign(new CompleteEvaluationInput(), { evaluationId: 'x', status });
    expect(await failedProps(input(EvaluationStatus.RUNNING))).toEqual(['status']);
    expect(await failedProps(input(EvaluationStatus.FAILED))).toEqual([]);
  });
});

describe('sample inputs', () => {
  test('scores must be an object of finite numbers keyed by metric names', () => {
    expect(scoresProblem({ exact_match: 1, judge: 0.25 })).toBeNull();
    expect(scoresProblem({})).toBeNull();
    expect(scoresProblem([1, 2])).toMatch(/JSON object/);
    expect(scoresProblem(null)).toMatch(/JSON object/);
    expect(scoresProblem({ judge: '0.5' })).toMatch(/finite number/);
    expect(scoresProblem({ judge: null })).toMatch(/finite number/);
    expect(scoresProblem({ 'bad key': 1 })).toMatch(/bad key/);
    expect(scoresProblem(Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`s${i}`, i])))).toMatch(/at most 100/);
  });

  test('a call takes 1 to 10,000 samples, each validated', async () => {
    const sample = (scores: unknown) => Object.assign(new EvalSampleInput(), { input: 'q', scores });
    const input = (samples: EvalSampleInput[]) => Object.assign(new LogEvaluationSamplesInput(), { evaluationId: 'x', samples });
    expect(await failedProps(input([sample({ em: 1 })]))).toEqual([]);
    expect(await failedProps(input([]))).toEqual(['samples']);
    expect(await failedProps(input(Array.from({ length: MAX_SAMPLES_PER_CALL + 1 }, () => sample({}))))).toEqual(['samples']);
    const nested = await validate(input([sample({ em: 1 }), sample({ em: 'yes' })]));
    expect(nested[0].children?.[0]).toMatchObject({ property: '1', children: [{ property: 'scores' }] });
  });
});

describe('metric bounds in version filters', () => {
  test('only completed evaluations count; null slice means the overall value', () => {
    const p = new Params();
    const sql = metricBoundSql({ name: 'acc', gte: 0.9 }, p, 'filter.metric');
    expect(sql).toContain(`e.status = 'COMPLETED'`);
    expect(sql).toContain('em.slice IS NULL');
    expect(sql).toContain('em.value >= $2');
    expect(sql).not.toContain('em.value <=');
    expect(p.values).toEqual(['acc', 0.9]);
  });

  test('slice, dataset version and both bounds become parameters', () => {
    const p = new Params();
    const dv = '6f1c1a52-3a0c-4a8e-9a37-2f7b3f1d7a10';
    const sql = metricBoundSql({ name: 'acc', slice: 'lang=fr', datasetVersionId: toGlobalId('DatasetVersion', dv), gte: 0, lte: 1 }, p, 'filter.metric');
    expect(sql).toContain('em.slice = $2');
    expect(sql).toContain('e.dataset_version_id = $3');
    expect(p.values).toEqual(['acc', 'lang=fr', dv, 0, 1]);
  });

  test('an id of another type is BAD_USER_INPUT naming the field', () => {
    const wrong = toGlobalId('ModelVersion', '6f1c1a52-3a0c-4a8e-9a37-2f7b3f1d7a10');
    expect(codeOf(() => metricBoundSql({ name: 'acc', datasetVersionId: wrong }, new Params(), 'filter.or.1.metric')))
      .toMatchObject({ code: 'BAD_USER_INPUT', field: 'filter.or.1.metric.datasetVersionId' });
  });
});

describe('pages', () => {
  test('cursors of another list and forged cursors are BAD_USER_INPUT', () => {
    const first = samplePage({ first: 2 });
    expect(first.limit).toBe(3);
    expect(codeOf(() => samplePage({ after: 'not a cursor!' }))).toMatchObject({ code: 'BAD_USER_INPUT' });
    expect(codeOf(() => samplePage({ after: encodeCursor(['ev', '2026-11-26T20:00:00.000Z', 'x']) }))).toMatchObject({ code: 'BAD_USER_INPUT' });
    expect(codeOf(() => samplePage({ after: encodeCursor(['es', 'abc']) }))).toMatchObject({ code: 'BAD_USER_INPUT' });
    expect(samplePage({ after: encodeCursor(['es', '42']) }).after).toEqual(['42']);
  });

  test('page sizes above 100 and filter ids of another type are refused', () => {
    expect(codeOf(() => evaluationPage({ first: 101 }))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
    const wrong = toGlobalId('Model', '6f1c1a52-3a0c-4a8e-9a37-2f7b3f1d7a10');
    expect(codeOf(() => evaluationPage({ filter: { datasetVersionId: wrong } }))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'filter.datasetVersionId' });
  });
});
