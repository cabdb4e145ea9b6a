import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Usage and cost of model versions.
 *
 * model_version_price holds each version's prices over time: a row is in force from valid_from
 * until the next row of the version. The price given at registration (an external API's token
 * prices, or a self-hosted version's GPU-hour cost and throughput) is the row valid from
 * -infinity, so a record of any time finds a price by one rule. Exactly one kind per row:
 * token prices (USD per million input and output tokens) or self-hosted (USD per GPU-hour and
 * tokens per second). Existing versions of an external API with both prices get their
 * registration row here.
 *
 * usage_record is one served request. request_id is unique per project (a replay is not counted
 * twice). The unit prices in force at the record's time are copied onto it with the cost they
 * give, so a later price change never rewrites what a past request cost. deployment_id and route
 * are the deployment route that served it, filled once deployments exist (their foreign key is
 * added then); the model version is always known (a route resolves to one).
 */
export class Usage1796450000000 implements MigrationInterface {
  name = 'Usage1796450000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE model_version_price (
        id                     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        model_version_id       uuid NOT NULL REFERENCES model_version (id) ON DELETE CASCADE,
        project_id             uuid NOT NULL REFERENCES project (id) ON DELETE CASCADE,
        valid_from             timestamptz(3) NOT NULL,
        input_usd_per_million  float8 CHECK (input_usd_per_million >= 0),
        output_usd_per_million float8 CHECK (output_usd_per_million >= 0),
        gpu_hour_cost_usd      float8 CHECK (gpu_hour_cost_usd >= 0),
        tokens_per_second      float8 CHECK (tokens_per_second > 0),
        set_at                 timestamptz(3) NOT NULL DEFAULT now(),
        set_by                 text NOT NULL,
        CONSTRAINT model_version_price_from_key UNIQUE (model_version_id, valid_from),
        CONSTRAINT model_version_price_one_kind CHECK (
          (input_usd_per_million IS NOT NULL AND output_usd_per_million IS NOT NULL AND gpu_hour_cost_usd IS NULL AND tokens_per_second IS NULL)
          OR (input_usd_per_million IS NULL AND output_usd_per_million IS NULL AND gpu_hour_cost_usd IS NOT NULL AND tokens_per_second IS NOT NULL))
      )`);
    await q.query(`
      INSERT INTO model_version_price (model_version_id, project_id, valid_from, input_usd_per_million, output_usd_per_million, set_at, set_by)
      SELECT id, project_id, '-infinity', (source->>'inputCostPerMillionTokens')::float8, (source->>'outputCostPerMillionTokens')::float8, created_at, created_by
        FROM model_version
       WHERE source->>'kind' = 'EXTERNAL_API'
         AND jsonb_typeof(source->'inputCostPerMillionTokens') = 'number' AND jsonb_typeof(source->'outputCostPerMillionTokens') = 'number'`);

    await q.query(`
      CREATE TABLE usage_record (
        id                     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        project_id             uuid NOT NULL REFERENCES project (id) ON DELETE CASCADE,
        request_id             text NOT NULL,
        model_version_id       uuid NOT NULL REFERENCES model_version (id) ON DELETE CASCADE,
        deployment_id          uuid,
        route                  text,
        prompt_version_id      uuid REFERENCES prompt_version (id) ON DELETE SET NULL,
        ts                     timestamptz(3) NOT NULL,
        input_tokens           integer NOT NULL CHECK (input_tokens >= 0),
        output_tokens          integer NOT NULL CHECK (output_tokens >= 0),
        latency_ms             float8 NOT NULL CHECK (latency_ms >= 0),
        error                  boolean NOT NULL,
        input_usd_per_million  float8,
        output_usd_per_million float8,
        gpu_hour_cost_usd      float8,
        tokens_per_second      float8,
        cost_usd               float8,
        recorded_at            timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT usage_record_request_key UNIQUE (project_id, request_id),
        CONSTRAINT usage_record_route_check CHECK ((deployment_id IS NULL) = (route IS NULL))
      )`);
    // The cost report reads a project's window.
    await q.query(`CREATE INDEX usage_record_ts_idx ON usage_record (project_id, ts)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE usage_record`);
    await q.query(`DROP TABLE model_version_price`);
  }
}
