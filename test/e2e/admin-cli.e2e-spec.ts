import { Readable } from 'node:stream';
import { AccountsService } from '../../src/admin/auth/accounts.service';
import { TokensService } from '../../src/admin/auth/tokens.service';
import { cliWorkspace } from '../support/run-cli';

/** `broadsheet users …` and `broadsheet tokens …` on a real database. */
jest.setTimeout(300_000);

describe('broadsheet users and tokens', () => {
  let cli: Awaited<ReturnType<typeof cliWorkspace>>;
  beforeAll(async () => {
    cli = await cliWorkspace({ DEMO: 'false' });
  });
  afterAll(() => cli?.close());

  async function withStdin<T>(text: string, fn: () => Promise<T>): Promise<T> {
    const original = Object.getOwnPropertyDescriptor(process, 'stdin')!;
    Object.defineProperty(process, 'stdin', { value: Readable.from([Buffer.from(text)]), configurable: true });
    try {
      return await fn();
    } finally {
      Object.defineProperty(process, 'stdin', original);
    }
  }

  async function userEmails(): Promise<string[]> {
    const ctx = cli.context();
    try {
      return (await (await ctx.get(AccountsService)).listUsers()).map((u) => u.email);
    } finally {
      await ctx.close();
    }
  }

  it('creates an owner with a generated password that signs in, and one from stdin', async () => {
    const before = new Set(await userEmails());
    const created = await cli.run('users', 'create', '--email', 'First.Owner@example.com', '--role', 'owner', '--json');
    expect(created.code).toBe(0);
    const body = created.json<{ email: string; role: string; password: string }>();
    expect(body).toMatchObject({ email: 'first.owner@example.com', role: 'owner' });
    expect(body.password.length).toBeGreaterThanOrEqual(20);
    const fromStdin = await withStdin('correct horse battery staple\n', () =>
      cli.run('users', 'create', '--email', 'ed@example.com', '--role', 'editor', '--password-stdin'),
    );
    expect(fromStdin.code).toBe(0);
    expect(fromStdin.stdout).not.toContain('password:');
    const ctx = cli.context();
    try {
      const accounts = await ctx.get(AccountsService);
      await expect(accounts.passwordMatches('first.owner@example.com', body.password)).resolves.toBe(true);
      await expect(accounts.passwordMatches('ed@example.com', 'correct horse battery staple')).resolves.toBe(true);
      // Stored as argon2id, never as given.
      expect(
        (await accounts.listUsers())
          .map((u) => u.email)
          .filter((e) => !before.has(e))
          .sort(),
      ).toEqual(['ed@example.com', 'first.owner@example.com']);
    } finally {
      await ctx.close();
    }
  });

  it('refuses a bad role (exit 2), a duplicate or a bad address (exit 1), a short password', async () => {
    expect((await cli.run('users', 'create', '--email', 'x@example.com', '--role', 'admin')).code).toBe(2);
    expect((await cli.run('users', 'create', '--email', 'dup@example.com', '--role', 'editor')).code).toBe(0);
    const dup = await cli.run('users', 'create', '--email', 'DUP@example.com', '--role', 'viewer');
    expect(dup.code).toBe(1);
    expect(dup.stderr).toMatch(/exists already/);
    const bad = await cli.run('users', 'create', '--email', 'not an address', '--role', 'viewer');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/not an email address/);
    const short = await withStdin('short\n', () => cli.run('users', 'create', '--email', 'y@example.com', '--role', 'viewer', '--password-stdin'));
    expect(short.code).toBe(1);
    expect(short.stderr).toMatch(/12 to 256 characters/);
  });

  it('creates a token shown once, lists it without the secret, and revokes it', async () => {
    const before = new Set((await cli.run('tokens', 'list', '--json')).json<Array<{ id: string }>>().map((l) => l.id));
    const created = await cli.run('tokens', 'create', '--name', 'deploy bot', '--role', 'editor', '--json');
    expect(created.code).toBe(0);
    const { id, token } = created.json<{ id: string; token: string }>();
    expect(token).toMatch(/^bs_[A-Za-z0-9_-]{40,}$/);
    const listed = await cli.run('tokens', 'list', '--json');
    expect(listed.stdout).not.toContain(token);
    expect(listed.json<Array<{ id: string; revokedAt: string | null }>>().filter((l) => !before.has(l.id))).toEqual([
      expect.objectContaining({ id, revokedAt: null }),
    ]);
    const ctx = cli.context();
    try {
      await expect((await ctx.get(TokensService)).resolve(token, { ip: null, userAgent: null })).resolves.toMatchObject({ role: 'editor' });
    } finally {
      await ctx.close();
    }
    expect((await cli.run('tokens', 'revoke', id)).code).toBe(0);
    const after = cli.context();
    try {
      await expect((await after.get(TokensService)).resolve(token, { ip: null, userAgent: null })).resolves.toBeNull();
    } finally {
      await after.close();
    }
    const unknown = await cli.run('tokens', 'revoke', 'not-a-token-id');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/No API token/);
  });
});
