import { on } from '../../core/hooks';
import { versionCreated } from '../model/model.hooks';
import { registerVersionPrice } from './pricing.service';

/** A new version's registration price (token prices of an external API, or selfHosted) becomes its first price. */
export const usageHooks = [on(versionCreated, registerVersionPrice)];
