import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { Node } from '../../core/graphql/node';
import { toGlobalId } from '../../core/graphql/ids';

export enum PromptVersionOrder {
  NUMBER_DESC = 'NUMBER_DESC',
  NUMBER_ASC = 'NUMBER_ASC',
}
registerEnumType(PromptVersionOrder, {
  name: 'PromptVersionOrder',
  description: 'Order of a prompt version list.',
  valuesConfig: {
    NUMBER_DESC: { description: 'Highest version number first.' },
    NUMBER_ASC: { description: 'Version 1 first.' },
  },
});

@Entity('prompt_version')
@ObjectType({
  implements: Node,
  description: 'One immutable version of a prompt: a mustache template, the variables it declares, model parameters and '
    + 'the model version it was written for. Nothing changes a version once created; a change is a new version.',
})
export class PromptVersion implements Node {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Field(() => ID, { name: 'id', description: 'Opaque global id.' })
  get nodeId(): string {
    return toGlobalId('PromptVersion', this.id);
  }

  @Column({ name: 'prompt_id', type: 'uuid' })
  promptId: string;

  @Column({ name: 'project_id', type: 'uuid' })
  projectId: string;

  @Column({ type: 'integer' })
  @Field(() => Int, { description: '1, 2, 3 ... per prompt, no gaps, no duplicates; assigned by the server.' })
  number: number;

  @Column({ type: 'text' })
  @Field({ description: 'The template, in mustache syntax (no partials); rendered without HTML escaping.' })
  template: string;

  @Column({ type: 'text', array: true })
  @Field(() => [String], { description: 'The variables the template reads at its top level, sorted; renderPrompt takes exactly these.' })
  variables: string[];

  @Column({ type: 'jsonb', nullable: true })
  @Field(() => GraphQLJSONObject, { nullable: true, description: 'Model parameters to call the model with, e.g. {"temperature": 0.2, "max_tokens": 512}.' })
  parameters: Record<string, unknown> | null;

  @Column({ name: 'model_version_id', type: 'uuid', nullable: true })
  modelVersionId: string | null;

  @Column({ type: 'text', nullable: true })
  @Field(() => String, { nullable: true, description: 'What changed in this version.' })
  description: string | null;

  @Column({ name: 'created_at', type: 'timestamptz', precision: 3, default: () => 'now()' })
  @Field({ description: 'When the version was created.' })
  createdAt: Date;

  @Column({ name: 'created_by' })
  @Field({ description: 'Name of the API key that created it.' })
  createdBy: string;

  @Column({ name: 'idempotency_key', type: 'text', nullable: true })
  idempotencyKey: string | null;
}
