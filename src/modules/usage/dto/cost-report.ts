import { Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { GraphQLSafeInt } from 'graphql-scalars';

export enum CostGroupBy {
  MODEL = 'MODEL',
  MODEL_VERSION = 'MODEL_VERSION',
  DEPLOYMENT = 'DEPLOYMENT',
  PROMPT_VERSION = 'PROMPT_VERSION',
  DAY = 'DAY',
}
registerEnumType(CostGroupBy, {
  name: 'CostGroupBy',
  description: 'What each row of a cost report is about.',
  valuesConfig: {
    MODEL: { description: 'One row per model (all its versions).' },
    MODEL_VERSION: { description: 'One row per model version.' },
    DEPLOYMENT: { description: 'One row per deployment that served the requests (deploymentId), and one (deploymentId null) for requests recorded without one.' },
    PROMPT_VERSION: { description: 'One row per prompt version, and one (promptVersion null) for requests recorded without one.' },
    DAY: { description: 'One row per UTC day that has requests, oldest first.' },
  },
});

/** The figures of a set of usage records: a deployment route's (DeploymentRoute.usage), and every cost report row's. */
@ObjectType({ description: 'Requests, tokens, cost, latency and errors of the usage records of one deployment route over a window.' })
export class UsageSummary {
  @Field(() => Int, { description: 'Requests.' })
  requests: number;

  @Field(() => Int, { description: 'Requests recorded as failed.' })
  errors: number;

  @Field(() => Float, { nullable: true, description: 'errors / requests; null without requests.' })
  errorRate: number | null;

  @Field(() => GraphQLSafeInt, { description: 'Input tokens of all the requests.' })
  inputTokens: number;

  @Field(() => GraphQLSafeInt, { description: 'Output tokens of all the requests.' })
  outputTokens: number;

  @Field(() => Float, { nullable: true, description: 'USD: the sum of each priced request\'s cost at the price stored with it; null when no request had a price.' })
  costUsd: number | null;

  @Field(() => Int, { description: 'Requests whose version had no price at their time: their cost is unknown and not in costUsd.' })
  unpricedRequests: number;

  @Field(() => Float, { nullable: true, description: 'Median latency in ms (continuous percentile, as percentile_cont); null without requests.' })
  p50LatencyMs: number | null;

  @Field(() => Float, { nullable: true, description: '95th percentile latency in ms (continuous percentile, as percentile_cont); null without requests.' })
  p95LatencyMs: number | null;
}

/** A group's figures, as the report's statement returns them; the row's subject is resolved by the field resolvers. */
@ObjectType({ description: 'Requests, tokens, cost, latency and errors of one group of usage records (or of all of them: CostReport.total).' })
export class CostReportRow extends UsageSummary {
  /** Row key of the group's subject (model, version, prompt version, deployment), or the day; null for the total or the records without one. */
  key: string | null;
  /** The report's grouping: which subject `key` names. */
  groupBy: CostGroupBy;

  @Field(() => ID, { nullable: true, description: 'DEPLOYMENT: the deployment\'s id; null for requests recorded without a deployment, and in other groupings.' })
  deploymentId: string | null;

  @Field(() => String, { nullable: true, description: 'DAY: the UTC day, YYYY-MM-DD; null in other groupings.' })
  day: string | null;
}

@ObjectType({ description: 'Usage and cost of a project over a window, per group, computed by the database.' })
export class CostReport {
  @Field({ description: 'Start of the window (inclusive), by the records\' timestamps.' })
  from: Date;

  @Field({ description: 'End of the window (exclusive).' })
  to: Date;

  @Field(() => CostGroupBy, { description: 'What each row is about.' })
  groupBy: CostGroupBy;

  @Field(() => CostReportRow, { description: 'Every request of the window together.' })
  total: CostReportRow;

  @Field(() => [CostReportRow], {
    description: 'One row per group: DAY oldest first; otherwise the costliest first (unpriced last), then by requests. At most 1,000 rows (see truncated).',
  })
  rows: CostReportRow[];

  @Field({ description: 'True when the window has more than 1,000 groups and only the first 1,000 are in rows (total still counts every request).' })
  truncated: boolean;
}

