import { groupBy } from '../group-by';

test('groups keep input order, and groups come in the order of their first item', () => {
  const rows = [{ k: 'b', n: 1 }, { k: 'a', n: 2 }, { k: 'b', n: 3 }, { k: 'c', n: 4 }, { k: 'a', n: 5 }];
  const groups = groupBy(rows, (r) => r.k);
  expect([...groups.keys()]).toEqual(['b', 'a', 'c']);
  expect([...groups.values()].map((g) => g.map((r) => r.n))).toEqual([[1, 3], [2, 5], [4]]);
  expect(groupBy([], (x: number) => x).size).toBe(0);
});

test('keys are compared as Map keys: the number 1 and the string "1" are different groups', () => {
  const groups = groupBy([1, '1', 1], (x) => x);
  expect([...groups.entries()]).toEqual([[1, [1, 1]], ['1', ['1']]]);
});

test('keyOf gets the index, for keys that sit in a parallel array', () => {
  const parents = ['p2', 'p1', 'p2'];
  const groups = groupBy(['x', 'y', 'z'], (_, i) => parents[i]);
  expect(Object.fromEntries(groups)).toEqual({ p2: ['x', 'z'], p1: ['y'] });
});

test('one pass: keyOf runs once per item, and a group grows in place rather than being copied', () => {
  const keyOf = jest.fn((n: number) => n % 3);
  const items = Array.from({ length: 3000 }, (_, i) => i);
  const into = new Map<number, number[]>();
  const zeros = [-3];
  into.set(0, zeros);
  const groups = groupBy(items, keyOf, into);
  expect(keyOf).toHaveBeenCalledTimes(3000);
  expect(groups).toBe(into);
  expect(groups.get(0)).toBe(zeros);
  expect(zeros).toHaveLength(1001);
  expect(zeros.slice(0, 3)).toEqual([-3, 0, 3]);
  expect(groups.get(1)).toHaveLength(1000);
});
