import { createParamDecorator, SetMetadata, type ExecutionContext } from '@nestjs/common';
import { type Request } from 'express';
import { type Actor } from './actor';
import { type Role } from './role';

export const ADMIN_AREA = 'broadsheet:admin-area';
export const ADMIN_PUBLIC = 'broadsheet:admin-public';
export const ADMIN_ROLE = 'broadsheet:admin-role';

/** Marks a controller as part of the editors' area: every route in it needs a caller unless marked public. */
export const AdminArea = (): ClassDecorator => SetMetadata(ADMIN_AREA, true);

/** The few editor routes open to anyone: sign-in, password reset, the workspace's static script. */
export const AdminPublic = (): MethodDecorator & ClassDecorator => SetMetadata(ADMIN_PUBLIC, true);

/**
 * The weakest role that may call the route. Without it: viewer for GET/HEAD, editor for anything else.
 */
export const Requires = (role: Role): MethodDecorator & ClassDecorator => SetMetadata(ADMIN_ROLE, role);

export type AdminRequest = Request & { actor?: Actor };

/** The authenticated caller (set by the AdminAuthGuard). */
export const CurrentActor = createParamDecorator((_: unknown, ctx: ExecutionContext): Actor => {
  const actor = ctx.switchToHttp().getRequest<AdminRequest>().actor;
  if (!actor) throw new Error('CurrentActor used on a route without an authenticated caller');
  return actor;
});
