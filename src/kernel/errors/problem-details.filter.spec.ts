import { Body, Controller, Get, Post, UnauthorizedException } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { type NestExpressApplication } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import { z } from 'zod';
import { applyHttpDefaults } from '../web/security-headers';
import { ConflictError, NotFoundError } from './domain-error';
import { ErrorPages } from './error-pages.port';
import { parseOrThrow } from './parse-or-throw';
import { ProblemDetailsFilter } from './problem-details.filter';

const signup = z.object({ email: z.email(), beats: z.array(z.string().min(1)).max(3) });

@Controller()
class ProbeController {
  @Post('api/v1/signups')
  signup(@Body() body: unknown): { ok: true } {
    parseOrThrow(signup, body);
    return { ok: true };
  }

  @Get('api/v1/missing')
  missing(): never {
    throw new NotFoundError('No subscriber 42.');
  }

  @Get('api/v1/conflict')
  conflict(): never {
    throw new ConflictError('That slug is taken.');
  }

  @Get('api/v1/secret')
  secret(): never {
    throw new UnauthorizedException('Sign in first.');
  }

  @Get('api/v1/broken')
  broken(): never {
    throw new Error('password=hunter2 in a stack trace');
  }

  @Get('page/broken')
  brokenPage(): never {
    throw new Error('boom');
  }
}

class MastheadPages extends ErrorPages {
  render(error: { status: number; title: string; detail: string }): string {
    return `<html><header class="masthead">The Test Gazette</header><p>${error.status}</p></html>`;
  }
}

describe('ProblemDetailsFilter', () => {
  let app: NestExpressApplication;
  let url: string;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      controllers: [ProbeController],
      providers: [
        { provide: ErrorPages, useClass: MastheadPages },
        { provide: APP_FILTER, useClass: ProblemDetailsFilter },
      ],
    }).compile();
    app = moduleRef.createNestApplication<NestExpressApplication>({ logger: false });
    applyHttpDefaults(app);
    await app.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  });

  afterAll(() => app.close());

  async function problem(
    path: string,
    init: RequestInit = {},
  ): Promise<{ status: number; type: string | null; csp: string | null; body: Record<string, unknown> }> {
    const response = await fetch(url + path, init);
    return {
      status: response.status,
      type: response.headers.get('content-type'),
      csp: response.headers.get('content-security-policy'),
      body: (await response.json()) as Record<string, unknown>,
    };
  }

  const json = (body: string): RequestInit => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body });

  it('answers a validation error with a 400 problem listing each invalid field', async () => {
    const res = await problem('/api/v1/signups', json(JSON.stringify({ email: 'nope', beats: ['', 'ai'] })));
    expect(res.status).toBe(400);
    expect(res.type).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ type: 'about:blank', title: 'Bad Request', status: 400, code: 'validation_failed' });
    expect(res.body.detail).toMatch(/email/);
    expect(res.body.errors).toEqual([
      { field: 'email', message: expect.any(String) },
      { field: 'beats.0', message: expect.any(String) },
    ]);
  });

  it('lets a valid body through', async () => {
    const response = await fetch(`${url}/api/v1/signups`, json(JSON.stringify({ email: 'a@example.com', beats: ['ai'] })));
    expect(response.status).toBe(201);
    await expect(response.json()).resolves.toEqual({ ok: true });
  });

  it('maps domain errors to their status and stable code', async () => {
    await expect(problem('/api/v1/missing')).resolves.toMatchObject({
      status: 404,
      body: { status: 404, title: 'Not Found', code: 'not_found', detail: 'No subscriber 42.' },
    });
    await expect(problem('/api/v1/conflict')).resolves.toMatchObject({ status: 409, body: { code: 'conflict', detail: 'That slug is taken.' } });
  });

  it("maps Nest's own HttpExceptions", async () => {
    await expect(problem('/api/v1/secret')).resolves.toMatchObject({
      status: 401,
      body: { title: 'Unauthorized', code: 'unauthorized', detail: 'Sign in first.' },
    });
  });

  it('answers body-parser failures: malformed JSON is a 400, a huge body a 413', async () => {
    const malformed = await problem('/api/v1/signups', json('{"email": '));
    expect(malformed).toMatchObject({
      status: 400,
      type: expect.stringMatching(/^application\/problem\+json/),
      body: { code: 'malformed_body', title: 'Bad Request' },
    });
    const huge = await problem('/api/v1/signups', json(JSON.stringify({ email: 'x'.repeat(200_000) })));
    expect(huge).toMatchObject({ status: 413, body: { code: 'payload_too_large', status: 413 } });
    // The security headers are set before the body is parsed, so these answers carry them too.
    expect(huge.csp).toContain("default-src 'none'");
  });

  it('answers an unknown API route with a 404 problem, even for a browser, without echoing the URL', async () => {
    const res = await problem('/api/v1/<script>', { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
    expect(res).toMatchObject({ status: 404, body: { code: 'not_found', detail: 'There is nothing at this address.' } });
    expect(JSON.stringify(res.body)).not.toContain('script');
  });

  it('hides what went wrong inside a 500', async () => {
    const res = await problem('/api/v1/broken');
    expect(res).toMatchObject({ status: 500, body: { code: 'internal_error', title: 'Internal Server Error' } });
    expect(JSON.stringify(res.body)).not.toContain('hunter2');
  });

  it('gives a browser the site page (with its masthead) outside /api, and a program problem+json', async () => {
    const page = await fetch(`${url}/no/such/page`, { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
    expect(page.status).toBe(404);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    await expect(page.text()).resolves.toContain('The Test Gazette');

    await expect(problem('/no/such/page', { headers: { accept: '*/*' } })).resolves.toMatchObject({
      status: 404,
      type: expect.stringMatching(/problem\+json/),
    });
    const brokenPage = await fetch(`${url}/page/broken`, { headers: { accept: 'text/html' } });
    expect(brokenPage.status).toBe(500);
    await expect(brokenPage.text()).resolves.toContain('<p>500</p>');
  });
});
