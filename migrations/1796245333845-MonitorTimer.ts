import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Indexes for evaluating monitors without a write: the timer claims the running monitors
 * evaluated longest ago (`ORDER BY last_evaluated_at NULLS FIRST, id LIMIT n`), and an alias
 * move finds the monitors that follow the alias (`model_id = $1 AND alias = $2`). Without them
 * both read the whole monitor table, at every tick and every move.
 */
export class MonitorTimer1796245333845 implements MigrationInterface {
  name = 'MonitorTimer1796245333845';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX monitor_due_idx ON monitor (last_evaluated_at NULLS FIRST, id) WHERE NOT paused`);
    await q.query(`CREATE INDEX monitor_alias_idx ON monitor (model_id, alias) WHERE alias IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS monitor_alias_idx`);
    await q.query(`DROP INDEX IF EXISTS monitor_due_idx`);
  }
}
