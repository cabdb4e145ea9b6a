import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Usage records served through a deployment route: the foreign key the Usage migration left for
 * when deployments exist. It is composite, (project_id, deployment_id) -> deployment (project_id,
 * id), as every link between a project's rows is, so a record can only name a deployment of its
 * own project. No cascade: a deployment that served requests cannot be deleted from under their
 * costs (a project's deletion still takes both, in one statement). The index serves the per-route reads (DeploymentRoute.usage, Deployment.experiment:
 * one route's records in a window) and the key's check when a deployment is deleted.
 */
export class UsageRoutes1796500000000 implements MigrationInterface {
  name = 'UsageRoutes1796500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE usage_record ADD CONSTRAINT usage_record_deployment_fkey
        FOREIGN KEY (project_id, deployment_id) REFERENCES deployment (project_id, id)`);
    await q.query(`CREATE INDEX usage_record_route_idx ON usage_record (deployment_id, route, ts) WHERE deployment_id IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX usage_record_route_idx`);
    await q.query(`ALTER TABLE usage_record DROP CONSTRAINT usage_record_deployment_fkey`);
  }
}
