import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Indexes for evaluating monitors without a write: the timer claims the running monitors
 * evaluated longest ago (never evaluated first), n at a time, and an alias
 * move finds the monitors that follow the alias (`model_id = $1 AND alias = $2`). Without them
 * both read the whole monitor table, at every tick and every move.
 */
export class MonitorTimer1796245333845 implements MigrationInterface {
  name = 'MonitorTimer1796245333845';

  async up(q: QueryRunner): Promise<void> {
    // On the expression the claim filters and orders by, so that a tick with little due reads
    // only what is due: a plain (last_evaluated_at NULLS FIRST) index cannot serve
    // "IS NULL OR < cutoff" as a range, and a tick would scan every running monitor.
    await q.query(`CREATE INDEX monitor_due_idx ON monitor ((coalesce(last_evaluated_at, '-infinity'::timestamptz)), id) WHERE NOT paused`);
    await q.query(`CREATE INDEX monitor_alias_idx ON monitor (model_id, alias) WHERE alias IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS monitor_alias_idx`);
    await q.query(`DROP INDEX IF EXISTS monitor_due_idx`);
  }
}
