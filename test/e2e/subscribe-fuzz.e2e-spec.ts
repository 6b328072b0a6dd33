import { fuzzSubscriptions } from '../support/subscription-fuzz';
import { startTestApp, type TestApp } from '../support/test-app';

/** A short fuzz run in every `npm test` (the 10,000-request run is `npm run bench:fuzz`). */
describe('subscription routes under fuzzing', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ SUBSCRIBE_CLIENT_LIMIT: '1000000', SUBSCRIBE_ADDRESS_LIMIT: '1000000' });
    t.app.set('trust proxy', 'loopback');
  });
  afterAll(() => t?.close());

  it('answers 600 hostile requests without a 5xx and leaves no corrupted state', async () => {
    const result = await fuzzSubscriptions(t, { requests: 600, seed: 9 });
    expect(result.serverErrors).toEqual([]);
    expect(result.corrupted).toEqual([]);
    expect(result.requests).toBe(600);
    // The run reached the deep paths, not only the refusals.
    expect((result.byStatus['200'] ?? 0) + (result.byStatus['202'] ?? 0)).toBeGreaterThan(10);
    expect(result.byStatus['400']).toBeGreaterThan(50);
    expect(result.byStatus['403']).toBeGreaterThan(0);
    expect(result.byStatus['413']).toBeGreaterThan(0);
  });

  it('with the proof-of-work challenge on, 300 hostile requests (solved, replayed, forged and odd answers) cause no 5xx and no corrupted state', async () => {
    const pow = await startTestApp({
      SUBSCRIBE_CLIENT_LIMIT: '1000000',
      SUBSCRIBE_ADDRESS_LIMIT: '1000000',
      SUBSCRIBE_CHALLENGE: 'pow',
      SUBSCRIBE_POW_BITS: '8',
    });
    pow.app.set('trust proxy', 'loopback');
    const result = await fuzzSubscriptions(pow, { requests: 300, seed: 10 }).finally(() => pow.close());
    expect(result.serverErrors).toEqual([]);
    expect(result.corrupted).toEqual([]);
    expect(result.requests).toBe(300);
    // Some solved answers got through to the sign-up itself, and the refusals were answered as such.
    expect(result.byStatus['200'] ?? 0).toBeGreaterThan(0);
    expect(result.byStatus['400']).toBeGreaterThan(50);
  });
});
