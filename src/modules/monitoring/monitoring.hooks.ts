import { on } from '../../core/hooks';
import { aliasMoved } from '../model/model.hooks';
import { evaluateAliasFollowers } from './monitor.service';

/** Monitors that follow an alias watch another version once it moves (or none once it is removed): evaluated again after the move commits. */
export const monitoringHooks = [
  on(aliasMoved, (db, moved) => evaluateAliasFollowers(db, moved.modelId, moved.alias, moved.actor)),
];
