/** Editor roles, weakest first. Each role may do everything the roles before it may. */
export enum Role {
  Viewer = 'viewer',
  Editor = 'editor',
  Owner = 'owner',
}

export const ROLES = [Role.Viewer, Role.Editor, Role.Owner] as const;

export function roleAtLeast(role: Role, required: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(required);
}

export function parseRole(value: string): Role | null {
  return (ROLES as readonly string[]).includes(value) ? (value as Role) : null;
}
