import { Column, Entity, PrimaryColumn } from 'typeorm';
import { ObjectType } from 'type-graphql';
import { Node } from '../../core/graphql/node';
import type { NodeType } from '../../core/graphql/ids';
import { AliasBase, AliasEventBase } from '../../core/aliases/alias.base';

@Entity('prompt_alias')
@ObjectType({ description: 'A movable name, such as "production", pointing to one version of a prompt.' })
export class PromptAlias extends AliasBase {
  @PrimaryColumn({ name: 'prompt_id', type: 'uuid' })
  promptId: string;
}

@Entity('prompt_alias_event')
@ObjectType({ implements: Node, description: 'One move of a prompt alias: set, moved or removed, by whom and why.' })
export class PromptAliasEvent extends AliasEventBase implements Node {
  protected nodeType(): NodeType {
    return 'PromptAliasEvent';
  }

  @Column({ name: 'prompt_id', type: 'uuid' })
  promptId: string;
}
