import { type INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { type AppConfig } from '../kernel/config/config';

/**
 * The editor API's OpenAPI 3.1 document at /api/openapi.json and a browsable page at /api/docs, generated from
 * the controllers (@nestjs/swagger) and the zod schemas that validate the bodies.
 */
export function setupApiDocs(app: INestApplication, config: AppConfig): void {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setOpenAPIVersion('3.1.0')
      .setTitle(`${config.site.title} API`)
      .setDescription(
        'The editor API (everything the /admin workspace does) and the public read API under /api/v1/public (no sign-in). Editor calls authenticate with `Authorization: Bearer <token>` (tokens from `broadsheet tokens create` or /admin/tokens), or with the session cookie plus the `X-CSRF-Token` header (GET /api/v1/me gives the token) for changes. Errors are RFC 9457 problem details (application/problem+json).',
      )
      .setVersion('1')
      .addTag('public', 'The public read API under /api/v1/public: stories, issues, beats and search, for anyone, no sign-in; cacheable (ETag, 304)')
      .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'An API token (bs_…)' }, 'token')
      .addCookieAuth('bs_session', { type: 'apiKey', in: 'cookie', name: 'bs_session' }, 'session')
      .addApiKey({ type: 'apiKey', in: 'header', name: 'X-CSRF-Token', description: 'With the session cookie, on every change' }, 'csrf')
      .build(),
  );
  // The site's pages, feeds and forms are not the API: keep the document to /api/… (editor and public JSON API).
  document.paths = Object.fromEntries(Object.entries(document.paths).filter(([path]) => path.startsWith('/api/')));
  // The docs page is Swagger UI: its own scripts and styles from this origin (the site-wide policy allows none).
  app.use('/api/docs', (_req: unknown, res: { setHeader(name: string, value: string): void }, next: () => void) => {
    res.setHeader(
      'Content-Security-Policy',
      "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    );
    next();
  });
  SwaggerModule.setup('api/docs', app, document, { jsonDocumentUrl: 'api/openapi.json', raw: ['json'], customSiteTitle: `${config.site.title} editor API` });
}
