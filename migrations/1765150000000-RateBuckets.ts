import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The token buckets of the per-key rate limit (src/core/graphql/rate-limit.ts), one row per API
 * key that has made a request, shared by every server process on the database.
 *
 * UNLOGGED: a bucket is a few seconds of state that is updated on every request, and writing it
 * to the WAL would cost more than the request's own reads. After a crash PostgreSQL empties the
 * table, and a missing row is a full bucket: the cost of a crash is one burst per key. (Nor is
 * the table replicated to standbys; only the primary serves requests that spend tokens.)
 *
 * No foreign key to api_key: the insert of a first bucket would lock the key row for the check,
 * and a row of a deleted key is harmless (nobody can spend from it). `fillfactor` leaves room in
 * each page so that the constant updates stay HOT (no indexed column changes).
 */
export class RateBuckets1765150000000 implements MigrationInterface {
  name = 'RateBuckets1765150000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE UNLOGGED TABLE rate_bucket (
        key_id     uuid PRIMARY KEY,
        -- tokens left at updated_at; refill since then is computed, never stored ahead
        tokens     double precision NOT NULL,
        updated_at timestamptz NOT NULL,
        -- whether the last request was admitted: what the spending statement returns
        granted    boolean NOT NULL
      ) WITH (fillfactor = 50)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS rate_bucket`);
  }
}
