import type { ModuleDescriptor } from '../core/module';
import { projectModule } from '../modules/project';
import { authModule } from '../modules/auth';
import { auditModule } from '../modules/audit';
import { modelModule } from '../modules/model';
import { datasetModule } from '../modules/dataset';
import { featureSetModule } from '../modules/feature-set';
import { promptModule } from '../modules/prompt';
import { evaluationModule } from '../modules/evaluation';
import { feedbackModule } from '../modules/feedback';
import { promotionModule } from '../modules/promotion';
import { deploymentModule } from '../modules/deployment';
import { driftModule } from '../modules/drift';
import { monitoringModule } from '../modules/monitoring';
import { usageModule } from '../modules/usage';
import { candidatesModule } from '../modules/candidates';
import { liveModule } from '../modules/live';
import { registerNodeType } from '../core/graphql/ids';

/**
 * The declared order of the feature modules, earliest first. A module imports only `core/` and
 * the modules before it (`npm run lint` checks this with dependency-cruiser, whose config reads
 * this array and the import lines above it, so keep both in this shape); a later module extends
 * an earlier one's types with field resolvers and its mutations through hooks. This is the only
 * place that names every module.
 */
export const ORDER: readonly ModuleDescriptor[] = [
  projectModule,
  authModule,
  auditModule,
  modelModule,
  datasetModule,
  featureSetModule,
  promptModule,
  evaluationModule,
  feedbackModule,
  promotionModule,
  deploymentModule,
  driftModule,
  monitoringModule,
  usageModule,
  candidatesModule,
  liveModule,
];

let composed = false;

/** Registers every module's node types and hooks, once per process, in the declared order. */
export function composeModules(): readonly ModuleDescriptor[] {
  if (!composed) {
    for (const m of ORDER) {
      for (const t of m.nodeTypes ?? []) registerNodeType(t);
      for (const h of m.hooks ?? []) h.bind();
    }
    composed = true;
  }
  return ORDER;
}
