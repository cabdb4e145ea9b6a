import type { ModuleDescriptor } from '../../core/module';
import { Feedback } from './feedback.entity';
import { feedbackLoaders } from './feedback.loaders';
import { FeedbackResolver } from './feedback.resolver';

/** User feedback on a version's outputs, rolled up into engagement. */
export const feedbackModule: ModuleDescriptor = {
  name: 'feedback',
  entities: [Feedback],
  resolvers: [FeedbackResolver],
  loaders: feedbackLoaders,
};
