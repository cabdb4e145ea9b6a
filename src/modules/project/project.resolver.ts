import { Arg, Args, Ctx, Mutation, Query, Resolver } from 'type-graphql';
import type { Context } from '../../core/graphql/context';
import { AppError } from '../../core/graphql/errors';
import { Connection, PageArgs } from '../../core/graphql/pagination';
import { canSeeProject, requireAuth, requireGlobalRole } from '../../core/auth/access';
import { Role } from '../../core/auth/role';
import { CreateProjectInput, ProjectConnection, ProjectPayload } from './dto/project.input';
import { Project } from './project.entity';
import { createProject, listProjects } from './project.service';

@Resolver(() => Project)
export class ProjectResolver {
  @Query(() => Project, { nullable: true, description: 'A project by slug; null when none has that slug.' })
  async project(@Arg('slug') slug: string, @Ctx() ctx: Context): Promise<Project | null> {
    const p = requireAuth(ctx);
    const project = await ctx.loaders.projectBySlug.load(slug);
    if (project && !canSeeProject(p, project.id)) throw new AppError('FORBIDDEN', 'This API key is not valid for that project');
    return project;
  }

  @Query(() => ProjectConnection, { description: 'The projects this API key can see, oldest first.' })
  projects(@Args() { first, after }: PageArgs, @Ctx() ctx: Context): Promise<Connection<Project>> {
    return listProjects(ctx.db, requireAuth(ctx), first, after);
  }

  @Mutation(() => ProjectPayload, { description: 'Creates a project. Needs an EDITOR or ADMIN key of no single project.' })
  async createProject(@Arg('input') input: CreateProjectInput, @Ctx() ctx: Context): Promise<ProjectPayload> {
    const actor = requireGlobalRole(ctx, Role.EDITOR);
    return { project: await ctx.db.transaction((m) => createProject(m, actor, input)) };
  }
}
