import { Column, Entity, PrimaryColumn } from 'typeorm';
import { ObjectType } from 'type-graphql';
import { Node } from '../../core/graphql/node';
import type { NodeType } from '../../core/graphql/ids';
import { AliasBase, AliasEventBase } from '../../core/aliases/alias.base';

@Entity('model_alias')
@ObjectType({ description: 'A movable name, such as "production", pointing to one version of a model.' })
export class ModelAlias extends AliasBase {
  @PrimaryColumn({ name: 'model_id', type: 'uuid' })
  modelId: string;
}

@Entity('alias_event')
@ObjectType({ implements: Node, description: 'One move of an alias: set, moved or removed, by whom and why.' })
export class AliasEvent extends AliasEventBase implements Node {
  protected nodeType(): NodeType {
    return 'AliasEvent';
  }

  @Column({ name: 'model_id', type: 'uuid' })
  modelId: string;
}
