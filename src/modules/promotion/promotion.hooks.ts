import { on } from '../../core/hooks';
import { aliasMoving, aliasRemoving } from '../model/model.hooks';
import { assertDirectMove, assertRemovable } from './promotion.service';

/**
 * A protected alias moves directly only when its policy asks for no approvals and the version
 * passes its gates; otherwise through requestPromotion. It is removed only by an ADMIN when its
 * policy asks for approvals.
 */
export const promotionHooks = [
  on(aliasMoving, (m, move) => assertDirectMove(m, move.modelId, move.alias, move.versionNumber)),
  on(aliasRemoving, assertRemovable),
];
