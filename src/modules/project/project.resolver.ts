import { Arg, Args, Ctx, Mutation, Query, Resolver } from 'type-graphql';
import type { Context } from '../../core/graphql/context';
import { Connection, PageArgs } from '../../core/graphql/pagination';
import { AUTHENTICATED, Allow, GLOBAL } from '../../core/auth/permission';
import { Role } from '../../core/auth/role';
import { CreateProjectInput, ProjectConnection, ProjectPayload } from './dto/project.input';
import { Project } from './project.entity';
import { fromSlug } from './project.locators';
import { createProject, listProjects } from './project.service';

@Resolver(() => Project)
export class ProjectResolver {
  @Allow(Role.VIEWER, fromSlug('slug', { orNull: true }))
  @Query(() => Project, { nullable: true, description: 'A project by slug; null when none has that slug.' })
  project(@Arg('slug', { description: 'The project\'s slug.' }) slug: string, @Ctx() ctx: Context): Promise<Project | null> {
    return ctx.loaders.projectBySlug.load(slug);
  }

  // Any key: the list holds only the projects the key is valid for.
  @Allow(AUTHENTICATED)
  @Query(() => ProjectConnection, { description: 'The projects this API key can see, oldest first.' })
  projects(@Args() { first, after }: PageArgs, @Ctx() ctx: Context): Promise<Connection<Project>> {
    return listProjects(ctx.db, ctx.principal!, first, after);
  }

  @Allow(Role.EDITOR, GLOBAL)
  @Mutation(() => ProjectPayload, { description: 'Creates a project. Needs an EDITOR or ADMIN key of no single project.' })
  async createProject(@Arg('input', { description: 'The new project.' }) input: CreateProjectInput, @Ctx() ctx: Context): Promise<ProjectPayload> {
    return { project: await ctx.db.transaction((m) => createProject(m, ctx.principal!, input)) };
  }
}
