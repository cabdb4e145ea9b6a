import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Storage that grows: metric_point becomes declaratively partitioned by range of `ts`, one
 * partition per UTC day plus a DEFAULT partition, so that no write ever fails for lack of a
 * partition (the storage round, src/modules/monitoring/point-storage.ts, creates the days ahead
 * and moves rows that landed in DEFAULT into their day). Alongside it:
 *
 * - metric_rollup_1m / metric_rollup_1h: per series and clock minute / hour, count, sum, min,
 *   max, the newest point (ts, id, value) and a DDSketch (src/modules/monitoring/sketch.ts) of
 *   the values, kept by the rollup round (rollups.ts) from the points with id <= the watermark;
 * - metric_rollup_state: that watermark (one row), moved in the same transaction as the rollups;
 * - metric_retention: per project, how many days of points to keep (no row: everything).
 *
 * The columns of metric_point stay (id identity, project_id, series_id, ts, value); the key
 * becomes (id, ts), since a unique key of a partitioned table must hold the partition key. The
 * identity continues after the largest existing id, so stream cursors handed out before stay
 * valid. Indexes per partition: (id, ts) (the key: the point streams' and the rollup round's id
 * ranges, and the horizon's max(id)), (series_id, ts) INCLUDE (value) (history and monitors),
 * and (project_id, id) (a stream replaying one project from a cursor).
 *
 * Existing rows are copied into a partition of their day in this transaction (a day per
 * distinct UTC date in the data); on a large installation that is a full rewrite of the table,
 * to be run in a maintenance window.
 */
export class PointStorage1796245496825 implements MigrationInterface {
  name = 'PointStorage1796245496825';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE metric_point RENAME TO metric_point_unpartitioned`);
    await q.query(`ALTER TABLE metric_point_unpartitioned RENAME CONSTRAINT metric_point_pkey TO metric_point_unpartitioned_pkey`);
    await q.query(`ALTER TABLE metric_point_unpartitioned RENAME CONSTRAINT metric_point_project_id_series_id_fkey TO metric_point_unpartitioned_fkey`);
    await q.query(`ALTER INDEX metric_point_series_ts_idx RENAME TO metric_point_unpartitioned_series_ts_idx`);
    await q.query(`
      CREATE TABLE metric_point (
        id         bigint GENERATED ALWAYS AS IDENTITY,
        project_id uuid NOT NULL,
        series_id  uuid NOT NULL,
        ts         timestamptz(3) NOT NULL,
        value      double precision NOT NULL,
        CONSTRAINT metric_point_pkey PRIMARY KEY (id, ts),
        CONSTRAINT metric_point_project_id_series_id_fkey FOREIGN KEY (project_id, series_id)
          REFERENCES metric_series (project_id, id) ON DELETE CASCADE
      ) PARTITION BY RANGE (ts)`);
    await q.query(`CREATE INDEX metric_point_series_ts_idx ON metric_point (series_id, ts) INCLUDE (value)`);
    await q.query(`CREATE INDEX metric_point_project_id_idx ON metric_point (project_id, id)`);
    await q.query(`CREATE TABLE metric_point_default PARTITION OF metric_point DEFAULT`);
    // A partition per UTC day of the existing points, created before the copy so that none lands in DEFAULT.
    await q.query(`
      DO $$
      DECLARE d date;
      BEGIN
        FOR d IN SELECT DISTINCT (ts AT TIME ZONE 'UTC')::date FROM metric_point_unpartitioned LOOP
          EXECUTE format('CREATE TABLE %I PARTITION OF metric_point FOR VALUES FROM (%L) TO (%L)',
            'metric_point_p' || to_char(d, 'YYYYMMDD'), d::timestamp AT TIME ZONE 'UTC', (d + 1)::timestamp AT TIME ZONE 'UTC');
        END LOOP;
      END $$`);
    await q.query(`
      INSERT INTO metric_point (id, project_id, series_id, ts, value) OVERRIDING SYSTEM VALUE
      SELECT id, project_id, series_id, ts, value FROM metric_point_unpartitioned`);
    await q.query(`SELECT setval(pg_get_serial_sequence('metric_point', 'id'), coalesce((SELECT max(id) FROM metric_point_unpartitioned), 0) + 1, false)`);
    await q.query(`DROP TABLE metric_point_unpartitioned`);

    for (const unit of ['1m', '1h']) {
      await q.query(`
        CREATE TABLE metric_rollup_${unit} (
          series_id  uuid NOT NULL,
          bucket     timestamptz NOT NULL,
          project_id uuid NOT NULL,
          count      bigint NOT NULL,
          sum        double precision NOT NULL,
          min        double precision NOT NULL,
          max        double precision NOT NULL,
          -- the bucket's newest point: the greatest (ts, id)
          last_ts    timestamptz(3) NOT NULL,
          last_id    bigint NOT NULL,
          last_value double precision NOT NULL,
          sketch     bytea NOT NULL,
          PRIMARY KEY (series_id, bucket),
          FOREIGN KEY (project_id, series_id) REFERENCES metric_series (project_id, id) ON DELETE CASCADE
        )`);
      // Retention deletes one project's old buckets.
      await q.query(`CREATE INDEX metric_rollup_${unit}_project_idx ON metric_rollup_${unit} (project_id, bucket)`);
    }
    await q.query(`CREATE TABLE metric_rollup_state (name text PRIMARY KEY, watermark bigint NOT NULL)`);
    // Every point that exists now is rolled up by the first rounds.
    await q.query(`INSERT INTO metric_rollup_state (name, watermark) VALUES ('points', 0)`);
    await q.query(`
      CREATE TABLE metric_retention (
        project_id uuid PRIMARY KEY REFERENCES project (id) ON DELETE CASCADE,
        days       integer NOT NULL CHECK (days BETWEEN 1 AND 36600),
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_by text NOT NULL
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['metric_retention', 'metric_rollup_state', 'metric_rollup_1h', 'metric_rollup_1m']) await q.query(`DROP TABLE ${t}`);
    await q.query(`ALTER TABLE metric_point RENAME TO metric_point_partitioned`);
    await q.query(`ALTER TABLE metric_point_partitioned RENAME CONSTRAINT metric_point_pkey TO metric_point_partitioned_pkey`);
    await q.query(`ALTER TABLE metric_point_partitioned RENAME CONSTRAINT metric_point_project_id_series_id_fkey TO metric_point_partitioned_fkey`);
    await q.query(`ALTER INDEX metric_point_series_ts_idx RENAME TO metric_point_partitioned_series_ts_idx`);
    // The table as Monitoring and ProjectScopedKeys left it (columns in that order, the same names).
    await q.query(`
      CREATE TABLE metric_point (
        id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        series_id  uuid NOT NULL,
        ts         timestamptz(3) NOT NULL,
        value      double precision NOT NULL,
        project_id uuid NOT NULL,
        CONSTRAINT metric_point_project_id_series_id_fkey FOREIGN KEY (project_id, series_id)
          REFERENCES metric_series (project_id, id) ON DELETE CASCADE
      )`);
    await q.query(`
      INSERT INTO metric_point (id, series_id, ts, value, project_id) OVERRIDING SYSTEM VALUE
      SELECT id, series_id, ts, value, project_id FROM metric_point_partitioned`);
    await q.query(`SELECT setval(pg_get_serial_sequence('metric_point', 'id'), coalesce((SELECT max(id) FROM metric_point_partitioned), 0) + 1, false)`);
    await q.query(`CREATE INDEX metric_point_series_ts_idx ON metric_point (series_id, ts) INCLUDE (value)`);
    await q.query(`DROP TABLE metric_point_partitioned`);
  }
}
