import { DataSource } from 'typeorm';
import { BinaryCopyWriter, copyIn, uuidBytes } from '../src/core/db/binary-copy';
import { isUniqueViolation } from '../src/core/db/errors';
import { testDatabaseUrl } from './support/harness';

/**
 * The binary COPY writer against PostgreSQL itself: what it writes must read back as the same
 * values, whatever their width (the buffer grows from a deliberately tiny first size), and a
 * failing COPY must reject with the driver's code and constraint, as recordUsage relies on.
 */

let db: DataSource;
beforeAll(async () => {
  db = new DataSource({ type: 'postgres', url: testDatabaseUrl(), poolSize: 2 });
  await db.initialize();
});
afterAll(() => db.destroy());

const TABLE = `CREATE TEMP TABLE copy_check (
  u uuid, t text, i integer, f float8, b boolean, ts timestamptz, n integer
) ON COMMIT DROP`;
const COPY = 'COPY copy_check (u, t, i, f, b, ts, n) FROM STDIN (FORMAT binary)';

test('every field type reads back as written, across buffer growth', async () => {
  const u = '8f14e45f-ceea-467e-a5b3-2b9c4a1d0e7f';
  const times = [
    Date.UTC(2026, 11, 3, 12, 0, 0, 123), Date.UTC(1969, 6, 20, 20, 17, 40, 1), Date.UTC(9999, 11, 31, 23, 59, 59, 999),
    Date.UTC(100, 0, 1), Date.UTC(2000, 0, 1), Date.UTC(1999, 11, 31, 23, 59, 59, 999),
  ];
  const texts = ['', 'plain', 'naïve — 日本語 😀', 'quote " and \\ backslash, {braces}', 'x'.repeat(10_000), 'NULL'];
  const floats = [0, -1.5, 1e-300, Number.MAX_VALUE, -0, 0.1 + 0.2];
  const ints = [0, -2147483648, 2147483647, 1, -1, 42];
  const rows = await db.transaction(async (m) => {
    await m.query(TABLE);
    const w = new BinaryCopyWriter(1);
    for (let k = 0; k < times.length; k++) {
      w.row(7).uuid(k % 2 ? null : uuidBytes(u)).text(texts[k]).int4(ints[k]).float8(floats[k]).bool(k % 3 === 0).timestamptz(times[k]).null();
    }
    w.row(7).null().text(null).int4(7).float8(null).bool(false).timestamptz(0).null();
    await copyIn(m, COPY, w.finish());
    return m.query(`SELECT u, t, i, f, b, (extract(epoch FROM ts) * 1000)::float8 AS ms, n FROM copy_check ORDER BY i`);
  });
  const expected = times.map((ms, k) => ({ u: k % 2 ? null : u, t: texts[k], i: ints[k], f: floats[k], b: k % 3 === 0, ms, n: null }));
  expected.push({ u: null, t: null, i: 7, f: null, b: false, ms: 0, n: null } as never);
  expect(rows).toEqual(expected.sort((x, y) => x.i - y.i));
});

test('a COPY that breaks a unique key rejects with its code and constraint, and the transaction can carry on from a savepoint', async () => {
  const after = await db.transaction(async (m) => {
    await m.query(`CREATE TEMP TABLE copy_unique (t text CONSTRAINT copy_unique_t_key UNIQUE) ON COMMIT DROP`);
    await m.query(`INSERT INTO copy_unique VALUES ('taken')`);
    await m.query('SAVEPOINT s');
    const w = new BinaryCopyWriter(16);
    w.row(1).text('new');
    w.row(1).text('taken');
    const err = await copyIn(m, 'COPY copy_unique (t) FROM STDIN (FORMAT binary)', w.finish()).then(() => null, (e: unknown) => e);
    expect(isUniqueViolation(err, 'copy_unique_t_key')).toBe(true);
    await m.query('ROLLBACK TO SAVEPOINT s');
    return m.query(`SELECT t FROM copy_unique ORDER BY t`);
  });
  // All or nothing: the new row of the failed COPY is gone with it.
  expect(after).toEqual([{ t: 'taken' }]);
});

test('refuses to COPY outside a transaction, where the rows would commit on their own', async () => {
  await expect(copyIn(db.manager, COPY, new BinaryCopyWriter(0).finish())).rejects.toThrow('COPY needs the EntityManager of an open transaction');
});
