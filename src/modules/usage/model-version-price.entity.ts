import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { Field, Float, ObjectType, registerEnumType } from 'type-graphql';

export enum PricingKind {
  TOKENS = 'TOKENS',
  SELF_HOSTED = 'SELF_HOSTED',
}
registerEnumType(PricingKind, {
  name: 'PricingKind',
  description: 'How a model version\'s requests are priced.',
  valuesConfig: {
    TOKENS: { description: 'Per token, as a provider API bills: inputTokens / 1e6 * inputCostPerMillionTokens + outputTokens / 1e6 * outputCostPerMillionTokens.' },
    SELF_HOSTED: { description: 'By the GPU time a request takes on self-hosted hardware: (inputTokens + outputTokens) / tokensPerSecond / 3600 * gpuHourCostUsd.' },
  },
});

/** Read back from PostgreSQL, -infinity (the registration price's start) is a number, not a Date. */
const validFromColumn = { to: (v: Date | null) => v ?? '-infinity', from: (v: unknown) => (v instanceof Date ? v : null) };
const floatColumn = { to: (v: number | null) => v, from: (v: unknown) => (v == null ? null : Number(v)) };

/**
 * A model version's price from a moment on, until the version's next price. The registration
 * price (given when the version was created) is in force from the start (validFrom null).
 */
@Entity('model_version_price')
@ObjectType({ description: 'A model version\'s price from validFrom until its next price. Each usage record stores the price in force at its time.' })
export class ModelVersionPrice {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id: string;

  @Column({ name: 'model_version_id', type: 'uuid' })
  modelVersionId: string;

  @Column({ name: 'project_id', type: 'uuid' })
  projectId: string;

  @Column({ name: 'valid_from', type: 'timestamptz', precision: 3, transformer: validFromColumn })
  @Field(() => Date, { nullable: true, description: 'From when this price is in force; null for the price given at registration, in force from the start.' })
  validFrom: Date | null;

  @Field(() => PricingKind, { description: 'TOKENS (per-token prices) or SELF_HOSTED (GPU-hour cost and throughput).' })
  get kind(): PricingKind {
    return this.gpuHourCostUsd === null ? PricingKind.TOKENS : PricingKind.SELF_HOSTED;
  }

  @Column({ name: 'input_usd_per_million', type: 'float8', nullable: true, transformer: floatColumn })
  @Field(() => Float, { nullable: true, description: 'TOKENS: USD per million input tokens.' })
  inputCostPerMillionTokens: number | null;

  @Column({ name: 'output_usd_per_million', type: 'float8', nullable: true, transformer: floatColumn })
  @Field(() => Float, { nullable: true, description: 'TOKENS: USD per million output tokens.' })
  outputCostPerMillionTokens: number | null;

  @Column({ name: 'gpu_hour_cost_usd', type: 'float8', nullable: true, transformer: floatColumn })
  @Field(() => Float, { nullable: true, description: 'SELF_HOSTED: USD per GPU-hour of the hardware serving the version.' })
  gpuHourCostUsd: number | null;

  @Column({ name: 'tokens_per_second', type: 'float8', nullable: true, transformer: floatColumn })
  @Field(() => Float, { nullable: true, description: 'SELF_HOSTED: tokens (input and output together) served per second.' })
  tokensPerSecond: number | null;

  @Column({ name: 'set_at', type: 'timestamptz', precision: 3, default: () => 'now()' })
  @Field({ description: 'When this price was set.' })
  setAt: Date;

  @Column({ name: 'set_by', type: 'text' })
  @Field({ description: 'Name of the API key that set it.' })
  setBy: string;
}

/** The cost of one request at a price; null without a price. The formulas are PricingKind's. */
export function costOf(p: Pick<ModelVersionPrice, 'inputCostPerMillionTokens' | 'outputCostPerMillionTokens' | 'gpuHourCostUsd' | 'tokensPerSecond'> | null,
  inputTokens: number, outputTokens: number): number | null {
  if (!p) return null;
  if (p.gpuHourCostUsd !== null) return (inputTokens + outputTokens) / p.tokensPerSecond! / 3600 * p.gpuHourCostUsd;
  return (inputTokens * p.inputCostPerMillionTokens! + outputTokens * p.outputCostPerMillionTokens!) / 1e6;
}
