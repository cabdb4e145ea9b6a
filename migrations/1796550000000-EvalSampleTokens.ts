import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Evaluation samples may carry the tokens the model read and wrote for them. A version that has
 * not served traffic yet has no usage to price, but its evaluation on a dataset ran the same kind
 * of requests: their mean token counts, at the version's price, estimate what 1,000 requests
 * would cost (compareCandidates). Null when the logger did not say; existing samples keep null.
 */
export class EvalSampleTokens1796550000000 implements MigrationInterface {
  name = 'EvalSampleTokens1796550000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE eval_sample
      ADD COLUMN input_tokens integer CHECK (input_tokens >= 0),
      ADD COLUMN output_tokens integer CHECK (output_tokens >= 0)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE eval_sample DROP COLUMN input_tokens, DROP COLUMN output_tokens`);
  }
}
