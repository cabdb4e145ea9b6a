import { ArrayMaxSize, IsBoolean, IsEnum, IsOptional, IsString, MaxLength, ValidateNested } from 'class-validator';
import { Field, ID, InputType, ObjectType } from 'type-graphql';
import { TagInput } from '../../../core/graphql/tag';
import { Model, ModelKind } from '../model.entity';
import { NamedInProjectFields } from '../../../core/graphql/named-in-project.input';

@InputType({ description: 'Narrows a model list; all given conditions must hold.' })
export class ModelFilter {
  @Field(() => String, { nullable: true, description: 'Case-insensitive substring of the name.' })
  @IsOptional() @MaxLength(128)
  nameContains?: string | null;

  @Field(() => ModelKind, { nullable: true, description: 'Only models of this kind.' })
  @IsOptional() @IsEnum(ModelKind)
  kind?: ModelKind | null;

  @Field(() => String, { nullable: true, description: 'Only models with exactly this task.' })
  @IsOptional() @MaxLength(256)
  task?: string | null;

  @Field(() => [TagInput], { nullable: true, description: 'Only models carrying every one of these tags.' })
  @IsOptional() @ArrayMaxSize(50) @ValidateNested({ each: true })
  tags?: TagInput[] | null;

  @Field(() => Boolean, { nullable: true, defaultValue: false, description: 'false: active models only (default); true: archived only; null: both.' })
  @IsOptional() @IsBoolean()
  archived?: boolean | null;
}

@InputType({ description: 'Registers a model in a project.' })
export class CreateModelInput extends NamedInProjectFields {
  @Field(() => String, { nullable: true, description: 'What the model does.' })
  @IsOptional() @MaxLength(10000)
  description?: string | null;

  @Field(() => String, { nullable: true, description: 'Free-text task, e.g. "text-generation".' })
  @IsOptional() @MaxLength(256)
  task?: string | null;

  @Field(() => ModelKind, { description: 'Open weights, proprietary API, or internal.' })
  @IsEnum(ModelKind)
  kind: ModelKind;

  @Field(() => String, { nullable: true, description: 'License, e.g. "apache-2.0".' })
  @IsOptional() @MaxLength(256)
  license?: string | null;

  @Field(() => [TagInput], { nullable: true, description: 'Key/value labels.' })
  @IsOptional() @ArrayMaxSize(100) @ValidateNested({ each: true })
  tags?: TagInput[] | null;
}

@InputType({ description: 'Changes a model: an omitted field stays as it is; null clears description, task or license.' })
export class UpdateModelInput {
  @Field(() => ID, { description: 'The model.' })
  @IsString()
  id: string;

  @Field(() => String, { nullable: true, description: 'New description; null clears it.' })
  @IsOptional() @MaxLength(10000)
  description?: string | null;

  @Field(() => String, { nullable: true, description: 'New task; null clears it.' })
  @IsOptional() @MaxLength(256)
  task?: string | null;

  @Field(() => String, { nullable: true, description: 'New license; null clears it.' })
  @IsOptional() @MaxLength(256)
  license?: string | null;

  @Field(() => [TagInput], { nullable: true, description: 'Replaces all tags; [] removes them. Null is refused: omit the field to keep them.' })
  @IsOptional() @ArrayMaxSize(100) @ValidateNested({ each: true })
  tags?: TagInput[] | null;
}

@InputType({ description: 'Archives or restores a model.' })
export class ArchiveModelInput {
  @Field(() => ID, { description: 'The model.' })
  @IsString()
  id: string;

  @Field(() => Boolean, { nullable: true, defaultValue: true, description: 'true archives (default), false restores.' })
  @IsOptional() @IsBoolean()
  archived?: boolean | null;
}

@ObjectType({ description: 'The model a mutation created or changed.' })
export class ModelPayload {
  @Field(() => Model, { description: 'The model after the change.' })
  model: Model;
}
