import type { ModuleDescriptor } from '../../core/module';
import { defineNodeType } from '../../core/graphql/ids';
import { FeatureSet } from './feature-set.entity';
import { featureSetHooks } from './feature-set.hooks';
import { featureSetLoaders } from './feature-set.loaders';
import { FeatureSetResolver, ModelVersionFeatureSetResolver, ProjectFeatureSetResolver } from './feature-set.resolver';

/** Feature sets: definitions, online serving and point-in-time retrieval. */
export const featureSetModule: ModuleDescriptor = {
  name: 'feature-set',
  entities: [FeatureSet],
  resolvers: [FeatureSetResolver, ProjectFeatureSetResolver, ModelVersionFeatureSetResolver],
  loaders: featureSetLoaders,
  nodeTypes: [
    defineNodeType({ name: 'FeatureSet', cls: FeatureSet, key: 'uuid', load: (l, k) => l.featureSetById.load(k), projectOf: (r) => r.projectId }),
  ],
  hooks: featureSetHooks,
};
