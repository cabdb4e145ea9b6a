import type { ModuleDescriptor } from '../../core/module';
import { defineNodeType } from '../../core/graphql/ids';
import { DatasetUsage, DatasetVersion } from './dataset-version.entity';
import { Dataset } from './dataset.entity';
import { datasetLoaders } from './dataset.loaders';
// dataset.resolver before dataset-version.resolver: decorators register in load order, which
// is the order of the Mutation fields in the emitted schema.
import { DatasetResolver } from './dataset.resolver';
import { DatasetUsageResolver, DatasetVersionResolver, ModelVersionDatasetsResolver } from './dataset-version.resolver';
import { datasetHooks } from './dataset.hooks';
import { ProjectDatasetsResolver } from './project-datasets.resolver';

/** Versioned datasets with column statistics, and their lineage to model versions. */
export const datasetModule: ModuleDescriptor = {
  name: 'dataset',
  entities: [Dataset, DatasetVersion, DatasetUsage],
  resolvers: [DatasetResolver, DatasetVersionResolver, DatasetUsageResolver, ProjectDatasetsResolver, ModelVersionDatasetsResolver],
  loaders: datasetLoaders,
  nodeTypes: [
    defineNodeType({ name: 'Dataset', cls: Dataset, key: 'uuid', load: (l, k) => l.datasetById.load(k), projectOf: (r) => r.projectId }),
    defineNodeType({ name: 'DatasetVersion', cls: DatasetVersion, key: 'uuid', load: (l, k) => l.datasetVersionById.load(k), projectOf: (r) => r.projectId }),
  ],
  hooks: datasetHooks,
};
