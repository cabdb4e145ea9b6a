import { DataSource, EntityManager } from 'typeorm';
import { isUniqueViolation } from '../../core/db/errors';
import { hydrate, insertReturning } from '../../core/db/sql';
import { Connection, checkCursorValues, decodeCursor, pageSize, toConnection } from '../../core/graphql/pagination';
import { AppError } from '../../core/graphql/errors';
import { recordAudit } from '../../core/events/audit';
import { Principal } from '../../core/auth/principal';
import { CreateProjectInput } from './dto/project.input';
import { Project } from './project.entity';

export async function createProject(m: EntityManager, actor: Principal, input: CreateProjectInput): Promise<Project> {
  let created: Project;
  try {
    created = await insertReturning(m, Project, { slug: input.slug, name: input.name, description: input.description ?? null });
  } catch (err) {
    if (isUniqueViolation(err)) throw new AppError('CONFLICT', `A project with slug "${input.slug}" already exists`, { field: 'slug' });
    throw err;
  }
  await recordAudit(m, { projectId: created.id, actor: actor.name, action: 'project.create', targetType: 'Project', targetId: created.nodeId, after: created });
  return created;
}

/** Projects the principal can see, oldest first, keyset on (created_at, id). */
export async function listProjects(db: DataSource, p: Principal, first?: number | null, after?: string | null): Promise<Connection<Project>> {
  const n = pageSize(first);
  const cursor = decodeCursor(after, 2);
  if (cursor) checkCursorValues(cursor, ['timestamptz', 'uuid']);
  const params: unknown[] = [n + 1];
  const conds: string[] = [];
  if (p.projectId) conds.push(`id = $${params.push(p.projectId)}`);
  if (cursor) conds.push(`(created_at, id) > ($${params.push(cursor[0])}::timestamptz, $${params.push(cursor[1])}::uuid)`);
  const rows = hydrate(db, Project, await db.query(
    `SELECT * FROM project ${conds.length ? `WHERE ${conds.join(' AND ')}` : ''} ORDER BY created_at, id LIMIT $1`, params,
  ));
  return toConnection(rows, n, cursor !== null, (r) => [r.createdAt.toISOString(), r.id]);
}
