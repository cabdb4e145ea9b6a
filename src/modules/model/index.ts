import type { ModuleDescriptor } from '../../core/module';
import { defineNodeType } from '../../core/graphql/ids';
import { AliasEventResolver, ModelAliasResolver } from './alias.resolver';
import { AliasEvent, ModelAlias } from './model-alias.entity';
import { ModelVersion, resolveSourceType } from './model-version.entity';
import { ModelVersionResolver } from './model-version.resolver';
import { Model } from './model.entity';
import { modelLoaders } from './model.loaders';
import { ModelResolver } from './model.resolver';
import { ProjectModelsResolver } from './project.fields';

/** The registry proper: models, versions numbered without gaps, aliases with history. */
export const modelModule: ModuleDescriptor = {
  name: 'model',
  entities: [Model, ModelVersion, ModelAlias, AliasEvent],
  resolvers: [ProjectModelsResolver, ModelResolver, ModelVersionResolver, ModelAliasResolver, AliasEventResolver],
  loaders: modelLoaders,
  nodeTypes: [
    defineNodeType({ name: 'Model', cls: Model, key: 'uuid', load: (l, k) => l.modelById.load(k), projectOf: (r) => r.projectId }),
    defineNodeType({ name: 'ModelVersion', cls: ModelVersion, key: 'uuid', load: (l, k) => l.modelVersionById.load(k), projectOf: (r) => r.projectId }),
    defineNodeType({
      name: 'AliasEvent', cls: AliasEvent, key: 'bigint', load: (l, k) => l.aliasEventById.load(k),
      projectOf: async (r, l) => (await l.modelById.load(r.modelId))?.projectId ?? null,
    }),
  ],
  resolveTypes: { ModelSource: resolveSourceType },
};
