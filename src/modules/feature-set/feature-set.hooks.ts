import { on } from '../../core/hooks';
import { versionCreated } from '../model/model.hooks';
import { linkVersionFeatureSets } from './feature-set.service';

/** A new model version records the feature sets it reads. */
export const featureSetHooks = [on(versionCreated, linkVersionFeatureSets)];
