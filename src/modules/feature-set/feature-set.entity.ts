import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { GraphQLJSON } from 'graphql-scalars';
import { Node } from '../../core/graphql/node';
import { toGlobalId } from '../../core/graphql/ids';
import { DataType } from '../dataset/data-type';

@ObjectType({ description: 'One feature of a feature set: its name and type.' })
export class FeatureDefinition {
  @Field({ description: 'Unique within the feature set; [a-z0-9][a-z0-9._-]{0,127}.' })
  name: string;

  @Field(() => DataType, { description: 'What values of this feature must be; writes are checked against it.' })
  dtype: DataType;

  @Field(() => String, { nullable: true, description: 'What the feature means, for people.' })
  description: string | null;
}

export enum FeatureValueStatus {
  PRESENT = 'PRESENT',
  NOT_FOUND = 'NOT_FOUND',
  EXPIRED = 'EXPIRED',
}
registerEnumType(FeatureValueStatus, {
  name: 'FeatureValueStatus',
  description: 'Whether a feature value was found for an entity.',
  valuesConfig: {
    PRESENT: { description: 'A value was found (it may be null: a missing value written as such).' },
    NOT_FOUND: { description: 'No value was ever written for this entity and feature (at or before asOf).' },
    EXPIRED: { description: 'The newest value is older than the feature set\'s ttlSeconds; value is null, eventTimestamp tells how old.' },
  },
});

@Entity('feature_set')
@ObjectType({
  implements: Node,
  description: 'A named group of features of one entity (e.g. customer_id), with an online store of the newest values and an offline log for point-in-time reads.',
})
export class FeatureSet implements Node {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Field(() => ID, { name: 'id', description: 'Opaque global id.' })
  get nodeId(): string {
    return toGlobalId('FeatureSet', this.id);
  }

  @Column({ name: 'project_id', type: 'uuid' })
  projectId: string;

  @Column()
  @Field({ description: 'Unique within its project; [a-z0-9][a-z0-9._-]{0,127}.' })
  name: string;

  @Column({ type: 'text', nullable: true })
  @Field(() => String, { nullable: true, description: 'What the feature set describes.' })
  description: string | null;

  @Column({ name: 'entity_key', type: 'text' })
  @Field({ description: 'Name of the key the values are about, e.g. "customer_id".' })
  entityKey: string;

  @Column({ type: 'jsonb' })
  @Field(() => [FeatureDefinition], { description: 'The features, in definition order.' })
  features: FeatureDefinition[];

  @Column({ name: 'ttl_seconds', type: 'integer', nullable: true })
  @Field(() => Int, { nullable: true, description: 'Values older than this (online: than now; historical: than asOf) are EXPIRED. Null: values never expire.' })
  ttlSeconds: number | null;

  @Column({ name: 'created_at', type: 'timestamptz', precision: 3, default: () => 'now()' })
  @Field({ description: 'When the feature set was created.' })
  createdAt: Date;

  @Column({ name: 'created_by', type: 'text' })
  createdBy: string;
}

@ObjectType({ description: 'The value of one feature for one entity.' })
export class FeatureValue {
  @Field({ description: 'The feature name.' })
  feature: string;

  @Field(() => GraphQLJSON, { nullable: true, description: 'The value; null unless status is PRESENT (or when a null was written).' })
  value: unknown;

  @Field(() => FeatureValueStatus, { description: 'PRESENT, NOT_FOUND or EXPIRED.' })
  status: FeatureValueStatus;

  @Field(() => Date, { nullable: true, description: 'Event time of the value found (PRESENT or EXPIRED); null when NOT_FOUND.' })
  eventTimestamp: Date | null;
}

@ObjectType({ description: 'The requested features of one entity, in the order requested.' })
export class FeatureVector {
  @Field({ description: 'The entity key value, e.g. a customer id.' })
  entityKey: string;

  @Field(() => Date, { nullable: true, description: 'The time the values are as of (historical reads); null for online reads, which are as of now.' })
  asOf: Date | null;

  @Field(() => [FeatureValue], { description: 'One value per requested feature, in the order requested.' })
  values: FeatureValue[];
}
