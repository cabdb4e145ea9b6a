import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { Field, ID, Int, ObjectType } from 'type-graphql';
import { GraphQLJSON, GraphQLJSONObject } from 'graphql-scalars';
import { Node } from '../../core/graphql/node';
import { toGlobalId } from '../../core/graphql/ids';

@Entity('eval_sample')
@ObjectType({ implements: Node, description: 'One scored example of an evaluation: what went in, what came out, the reference and the scores.' })
export class EvalSample implements Node {
  @PrimaryGeneratedColumn('identity', { type: 'bigint' })
  id: string;

  @Field(() => ID, { name: 'id', description: 'Opaque global id.' })
  get nodeId(): string {
    return toGlobalId('EvalSample', String(this.id));
  }

  @Column({ name: 'evaluation_id', type: 'uuid' })
  evaluationId: string;

  @Column({ name: 'project_id', type: 'uuid' })
  projectId: string;

  @Column({ type: 'jsonb', nullable: true })
  @Field(() => GraphQLJSON, { nullable: true, description: 'The input, e.g. a prompt or a feature row.' })
  input: unknown;

  @Column({ type: 'jsonb', nullable: true })
  @Field(() => GraphQLJSON, { nullable: true, description: 'What the model produced.' })
  output: unknown;

  @Column({ type: 'jsonb', nullable: true })
  @Field(() => GraphQLJSON, { nullable: true, description: 'The expected output, when there is one.' })
  reference: unknown;

  @Column({ type: 'jsonb', default: () => `'{}'` })
  @Field(() => GraphQLJSONObject, { description: 'Scores of this sample by name, e.g. {"exact_match": 1, "judge": 0.8}.' })
  scores: Record<string, number>;

  @Column({ name: 'input_tokens', type: 'integer', nullable: true })
  @Field(() => Int, { nullable: true, description: 'Input (prompt) tokens the model read for this sample; null when not logged.' })
  inputTokens: number | null;

  @Column({ name: 'output_tokens', type: 'integer', nullable: true })
  @Field(() => Int, { nullable: true, description: 'Output (completion) tokens the model wrote for this sample; null when not logged.' })
  outputTokens: number | null;
}
