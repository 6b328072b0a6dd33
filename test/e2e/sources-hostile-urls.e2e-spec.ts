import { runHostileUrls, type HostileUrlRun } from '../support/hostile-urls';

/**
 * Invariant 4 through the real command: `broadsheet sources test --kind rss --target <hostile URL>` for every
 * form of internal address, hostile DNS answer, inward redirect and non-http scheme. Each must exit 1 with its
 * reason, and nothing may reach the internal server.
 */
jest.setTimeout(600_000);

describe('sources test refuses hostile URLs', () => {
  let run: HostileUrlRun;
  beforeAll(async () => {
    run = await runHostileUrls();
  });

  it('tries at least 30 hostile URLs and none of them reaches an internal address', () => {
    expect(run.rows.length).toBeGreaterThanOrEqual(30);
    expect(run.secretHits).toEqual([]);
    expect(run.rows.filter((r) => r.outcome.startsWith('FETCHED'))).toEqual([]);
  });

  it('exits 1 with a one-line reason for each', () => {
    for (const row of run.rows) {
      expect({ url: row.url, exitCode: row.exitCode }).toEqual({ url: row.url, exitCode: 1 });
      expect(row.outcome).not.toBe('');
    }
  });

  it('says why: refused addresses name the range, hostile DNS answers name the host, redirects are re-checked', () => {
    const reason = (what: string) => run.rows.find((r) => r.what === what)?.outcome ?? '';
    expect(reason('cloud metadata (AWS, GCP, Azure)')).toMatch(/refused/i);
    expect(reason('DNS answers 10.0.0.5')).toMatch(/internal\.test resolves to a refused address/);
    expect(reason('DNS answers one public and one private address')).toMatch(/mixed\.test resolves to a refused address/);
    expect(reason('redirect to metadata')).toMatch(/redirected to a refused address/);
    expect(reason('endless redirect chain')).toMatch(/more than 5 redirects/);
    expect(reason('credentials in the URL')).toMatch(/user name or password/);
    expect(reason('file: scheme')).toMatch(/http/);
    // The DNS stand-in was really asked (the fetcher used FETCH_DNS_SERVERS).
    expect(run.dnsQuestions).toEqual(expect.arrayContaining(['A internal.test', 'A mixed.test']));
  });
});
