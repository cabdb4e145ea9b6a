import type { ModuleDescriptor } from '../../core/module';
import { ColumnProfile } from './column-profile.entity';
import { driftLoaders } from './drift.loaders';
import { DriftResolver } from './drift.resolver';

/** Production column profiles and drift reports against a reference. */
export const driftModule: ModuleDescriptor = {
  name: 'drift',
  entities: [ColumnProfile],
  resolvers: [DriftResolver],
  loaders: driftLoaders,
};
