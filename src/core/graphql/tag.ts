import { IsString, Length, Matches } from 'class-validator';
import { Field, InputType, ObjectType } from 'type-graphql';

@ObjectType({ description: 'A key/value label on a model or version, e.g. team=search.' })
export class Tag {
  @Field({ description: 'Tag key.' })
  key: string;

  @Field({ description: 'Tag value.' })
  value: string;
}

@InputType({ description: 'A key/value label.' })
export class TagInput {
  @Field({ description: 'Tag key: 1 to 128 characters, no control characters.' })
  @IsString()
  @Length(1, 128)
  @Matches(/^[^\p{Cc}]*$/u, { message: 'key must not contain control characters' })
  key: string;

  @Field({ description: 'Tag value: up to 1024 characters.' })
  @IsString()
  @Length(0, 1024)
  value: string;
}

/** Normalizes tags for storage: duplicates of one key collapse to the last value given. */
export function normalizeTags(tags: TagInput[] | null | undefined): Tag[] {
  const byKey = new Map<string, string>();
  for (const t of tags ?? []) byKey.set(t.key, t.value);
  return [...byKey].map(([key, value]) => ({ key, value }));
}
