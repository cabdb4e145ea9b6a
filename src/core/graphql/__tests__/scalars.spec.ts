import fc from 'fast-check';
import { DateTimeResolver } from 'graphql-scalars';
import { DateTimeScalar, parseCanonicalDateTime } from '../scalars';

/** What DateTime answered before the fast path: graphql-scalars, then the year range. */
function general(value: string): number | string {
  try {
    const d = DateTimeResolver.parseValue(value) as Date;
    const year = d.getUTCFullYear();
    return year < 1 || year > 9999 ? 'refused' : d.getTime();
  } catch {
    return 'refused';
  }
}
function fast(value: string): number | string {
  try {
    return (DateTimeScalar.parseValue(value) as Date).getTime();
  } catch {
    return 'refused';
  }
}

const pad = (n: number, w: number) => String(n).padStart(w, '0');

test('the canonical fast path accepts and refuses exactly what the general parse does', () => {
  // Canonical-shaped strings with every field allowed past its range, so both sides are hit.
  const shaped = fc.tuple(fc.integer({ min: 0, max: 9999 }), fc.integer({ min: 0, max: 13 }), fc.integer({ min: 0, max: 32 }),
    fc.integer({ min: 0, max: 24 }), fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: 61 }), fc.integer({ min: 0, max: 999 }))
    .map(([y, mo, d, h, mi, s, ms]) => `${pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)}T${pad(h, 2)}:${pad(mi, 2)}:${pad(s, 2)}.${pad(ms, 3)}Z`);
  fc.assert(fc.property(shaped, (v) => { expect(fast(v)).toEqual(general(v)); }), { numRuns: 20_000 });
  fc.assert(fc.property(fc.string({ maxLength: 30 }), (v) => { expect(fast(v)).toEqual(general(v)); }), { numRuns: 5_000 });
  for (const v of ['2024-02-29T23:59:59.999Z', '2023-02-29T00:00:00.000Z', '1900-02-29T00:00:00.000Z', '2000-02-29T00:00:00.000Z',
    '0000-01-01T00:00:00.000Z', '0001-01-01T00:00:00.000Z', '0099-12-31T00:00:00.000Z', '9999-12-31T23:59:59.999Z',
    '2026-01-01T00:00:60.000Z', '2026-01-01t00:00:00.000z', '2026-01-01T00:00:00.000+00:00', '２026-01-01T00:00:00.000Z']) {
    expect({ v, r: fast(v) }).toEqual({ v, r: general(v) });
  }
  expect(parseCanonicalDateTime('2026-12-03T02:05:17.123Z')?.toISOString()).toBe('2026-12-03T02:05:17.123Z');
  expect(parseCanonicalDateTime('2026-12-03T02:05:17Z')).toBeNull();
});
