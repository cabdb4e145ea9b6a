import { Arg, Args, Ctx, Field, FieldResolver, Mutation, ObjectType, Query, Resolver, Root } from 'type-graphql';
import type { Context } from '../../core/graphql/context';
import { loadByGlobalId } from '../../core/graphql/ids';
import { Connection, PageArgs } from '../../core/graphql/pagination';
import { recordAudit } from '../../core/events/audit';
import { AUTHENTICATED, Allow } from '../../core/auth/permission';
import { fromId } from '../../core/auth/locators';
import { Principal } from '../../core/auth/principal';
import { Role } from '../../core/auth/role';
import { ProjectConnection } from '../project/dto/project.input';
import { Project } from '../project/project.entity';
import { loadProjectBySlug } from '../project/project.locators';
import { listProjects } from '../project/project.service';
import { ApiKey } from './api-key.entity';
import { apiKeyListScope, newApiKeyScope } from './api-key.locators';
import { insertApiKey, listApiKeys, revokeApiKey } from './api-key.service';
import { ApiKeyPayload, CreateApiKeyInput, CreateApiKeyPayload, RevokeApiKeyInput } from './dto/api-key.input';

@ObjectType({ description: 'The caller: the API key the request authenticated with.' })
export class Viewer {
  @Field({ description: 'Name of the API key.' })
  name: string;

  @Field(() => Role, { description: 'Role of the API key.' })
  role: Role;

  principal: Principal;
}

@Resolver(() => Viewer)
export class ViewerResolver {
  @Allow(AUTHENTICATED)
  @Query(() => Viewer, { description: 'Who the caller is. UNAUTHENTICATED without a valid key.' })
  viewer(@Ctx() ctx: Context): Viewer {
    const p = ctx.principal!;
    return { name: p.name, role: p.role, principal: p };
  }

  @FieldResolver(() => ProjectConnection, { description: 'The projects the key can see, oldest first.' })
  projects(@Root() viewer: Viewer, @Args() { first, after }: PageArgs, @Ctx() ctx: Context): Promise<Connection<Project>> {
    return listProjects(ctx.db, viewer.principal, first, after);
  }
}

@Resolver(() => ApiKey)
export class ApiKeyResolver {
  @Allow(Role.ADMIN, apiKeyListScope)
  @Query(() => [ApiKey], {
    description: 'API keys, newest first: of one project, or (for a key of every project) all. Needs ADMIN.',
  })
  async apiKeys(
    @Arg('projectSlug', () => String, { nullable: true, description: 'Only this project\'s keys; default: the keys of the caller\'s own scope.' })
    projectSlug: string | null,
    @Ctx() ctx: Context,
  ): Promise<ApiKey[]> {
    const projectId = projectSlug ? (await loadProjectBySlug(ctx.loaders, projectSlug)).id : ctx.principal!.projectId;
    return listApiKeys(ctx.db, projectId);
  }

  @Allow(Role.ADMIN, newApiKeyScope)
  @Mutation(() => CreateApiKeyPayload, {
    description: 'Creates an API key and returns its secret once. Needs ADMIN of the project (or of every project, for a key of every project).',
  })
  async createApiKey(@Arg('input', { description: 'The new key.' }) input: CreateApiKeyInput, @Ctx() ctx: Context): Promise<CreateApiKeyPayload> {
    const projectId = input.projectSlug ? (await loadProjectBySlug(ctx.loaders, input.projectSlug)).id : null;
    const actor = ctx.principal!;
    return ctx.db.transaction(async (m) => {
      const created = await insertApiKey(m, { name: input.name, role: input.role, projectId, createdBy: actor.name });
      await recordAudit(m, {
        projectId, actor: actor.name, action: 'apiKey.create', targetType: 'ApiKey', targetId: created.apiKey.nodeId, after: created.apiKey,
      });
      return created;
    });
  }

  @Allow(Role.ADMIN, fromId('input.id', 'ApiKey'))
  @Mutation(() => ApiKeyPayload, { description: 'Revokes a key at once; it authenticates nothing after. Needs ADMIN over the key\'s scope.' })
  async revokeApiKey(@Arg('input', { description: 'The key to revoke.' }) input: RevokeApiKeyInput, @Ctx() ctx: Context): Promise<ApiKeyPayload> {
    const key = await loadByGlobalId(ctx.loaders, ApiKey, input.id);
    const actor = ctx.principal!;
    const payload = await ctx.db.transaction(async (m) => {
      const { before, after } = await revokeApiKey(m, key.id);
      if (!before.revokedAt) {
        await recordAudit(m, {
          projectId: key.projectId, actor: actor.name, action: 'apiKey.revoke', targetType: 'ApiKey', targetId: after.nodeId,
          before: { revokedAt: null }, after: { revokedAt: after.revokedAt },
        });
      }
      return { apiKey: after };
    });
    // This process forgets the key now; the others when the commit's NOTIFY reaches them.
    ctx.keys.dropKey(key.id);
    return payload;
  }

  @FieldResolver(() => Project, { nullable: true, description: 'The one project the key is valid for; null: every project.' })
  project(@Root() key: ApiKey, @Ctx() ctx: Context): Promise<Project | null> | null {
    return key.projectId ? ctx.loaders.projectById.load(key.projectId) : null;
  }
}
