import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { Node } from '../../core/graphql/node';
import { toGlobalId } from '../../core/graphql/ids';
import { Aggregation } from './metric-series.entity';

export enum Comparator {
  GT = 'GT',
  GTE = 'GTE',
  LT = 'LT',
  LTE = 'LTE',
}
registerEnumType(Comparator, {
  name: 'Comparator',
  description: 'How a monitor compares its value to a threshold; the comparison holding means the threshold is crossed.',
  valuesConfig: {
    GT: { description: 'value > threshold' },
    GTE: { description: 'value >= threshold' },
    LT: { description: 'value < threshold' },
    LTE: { description: 'value <= threshold' },
  },
});

export enum MonitorStatus {
  OK = 'OK',
  WARNING = 'WARNING',
  ALERT = 'ALERT',
  NO_DATA = 'NO_DATA',
  PAUSED = 'PAUSED',
}
registerEnumType(MonitorStatus, {
  name: 'MonitorStatus',
  description: 'Outcome of a monitor\'s last evaluation.',
  valuesConfig: {
    OK: { description: 'Neither threshold is crossed.' },
    WARNING: { description: 'warningThreshold is crossed, threshold is not.' },
    ALERT: { description: 'threshold is crossed.' },
    NO_DATA: { description: 'The window holds no points (or the alias points nowhere).' },
    PAUSED: { description: 'Not evaluated until resumed.' },
  },
});

@Entity('monitor')
@ObjectType({
  implements: Node,
  description: 'Watches a metric: aggregates its points over a trailing window and compares the value to thresholds. Evaluated whenever points of its metric arrive, when the alias it follows moves, and on a timer (every MODELGRAPH_MONITOR_INTERVAL_MS), so that a window with no points left reaches NO_DATA.',
})
export class Monitor implements Node {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Field(() => ID, { name: 'id', description: 'Opaque global id.' })
  get nodeId(): string {
    return toGlobalId('Monitor', this.id);
  }

  @Column({ name: 'project_id', type: 'uuid' })
  projectId: string;

  @Column({ type: 'text' })
  @Field({ description: 'Name, unique in the project.' })
  name: string;

  @Column({ type: 'text' })
  @Field({ description: 'Name of the metric watched.' })
  metric: string;

  @Column({ type: 'jsonb', nullable: true })
  @Field(() => GraphQLJSONObject, { nullable: true, description: 'Only series having every one of these labels are watched.' })
  labels: Record<string, string> | null;

  @Column({ name: 'model_id', type: 'uuid', nullable: true })
  modelId: string | null;

  @Column({ type: 'text', nullable: true })
  @Field(() => String, { nullable: true, description: 'With model: watches the version this alias points to when evaluated, across moves.' })
  alias: string | null;

  @Column({ name: 'model_version_id', type: 'uuid', nullable: true })
  modelVersionId: string | null;

  @Column({ type: 'text' })
  @Field(() => Aggregation, { description: 'How the window\'s points become one value.' })
  aggregation: Aggregation;

  @Column({ name: 'window_seconds', type: 'integer' })
  @Field(() => Int, { description: 'Length of the trailing window, ending now.' })
  windowSeconds: number;

  @Column({ type: 'text' })
  @Field(() => Comparator, { description: 'How the value is compared to the thresholds.' })
  comparator: Comparator;

  @Column({ type: 'double precision' })
  @Field(() => Float, { description: 'Crossing it means ALERT.' })
  threshold: number;

  @Column({ name: 'warning_threshold', type: 'double precision', nullable: true })
  @Field(() => Float, { nullable: true, description: 'Crossing it (but not threshold) means WARNING.' })
  warningThreshold: number | null;

  @Column({ type: 'boolean' })
  paused: boolean;

  @Column({ type: 'text' })
  @Field(() => MonitorStatus, { description: 'Status from the last evaluation; PAUSED while paused.' })
  status: MonitorStatus;

  @Column({ name: 'last_value', type: 'double precision', nullable: true })
  @Field(() => Float, { nullable: true, description: 'Value computed by the last evaluation; null without data.' })
  lastValue: number | null;

  @Column({ name: 'last_evaluated_at', type: 'timestamptz', precision: 3, nullable: true })
  @Field(() => Date, { nullable: true, description: 'When the monitor was last evaluated.' })
  lastEvaluatedAt: Date | null;

  @Column({ name: 'created_at', type: 'timestamptz', precision: 3, default: () => 'now()' })
  createdAt: Date;

  @Column({ name: 'created_by' })
  createdBy: string;

  @Column({ name: 'updated_at', type: 'timestamptz', precision: 3, default: () => 'now()' })
  updatedAt: Date;
}

@Entity('alert')
@ObjectType({ implements: Node, description: 'A period during which a monitor was in WARNING or ALERT.' })
export class Alert implements Node {
  @PrimaryGeneratedColumn('identity', { type: 'bigint' })
  id: string;

  @Field(() => ID, { name: 'id', description: 'Opaque global id.' })
  get nodeId(): string {
    return toGlobalId('Alert', String(this.id));
  }

  @Column({ name: 'monitor_id', type: 'uuid' })
  monitorId: string;

  @Column({ name: 'project_id', type: 'uuid' })
  projectId: string;

  @Column({ type: 'text' })
  @Field(() => MonitorStatus, { description: 'WARNING or ALERT.' })
  status: MonitorStatus;

  @Column({ type: 'double precision', nullable: true })
  @Field(() => Float, { nullable: true, description: 'The monitor\'s value when the alert opened.' })
  value: number | null;

  @Column({ type: 'text' })
  @Field({ description: 'What was crossed, e.g. "avg(latency_ms) over 300s = 512 > 500".' })
  message: string;

  @Column({ name: 'opened_at', type: 'timestamptz', precision: 3 })
  @Field({ description: 'When the monitor entered this status.' })
  openedAt: Date;

  @Column({ name: 'resolved_at', type: 'timestamptz', precision: 3, nullable: true })
  @Field(() => Date, { nullable: true, description: 'When it left it (back to OK, another severity, or paused); null while open.' })
  resolvedAt: Date | null;
}
