import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { DataSource } from 'typeorm';
import { cliWorkspace } from '../support/run-cli';

type Workspace = Awaited<ReturnType<typeof cliWorkspace>>;

/** `broadsheet subscribers import | export | count` on a real database. */
describe('broadsheet subscribers', () => {
  let cli: Workspace;
  let dir: string;

  beforeAll(async () => {
    cli = await cliWorkspace({ DEMO: 'false' });
    dir = mkdtempSync(join(tmpdir(), 'subscribers-cli-'));
  });
  afterAll(async () => {
    await cli?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const countRows = async (table: string) => (await query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`))[0].n;
  const counts = async () => {
    const { total, byStatus } = (await cli.run('subscribers', 'count', '--json')).json() as { total: number; byStatus: Record<string, number> };
    return { total, active: byStatus.active ?? 0, pending: byStatus.pending ?? 0 };
  };
  const query = async <T>(sql: string): Promise<T[]> => {
    const ctx = cli.context();
    try {
      return await (await ctx.get(DataSource)).query(sql);
    } finally {
      await ctx.close();
    }
  };

  it('imports a CSV as pending (confirmations queued), reporting every bad or duplicate row with its line', async () => {
    const file = join(dir, 'list.csv');
    const before = { subscribers: await countRows('subscribers'), emails: await countRows('subscriber_emails') };
    writeFileSync(
      file,
      [
        '\ufeffEmail,Name,Beats',
        'ada@example.com,Ada Lovelace,ai-agents;open-source',
        '"grace@example.com","Hopper, Grace",',
        'not-an-address,Nobody,',
        'ADA@example.com,Ada again,',
        `${'x'.repeat(200)}@example.com,Long,`,
        'bad.beats@example.com,Beats,Not A Slug',
        'zoe@bücher.example,Zoë,',
        '',
      ].join('\r\n'),
    );
    const run = await cli.run('subscribers', 'import', file, '--json');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const report = join(dir, 'list.csv.report.csv');
    expect(run.json()).toEqual({ rows: 7, imported: 3, duplicates: 1, invalid: 3, status: 'pending', report });
    const lines = parse(readFileSync(report), { columns: true }) as Array<{ line: string; email: string; error: string }>;
    expect(lines.map((l) => [l.line, l.error.split(/[:.]/)[0]])).toEqual([
      ['4', 'An email address needs an @, like name@example'],
      ['6', 'The part before the @ is 200 characters long; the limit is 64'],
      ['7', 'Beats are slugs such as "ai-agents"'],
      ['5', 'duplicate'],
    ]);
    const rows = await query<{ email: string; name: string; status: string; beat_slugs: string[] | null }>(
      `SELECT email, name, status, beat_slugs FROM subscribers WHERE email IN ('ada@example.com', 'grace@example.com', 'zoe@xn--bcher-kva.example') ORDER BY email`,
    );
    // Only the three good rows were stored (none of the bad ones, no second Ada), each with one queued confirmation.
    expect(await countRows('subscribers')).toBe(before.subscribers + 3);
    expect(rows).toEqual([
      { email: 'ada@example.com', name: 'Ada Lovelace', status: 'pending', beat_slugs: ['ai-agents', 'open-source'] },
      { email: 'grace@example.com', name: 'Hopper, Grace', status: 'pending', beat_slugs: null },
      { email: 'zoe@xn--bcher-kva.example', name: 'Zoë', status: 'pending', beat_slugs: null },
    ]);
    expect(await countRows('subscriber_emails')).toBe(before.emails + 3);
    expect(
      await query(
        `SELECT e.kind, e.status FROM subscriber_emails e JOIN subscribers s ON s.id = e.subscriber_id
         WHERE s.email IN ('ada@example.com', 'grace@example.com', 'zoe@xn--bcher-kva.example')`,
      ),
    ).toEqual(Array(3).fill({ kind: 'confirm', status: 'queued' }));
  });

  it('imports with --consent attested as active, never duplicating what exists', async () => {
    // This test's own existing subscriber: imported without consent, so pending.
    const existing = join(dir, 'existing.csv');
    writeFileSync(existing, 'email\nalready@example.com\n');
    expect((await cli.run('subscribers', 'import', existing, '--report', join(dir, 'existing-report.csv'), '--json')).json()).toMatchObject({ imported: 1 });
    const before = await counts();
    const file = join(dir, 'attested.csv');
    writeFileSync(file, 'email\nalready@example.com\nnew.one@example.com\nnew.two@example.com\n');
    const run = await cli.run('subscribers', 'import', file, '--consent', 'attested', '--report', join(dir, 'r.csv'), '--json');
    expect(run.json()).toMatchObject({ rows: 3, imported: 2, duplicates: 1, invalid: 0, status: 'active' });
    expect(
      await query(`SELECT email, status FROM subscribers WHERE email IN ('already@example.com', 'new.one@example.com', 'new.two@example.com') ORDER BY email`),
    ).toEqual([
      { email: 'already@example.com', status: 'pending' },
      { email: 'new.one@example.com', status: 'active' },
      { email: 'new.two@example.com', status: 'active' },
    ]);
    expect(await counts()).toEqual({ total: before.total + 2, active: before.active + 2, pending: before.pending });
  });

  it('exports every subscriber as CSV that reads back the same', async () => {
    // This test's own subscribers: two pending (one with beats, one with a comma in its name) and two active.
    const pending = join(dir, 'to-export.csv');
    writeFileSync(pending, 'email,name,beats\nexport.ada@example.com,Ada Lovelace,ai-agents;open-source\nexport.grace@example.com,"Hopper, Grace",\n');
    expect((await cli.run('subscribers', 'import', pending, '--json')).json()).toMatchObject({ imported: 2 });
    const active = join(dir, 'to-export-active.csv');
    writeFileSync(active, 'email\nexport.one@example.com\nexport.two@example.com\n');
    expect((await cli.run('subscribers', 'import', active, '--consent', 'attested', '--json')).json()).toMatchObject({ imported: 2 });
    const mine = ['export.ada@example.com', 'export.grace@example.com', 'export.one@example.com', 'export.two@example.com'];
    const total = await counts();

    const out = join(dir, 'export.csv');
    const run = await cli.run('subscribers', 'export', '--output', out, '--json');
    expect(run.json()).toEqual({ rows: total.total, output: out });
    const rows = parse(readFileSync(out), { columns: true }) as Array<Record<string, string>>;
    expect(rows).toHaveLength(total.total);
    expect(new Set(rows.map((r) => r.email)).size).toBe(total.total);
    expect(
      rows
        .map((r) => r.email)
        .filter((e) => mine.includes(e))
        .sort(),
    ).toEqual(mine);
    expect(rows.find((r) => r.email === 'export.grace@example.com')).toMatchObject({ name: 'Hopper, Grace', status: 'pending', beats: '' });
    expect(rows.find((r) => r.email === 'export.ada@example.com')!.beats).toBe('ai-agents;open-source');
    const stdout = await cli.run('subscribers', 'export', '--status', 'active');
    expect(stdout.code).toBe(0);
    const activeRows = parse(stdout.stdout, { columns: true }) as Array<Record<string, string>>;
    expect(activeRows).toHaveLength(total.active);
    expect(activeRows.every((r) => r.status === 'active')).toBe(true);
    expect(
      activeRows
        .map((r) => r.email)
        .filter((e) => mine.includes(e))
        .sort(),
    ).toEqual(['export.one@example.com', 'export.two@example.com']);
  });

  it('exports cells that a spreadsheet would run as formulas as text, and reads them back unchanged', async () => {
    const file = join(dir, 'formulas.csv');
    writeFileSync(file, ['email,name', '+sum@formula.example,"=HYPERLINK(""http://evil.example"",""x"")"', '-dash@formula.example,@SUM(A1:A9)', ''].join('\n'));
    expect((await cli.run('subscribers', 'import', file, '--json')).code).toBe(0);
    const out = join(dir, 'formulas-export.csv');
    expect((await cli.run('subscribers', 'export', '--output', out, '--json')).code).toBe(0);
    const rows = (parse(readFileSync(out), { columns: true }) as Array<Record<string, string>>).filter((r) => r.email.includes('@formula.example'));
    expect(rows.map((r) => [r.email, r.name]).sort()).toEqual([
      ["'+sum@formula.example", '\'=HYPERLINK("http://evil.example","x")'],
      ["'-dash@formula.example", "'@SUM(A1:A9)"],
    ]);
    const [stored] = await query<{ email: string; name: string }>(`SELECT email, name FROM subscribers WHERE email = '+sum@formula.example'`);
    expect(stored).toEqual({ email: '+sum@formula.example', name: '=HYPERLINK("http://evil.example","x")' });
    // The export reads back as the same subscribers: the import takes the text marker off (so: duplicates, no new rows).
    const again = await cli.run('subscribers', 'import', out, '--json');
    expect(again.code).toBe(0);
    expect((await query<{ n: number }>(`SELECT count(*)::int AS n FROM subscribers WHERE email LIKE '%@formula.example'`))[0].n).toBe(2);
    expect((await query<{ n: number }>(`SELECT count(*)::int AS n FROM subscribers WHERE email LIKE '''%'`))[0].n).toBe(0);
  });

  it('fails with a reason on a missing file or a file without an email column, and exit 2 on bad usage', async () => {
    const missing = await cli.run('subscribers', 'import', join(dir, 'nope.csv'));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no such file');
    const headerless = join(dir, 'headerless.csv');
    writeFileSync(headerless, 'address,name\nx@example.com,X\n');
    const noEmail = await cli.run('subscribers', 'import', headerless);
    expect(noEmail.code).toBe(1);
    expect(noEmail.stderr).toContain('no "email" column');
    expect((await cli.run('subscribers', 'import', headerless, '--consent', 'maybe')).code).toBe(2);
    expect((await cli.run('subscribers', 'export', '--json')).code).toBe(2);
  });

  it('shows its progress on stderr when not under --json (plain lines when stderr is not a terminal)', async () => {
    const file = join(dir, 'progress.csv');
    const body = `email\n${Array.from({ length: 50 }, (_, i) => `progress${i}@example.com`).join('\n')}\n`;
    writeFileSync(file, body);
    const run = await cli.run('subscribers', 'import', file, '--consent', 'attested', '--report', join(dir, 'progress-report.csv'));
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(`importing (bytes): ${Buffer.byteLength(body)}/${Buffer.byteLength(body)} (100%)`);
    expect(run.stdout).not.toContain('importing');
  });
});
