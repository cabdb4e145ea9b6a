import { Arg, Args, ArgsType, Ctx, Field, FieldResolver, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { IsOptional, IsString } from 'class-validator';
import { hydrate } from '../../db/sql';
import type { Context } from '../../graphql/context';
import { AppError } from '../../graphql/errors';
import { Connection, checkCursorValues, decodeCursor, pageSize, toConnection } from '../../graphql/pagination';
import { pageConnection } from '../../graphql/page-loader';
import { canSeeProject, requireAuth, requireGlobalRole } from '../auth/access';
import { Principal } from '../auth/principal';
import { Role } from '../auth/role';
import { AuditEvent } from '../audit/audit-event.entity';
import { AuditEventConnection, AuditEventFilter, auditEventPage } from '../audit/audit.pages';
import { ModelFilter } from '../model/dto/model.input';
import { ModelVersionFilter } from '../model/dto/model-version.input';
import { ModelConnection, ModelVersionConnection } from '../model/dto/connections';
import { Model, ModelOrder } from '../model/model.entity';
import { ModelVersion, ModelVersionOrder } from '../model/model-version.entity';
import { modelPage, versionPage } from '../model/model.pages';
import { CreateProjectInput, ProjectConnection, ProjectPayload } from './dto/project.input';
import { Project } from './project.entity';
import { createProject } from './project.service';

@ArgsType()
export class PageArgs {
  @Field(() => Int, { nullable: true, defaultValue: 20, description: 'Page size, at most 100.' })
  first?: number;

  @Field(() => String, { nullable: true, description: 'Cursor to continue after (an endCursor).' })
  @IsOptional() @IsString()
  after?: string | null;
}

/** Projects the principal can see, oldest first, keyset on (created_at, id). */
export async function listProjects(ctx: Context, p: Principal, first?: number | null, after?: string | null): Promise<Connection<Project>> {
  const n = pageSize(first);
  const cursor = decodeCursor(after, 2);
  if (cursor) checkCursorValues(cursor, ['timestamptz', 'uuid']);
  const params: unknown[] = [n + 1];
  const conds: string[] = [];
  if (p.projectId) conds.push(`id = $${params.push(p.projectId)}`);
  if (cursor) conds.push(`(created_at, id) > ($${params.push(cursor[0])}::timestamptz, $${params.push(cursor[1])}::uuid)`);
  const rows = hydrate(ctx.db, Project, await ctx.db.query(
    `SELECT * FROM project ${conds.length ? `WHERE ${conds.join(' AND ')}` : ''} ORDER BY created_at, id LIMIT $1`, params,
  ));
  return toConnection(rows, n, cursor !== null, (r) => [r.createdAt.toISOString(), r.id]);
}

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
    return listProjects(ctx, requireAuth(ctx), first, after);
  }

  @Mutation(() => ProjectPayload, { description: 'Creates a project. Needs an EDITOR or ADMIN key of no single project.' })
  async createProject(@Arg('input') input: CreateProjectInput, @Ctx() ctx: Context): Promise<ProjectPayload> {
    const actor = requireGlobalRole(ctx, Role.EDITOR);
    return { project: await ctx.db.transaction((m) => createProject(m, actor, input)) };
  }

  @FieldResolver(() => ModelConnection, { description: 'Models of the project; archived ones only when the filter asks.' })
  async models(
    @Root() project: Project,
    @Ctx() ctx: Context,
    @Arg('first', () => Int, { nullable: true, defaultValue: 20 }) first: number,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Arg('filter', () => ModelFilter, { nullable: true }) filter: ModelFilter | null,
    @Arg('orderBy', () => ModelOrder, { nullable: true, defaultValue: ModelOrder.UPDATED_AT_DESC }) orderBy: ModelOrder,
  ): Promise<Connection<Model>> {
    const spec = modelPage({ first, after, filter, orderBy });
    return pageConnection(await ctx.loaders.modelPages.load({ parentId: project.id, spec }), spec);
  }

  @FieldResolver(() => Model, { nullable: true, description: 'A model by name, archived or not.' })
  model(@Root() project: Project, @Arg('name') name: string, @Ctx() ctx: Context): Promise<Model | null> {
    return ctx.loaders.modelByProjectAndName.load([project.id, name]);
  }

  @FieldResolver(() => AuditEventConnection, { description: 'Audit records of mutations in this project, newest first.' })
  async auditEvents(
    @Root() project: Project,
    @Ctx() ctx: Context,
    @Arg('first', () => Int, { nullable: true, defaultValue: 20 }) first: number,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Arg('filter', () => AuditEventFilter, { nullable: true }) filter: AuditEventFilter | null,
  ): Promise<Connection<AuditEvent>> {
    const spec = auditEventPage({ first, after, filter });
    return pageConnection(await ctx.loaders.auditEventPages.load({ parentId: project.id, spec }), spec);
  }

  @FieldResolver(() => ModelVersionConnection, { description: 'Versions of every model of the project that match the filter, newest first.' })
  async searchModelVersions(
    @Root() project: Project,
    @Ctx() ctx: Context,
    @Arg('filter', () => ModelVersionFilter) filter: ModelVersionFilter,
    @Arg('first', () => Int, { nullable: true, defaultValue: 20 }) first: number,
    @Arg('after', () => String, { nullable: true }) after: string | null,
  ): Promise<Connection<ModelVersion>> {
    const spec = versionPage('project_id', { first, after, filter, orderBy: ModelVersionOrder.CREATED_AT_DESC });
    return pageConnection(await ctx.loaders.versionPages.load({ parentId: project.id, spec }), spec);
  }
}
