import { priceOf } from '../rate-limit';

describe('priceOf', () => {
  const limits = { perMinute: 6000, burst: 6000, costPerToken: 100 };

  test('one token per operation, plus one per costPerToken of estimated cost', () => {
    expect(priceOf(0, limits)).toBe(1);
    expect(priceOf(2, limits)).toBe(1);
    expect(priceOf(99, limits)).toBe(1);
    expect(priceOf(100, limits)).toBe(2);
    expect(priceOf(301, limits)).toBe(4);
    expect(priceOf(20000, limits)).toBe(201);
  });

  test('never more than a full bucket, so that anything the cost limit admits can run', () => {
    expect(priceOf(20000, { ...limits, burst: 5 })).toBe(5);
  });
});
