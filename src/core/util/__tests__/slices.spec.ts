import { Slices, Steps, runNow } from '../slices';

function* count(n: number, seen: string[]): Steps<number> {
  for (let i = 0; i < n; i++) {
    seen.push(`step ${i}`);
    yield;
  }
  return n;
}

test('runNow runs every step at once', () => {
  const seen: string[] = [];
  expect(runNow(count(3, seen))).toBe(3);
  expect(seen).toEqual(['step 0', 'step 1', 'step 2']);
});

test('Slices.run lets the event loop turn once a slice is used up', async () => {
  const seen: string[] = [];
  setImmediate(() => seen.push('other work'));
  // Slices of 0 ms are used up at every step: the work waits for the event loop at each yield.
  const done = new Slices(0).run(count(3, seen));
  expect(seen).toEqual(['step 0']);
  expect(await done).toBe(3);
  expect(seen).toEqual(['step 0', 'other work', 'step 1', 'step 2']);

  // A slice that is not used up goes on without waiting.
  const fast: string[] = [];
  setImmediate(() => fast.push('other work'));
  expect(await new Slices(60_000).run(count(3, fast))).toBe(3);
  expect(fast).toEqual(['step 0', 'step 1', 'step 2']);
});
