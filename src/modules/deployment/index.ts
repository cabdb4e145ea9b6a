import type { ModuleDescriptor } from '../../core/module';
import { defineNodeType } from '../../core/graphql/ids';
import { DEPLOYMENT_NODE_TYPE, Deployment, DeploymentRevision, DeploymentRoute } from './deployment.entity';
import { deploymentLoaders } from './deployment.loaders';
import { DeploymentResolver, DeploymentRevisionResolver, DeploymentRouteResolver } from './deployment.resolver';
import { ProjectDeploymentsResolver } from './project.fields';

/** Deployments: an endpoint per project and environment, and weighted traffic routes kept as revisions, readable at any past moment. */
export const deploymentModule: ModuleDescriptor = {
  name: 'deployment',
  entities: [Deployment, DeploymentRevision, DeploymentRoute],
  resolvers: [ProjectDeploymentsResolver, DeploymentResolver, DeploymentRevisionResolver, DeploymentRouteResolver],
  loaders: deploymentLoaders,
  nodeTypes: [
    defineNodeType({ name: DEPLOYMENT_NODE_TYPE, cls: Deployment, key: 'uuid', load: (l, k) => l.deploymentById.load(k), projectOf: (r) => r.projectId }),
  ],
};
