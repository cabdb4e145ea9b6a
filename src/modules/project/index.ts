import type { ModuleDescriptor } from '../../core/module';
import { defineNodeType } from '../../core/graphql/ids';
import { Project } from './project.entity';
import { projectLoaders } from './project.loaders';
import { ProjectResolver } from './project.resolver';

/** Projects: the tenant every other row belongs to. First in the order. */
export const projectModule: ModuleDescriptor = {
  name: 'project',
  entities: [Project],
  resolvers: [ProjectResolver],
  loaders: projectLoaders,
  nodeTypes: [
    defineNodeType({ name: 'Project', cls: Project, key: 'uuid', load: (l, k) => l.projectById.load(k), projectOf: (p) => p.id }),
  ],
};
