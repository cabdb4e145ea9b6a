import { registerEnumType } from 'type-graphql';

/** What a key may do: VIEWER reads, EDITOR also writes, ADMIN also manages keys and projects. */
export enum Role {
  VIEWER = 'VIEWER',
  EDITOR = 'EDITOR',
  ADMIN = 'ADMIN',
}
registerEnumType(Role, {
  name: 'Role',
  description: 'What an API key may do.',
  valuesConfig: {
    VIEWER: { description: 'Read everything in scope.' },
    EDITOR: { description: 'Read and write registry data in scope.' },
    ADMIN: { description: 'Everything, including API keys (and projects, for a key of no project).' },
  },
});

const RANK: Record<Role, number> = { VIEWER: 0, EDITOR: 1, ADMIN: 2 };
export const roleAtLeast = (have: Role, need: Role) => RANK[have] >= RANK[need];
