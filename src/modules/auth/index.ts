import type { ModuleDescriptor } from '../../core/module';
import { defineNodeType } from '../../core/graphql/ids';
import { Role } from '../../core/auth/role';
import { ApiKey } from './api-key.entity';
import { authLoaders } from './auth.loaders';
import { ApiKeyResolver, ViewerResolver } from './auth.resolver';

/** API keys and the viewer: who may call, with which role, on which project. */
export const authModule: ModuleDescriptor = {
  name: 'auth',
  entities: [ApiKey],
  resolvers: [ViewerResolver, ApiKeyResolver],
  loaders: authLoaders,
  nodeTypes: [
    // Keys are visible to the admins who could manage them, as in `apiKeys`.
    defineNodeType({ name: 'ApiKey', cls: ApiKey, key: 'uuid', load: (l, k) => l.apiKeyById.load(k), projectOf: (r) => r.projectId, readRole: Role.ADMIN }),
  ],
};
