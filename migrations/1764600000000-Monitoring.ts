import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Live monitoring: metric series and their points, the idempotency keys of ingestion batches,
 * monitors over the series and the alerts they open.
 *
 * A series is identified by (project, model version or none, name, labels). Labels are a flat
 * JSONB object of strings; the identity index holds md5(labels::text) rather than the labels
 * (jsonb's text form is canonical for equal objects of strings), so large label sets never
 * exceed a btree entry.
 */
export class Monitoring1764600000000 implements MigrationInterface {
  name = 'Monitoring1764600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE metric_series (
        id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        project_id       uuid NOT NULL REFERENCES project (id) ON DELETE CASCADE,
        model_version_id uuid REFERENCES model_version (id) ON DELETE CASCADE,
        name             text NOT NULL,
        labels           jsonb NOT NULL DEFAULT '{}',
        -- the point with the newest timestamp so far, kept by the ingestion upsert
        last_value       double precision,
        last_ts          timestamptz(3),
        created_at       timestamptz(3) NOT NULL DEFAULT now()
      )`);
    // The ON CONFLICT target of ingestion; the expressions must stay identical to the upsert's.
    await q.query(`
      CREATE UNIQUE INDEX metric_series_identity_idx ON metric_series
        (project_id, name, (coalesce(model_version_id, '00000000-0000-0000-0000-000000000000'::uuid)), (md5(labels::text)))`);
    // Project.metricSeries pages by (name, id) within a project.
    await q.query(`CREATE INDEX metric_series_project_idx ON metric_series (project_id, name, id)`);
    await q.query(`CREATE INDEX metric_series_version_idx ON metric_series (model_version_id, name) WHERE model_version_id IS NOT NULL`);
    await q.query(`CREATE INDEX metric_series_labels_idx ON metric_series USING gin (labels jsonb_path_ops)`);

    // Append-only. The identity gives points a total order (ties on ts, and the resume
    // cursor of the later point stream).
    await q.query(`
      CREATE TABLE metric_point (
        id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        series_id uuid NOT NULL REFERENCES metric_series (id) ON DELETE CASCADE,
        ts        timestamptz(3) NOT NULL,
        value     double precision NOT NULL
      )`);
    // Range scans of one series; value included so downsampling reads the index only.
    await q.query(`CREATE INDEX metric_point_series_ts_idx ON metric_point (series_id, ts) INCLUDE (value)`);

    // One row per idempotencyKey of recordMetrics: the first call claims it in its transaction.
    await q.query(`
      CREATE TABLE metric_batch (
        project_id      uuid NOT NULL REFERENCES project (id) ON DELETE CASCADE,
        idempotency_key text NOT NULL,
        accepted        integer NOT NULL,
        recorded_at     timestamptz(3) NOT NULL DEFAULT now(),
        recorded_by     text NOT NULL,
        PRIMARY KEY (project_id, idempotency_key)
      )`);

    await q.query(`
      CREATE TABLE monitor (
        id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        project_id        uuid NOT NULL REFERENCES project (id) ON DELETE CASCADE,
        name              text NOT NULL,
        metric            text NOT NULL,
        labels            jsonb,
        -- target: a version, or a model + alias (resolved when evaluated), or neither (project-wide)
        model_version_id  uuid REFERENCES model_version (id) ON DELETE CASCADE,
        model_id          uuid REFERENCES model (id) ON DELETE CASCADE,
        alias             text,
        aggregation       text NOT NULL CHECK (aggregation IN ('AVG', 'MIN', 'MAX', 'SUM', 'COUNT', 'LAST', 'P50', 'P95', 'P99')),
        window_seconds    integer NOT NULL CHECK (window_seconds BETWEEN 1 AND 604800),
        comparator        text NOT NULL CHECK (comparator IN ('GT', 'GTE', 'LT', 'LTE')),
        threshold         double precision NOT NULL,
        warning_threshold double precision,
        paused            boolean NOT NULL DEFAULT false,
        status            text NOT NULL CHECK (status IN ('OK', 'WARNING', 'ALERT', 'NO_DATA', 'PAUSED')),
        last_value        double precision,
        last_evaluated_at timestamptz(3),
        created_at        timestamptz(3) NOT NULL DEFAULT now(),
        created_by        text NOT NULL,
        updated_at        timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT monitor_project_name_key UNIQUE (project_id, name),
        CONSTRAINT monitor_target_check CHECK (
          (model_version_id IS NULL OR (model_id IS NULL AND alias IS NULL))
          AND ((model_id IS NULL) = (alias IS NULL)))
      )`);
    // Evaluation after a write finds the monitors of the metric names written.
    await q.query(`CREATE INDEX monitor_metric_idx ON monitor (project_id, metric)`);

    await q.query(`
      CREATE TABLE alert (
        id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        monitor_id  uuid NOT NULL REFERENCES monitor (id) ON DELETE CASCADE,
        project_id  uuid NOT NULL REFERENCES project (id) ON DELETE CASCADE,
        status      text NOT NULL CHECK (status IN ('WARNING', 'ALERT')),
        value       double precision,
        message     text NOT NULL,
        opened_at   timestamptz(3) NOT NULL DEFAULT now(),
        resolved_at timestamptz(3)
      )`);
    await q.query(`CREATE INDEX alert_monitor_idx ON alert (monitor_id, id DESC)`);
    // At most one open alert per monitor, whatever two evaluations race.
    await q.query(`CREATE UNIQUE INDEX alert_open_idx ON alert (monitor_id) WHERE resolved_at IS NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['alert', 'monitor', 'metric_batch', 'metric_point', 'metric_series']) {
      await q.query(`DROP TABLE IF EXISTS ${t}`);
    }
  }
}
