import type { ModuleDescriptor } from '../../core/module';
import { CostReportRowResolver } from './cost-report.resolver';
import { DeploymentRouteUsageResolver } from './deployment-route.fields';
import { DeploymentExperimentResolver } from './deployment.fields';
import { ModelVersionPrice } from './model-version-price.entity';
import { ModelVersionPricingResolver } from './model-version.fields';
import { ProjectUsageResolver } from './project.fields';
import { usageHooks } from './usage.hooks';
import { usageLoaders } from './usage.loaders';
import { UsageResolver } from './usage.resolver';

/** Usage and cost: model version prices over time, usage records with the price in force, the usage.* metric series and cost reports. */
export const usageModule: ModuleDescriptor = {
  name: 'usage',
  entities: [ModelVersionPrice],
  resolvers: [UsageResolver, ProjectUsageResolver, ModelVersionPricingResolver, CostReportRowResolver, DeploymentRouteUsageResolver,
    DeploymentExperimentResolver],
  loaders: usageLoaders,
  hooks: usageHooks,
};
