import { on } from '../../core/hooks';
import { aliasMoving } from '../model/model.hooks';
import { assertDirectMove } from './promotion.service';

/**
 * A protected alias moves directly only when its policy asks for no approvals and the version
 * passes its gates; otherwise through requestPromotion.
 */
export const promotionHooks = [on(aliasMoving, (m, move) => assertDirectMove(m, move.modelId, move.alias, move.versionNumber))];
