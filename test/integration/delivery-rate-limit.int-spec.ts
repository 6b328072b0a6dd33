import { DataSource } from 'typeorm';
import { RateLimiter } from '../../src/delivery/rate-limiter';
import { startTestApp, type TestApp } from '../support/test-app';

/** Precision of a start read back from the database as epoch milliseconds (microseconds, through a float). */
const EPSILON_MS = 0.01;

/** The budget as the database keeps it (epoch ms): what every instance checks its next start against. */
async function recordedInDatabase(t: TestApp, provider: string): Promise<{ starts: number[]; pausedUntil: number }> {
  const [row] = await t.get(DataSource).query(
    `SELECT ARRAY(SELECT extract(epoch FROM s) * 1000 FROM unnest(starts) s) AS starts, extract(epoch FROM paused_until) * 1000 AS paused_until
     FROM delivery_rate_budget WHERE provider = $1`,
    [provider],
  );
  return { starts: (row.starts as Array<string | number>).map(Number), pausedUntil: Number(row.paused_until) };
}

/** Every pair of starts `limit` apart is at least a window apart, and no two are closer than the minimum gap. */
function expectWithinBudget(starts: readonly number[], limiter: RateLimiter): void {
  const sorted = [...starts].sort((a, b) => a - b);
  const closestWindow = Math.min(...sorted.slice(limiter.limit).map((s, i) => s - sorted[i]!));
  const closestPair = Math.min(...sorted.slice(1).map((s, i) => s - sorted[i]!));
  expect(closestWindow).toBeGreaterThanOrEqual(limiter.windowMs - EPSILON_MS);
  expect(closestPair).toBeGreaterThanOrEqual(limiter.minGapMs - EPSILON_MS);
}

describe('the shared rate budget (DeliveryRateLimiter on the database)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ DELIVERY_RATE_PER_SECOND: '20' });
  });
  afterAll(async () => {
    await t.close();
  });

  it('from many concurrent requests records at most the limit in any window, never two back to back', async () => {
    const limiter = t.get(RateLimiter);
    expect({ limit: limiter.limit, windowMs: limiter.windowMs }).toEqual({ limit: 20, windowMs: 1030 });
    // 24 workers, two requests each: more than the budget wants at once, all asking at the same moment.
    const worker = async () => {
      const mine: number[] = [];
      for (let i = 0; i < 2; i++) {
        const slot = (await limiter.acquire('concurrent'))!;
        mine.push(await slot.start());
      }
      return mine;
    };
    const starts = (await Promise.all(Array.from({ length: 24 }, worker))).flat();
    expect(starts).toHaveLength(48);
    expectWithinBudget(starts, limiter);
    // The first requests were spread out as planned, not sent in a burst of 20 that would reach the provider bunched.
    const first = [...starts].sort((a, b) => a - b).slice(0, limiter.limit);
    expect(first[first.length - 1]! - first[0]!).toBeGreaterThanOrEqual((limiter.limit - 1) * limiter.minGapMs - EPSILON_MS);
  });

  it('checks a request whose timer fired late against the starts made meanwhile, not against its plan', async () => {
    const limiter = t.get(RateLimiter);
    const late = (await limiter.acquire('late'))!;
    const others = Array.from({ length: 6 }, async () => (await limiter.acquire('late'))!.start());
    // The first planned request only asks once the five planned after it have gone (its process was busy).
    const onTime = await Promise.all(others);
    const lateStart = await late.start();
    expect(Math.min(...onTime)).toBeLessThan(lateStart);
    expectWithinBudget([...onTime, lateStart], limiter);
  });

  it('moves a start to when its request really left, and the next request keeps its distance from that', async () => {
    // A process that has sent nothing yet, so its first stamp is recorded as taken.
    const limiter = new RateLimiter(t.get(DataSource), t.config);
    const slot = (await limiter.acquire('slow-build'))!;
    const stamped = await slot.start();
    // Building the request takes 150 ms of this turn of the event loop (a 7 MB body on a busy machine).
    const until = performance.now() + 150;
    while (performance.now() < until);
    await limiter.settled();
    const { starts } = await recordedInDatabase(t, 'slow-build');
    expect(starts).toHaveLength(1);
    expect(starts[0]).toBeGreaterThanOrEqual(stamped + 150 - EPSILON_MS);

    const next = await (await limiter.acquire('slow-build'))!.start();
    expect(next).toBeGreaterThanOrEqual(starts[0]! + limiter.minGapMs - EPSILON_MS);
  });

  it('accepts no start before a pause the provider asked for has ended, and the requests after it keep their spacing', async () => {
    const limiter = t.get(RateLimiter);
    await limiter.pauseAll('paused', 400);
    const { pausedUntil } = await recordedInDatabase(t, 'paused');
    const starts = await Promise.all(Array.from({ length: 5 }, async () => (await limiter.acquire('paused'))!.start()));
    expect(Math.min(...starts)).toBeGreaterThanOrEqual(pausedUntil - EPSILON_MS);
    expectWithinBudget(starts, limiter);
  });
});
