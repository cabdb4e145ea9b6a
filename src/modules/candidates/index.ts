import type { ModuleDescriptor } from '../../core/module';
import { CandidatesResolver } from './candidates.resolver';

/**
 * Model choice: candidate versions compared on quality (evaluation), cost and latency (usage) and
 * engagement (feedback), with their quality–cost Pareto frontier. It owns no table: it reads
 * what the modules before it record.
 */
export const candidatesModule: ModuleDescriptor = {
  name: 'candidates',
  entities: [],
  resolvers: [CandidatesResolver],
};
