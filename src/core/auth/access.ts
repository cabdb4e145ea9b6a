import { AppError } from '../graphql/errors';
import type { Context } from '../graphql/context';
import { Principal } from './principal';
import { Role, roleAtLeast } from './role';

/** The caller, or UNAUTHENTICATED. */
export function requireAuth(ctx: Context): Principal {
  if (!ctx.principal) {
    throw new AppError('UNAUTHENTICATED', 'Send an API key: Authorization: Bearer <secret>');
  }
  return ctx.principal;
}

/** The caller, if its key reaches `projectId` with at least `role`; else FORBIDDEN. */
export function requireProjectRole(ctx: Context, projectId: string, role: Role): Principal {
  const p = requireAuth(ctx);
  if (p.projectId !== null && p.projectId !== projectId) {
    throw new AppError('FORBIDDEN', 'This API key is not valid for that project');
  }
  if (!roleAtLeast(p.role, role)) {
    throw new AppError('FORBIDDEN', `This needs the ${role} role; the key has ${p.role}`);
  }
  return p;
}

/** The caller, if its key is valid for every project and has at least `role`. */
export function requireGlobalRole(ctx: Context, role: Role): Principal {
  const p = requireAuth(ctx);
  if (p.projectId !== null) throw new AppError('FORBIDDEN', 'This needs a key that is not scoped to one project');
  if (!roleAtLeast(p.role, role)) throw new AppError('FORBIDDEN', `This needs the ${role} role; the key has ${p.role}`);
  return p;
}

/** Whether the caller may read `projectId` at all (used to hide, rather than refuse, in lists). */
export const canSeeProject = (p: Principal, projectId: string) => p.projectId === null || p.projectId === projectId;
