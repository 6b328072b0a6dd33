import { applyDecorators, Controller } from '@nestjs/common';
import { ApiBearerAuth, ApiCookieAuth, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { AdminArea } from '../auth/auth.decorators';

/**
 * A controller of the editor API under /api/v1: in the editors' area (default deny), documented in OpenAPI with its
 * three ways to authenticate (Bearer token, or the session cookie plus the CSRF header for changes).
 */
export const EditorApi = (): ClassDecorator =>
  applyDecorators(ApiTags('editors'), ApiBearerAuth('token'), ApiCookieAuth('session'), ApiSecurity('csrf'), AdminArea(), Controller('api/v1'));
