import { checkVersionFilterSize } from '../model.filters';
import { ModelVersionFilter } from '../dto/model-version.input';

const limits = { maxDepth: 2, maxConditions: 10 };
const refusal = (f: unknown) => {
  try {
    checkVersionFilterSize(f as ModelVersionFilter, limits);
  } catch (e) {
    return (e as { extensions: Record<string, unknown> }).extensions;
  }
  return null;
};
const bound = (i: number) => ({ metric: { name: `m${i}`, gte: 0.5 } });

describe('a version filter is bounded in depth and in conditions', () => {
  test('each field given counts one, each alternative of an or counts one', () => {
    // 2 own conditions + 4 alternatives with one each = 10: at the limit.
    expect(refusal({ status: 'READY', alias: 'prod', or: [bound(1), bound(2), bound(3), bound(4)] })).toBeNull();
    expect(refusal({ status: 'READY', alias: 'prod', or: [bound(1), bound(2), bound(3), { ...bound(4), baseVersionId: 'x' }] }))
      .toEqual({ code: 'BAD_USER_INPUT', field: 'filter', limit: 'maxFilterConditions', max: 10 });
    // Empty alternatives are not free, and absent or empty fields cost nothing.
    expect(refusal({ or: Array.from({ length: 11 }, () => ({})) })).toMatchObject({ limit: 'maxFilterConditions' });
    expect(refusal({ status: null, tags: [], or: [] })).toBeNull();
  });

  test('or nests at most maxDepth levels, named where it goes deeper', () => {
    expect(refusal({ or: [{ or: [{ status: 'READY' }] }] })).toBeNull();
    expect(refusal({ or: [{ status: 'READY' }, { or: [{ or: [{ status: 'READY' }] }] }] }))
      .toEqual({ code: 'BAD_USER_INPUT', field: 'filter.or.1.or.0.or', limit: 'maxFilterDepth', max: 2 });
  });

  test('the issue\'s tree of 8,000 metric bounds is refused after a handful of nodes, whatever its size', () => {
    let n = 0;
    const tree = (d: number): unknown => (d === 0 ? bound(n++) : { or: Array.from({ length: 20 }, () => tree(d - 1)) });
    expect(refusal(tree(3))).toMatchObject({ limit: 'maxFilterConditions' });
    expect(refusal(tree(1))).toMatchObject({ limit: 'maxFilterConditions' });
  });
});
