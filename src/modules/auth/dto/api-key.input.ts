import { IsEnum, IsOptional, IsString, Length, Matches } from 'class-validator';
import { Field, ID, InputType, ObjectType } from 'type-graphql';
import { ApiKey } from '../api-key.entity';
import { Role } from '../../../core/auth/role';

@InputType({ description: 'Creates an API key.' })
export class CreateApiKeyInput {
  @Field({ description: 'A name people recognise; audit events name the key by it.' })
  @Length(1, 128) @Matches(/^[^\p{Cc}]+$/u, { message: 'name must not contain control characters' })
  name: string;

  @Field(() => Role, { description: 'What the key may do.' })
  @IsEnum(Role)
  role: Role;

  @Field(() => String, { nullable: true, description: 'Limit the key to this project; omit for every project.' })
  @IsOptional() @IsString()
  projectSlug?: string | null;
}

@ObjectType({ description: 'A new key and its secret.' })
export class CreateApiKeyPayload {
  @Field(() => ApiKey, { description: 'The key.' })
  apiKey: ApiKey;

  @Field({ description: 'The secret, shown only this once: send it as `Authorization: Bearer <secret>`.' })
  secret: string;
}

@InputType({ description: 'Revokes an API key.' })
export class RevokeApiKeyInput {
  @Field(() => ID, { description: 'The key.' })
  @IsString()
  id: string;
}

@ObjectType({ description: 'The key a mutation changed.' })
export class ApiKeyPayload {
  @Field(() => ApiKey, { description: 'The key after the change.' })
  apiKey: ApiKey;
}
