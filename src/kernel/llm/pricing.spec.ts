import { addUsage, billedInputEquivalent, estimateCostUsd } from './pricing';

describe('cost estimates by cache lifetime', () => {
  const base = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0 };

  it('bills 1-hour cache writes at 2x the input price and 5-minute ones at 1.25x, halved for batches', () => {
    // Sonnet: $3 per million input tokens.
    expect(estimateCostUsd('claude-sonnet-5-5', { ...base, cacheWriteTokens: 1_000_000 })).toBeCloseTo(3.75, 10);
    expect(estimateCostUsd('claude-sonnet-5-5', { ...base, cacheWriteTokens: 1_000_000, cacheWrite1hTokens: 1_000_000 })).toBeCloseTo(6, 10);
    expect(estimateCostUsd('claude-sonnet-5-5', { ...base, cacheWriteTokens: 1_000_000, cacheWrite1hTokens: 400_000 }, { batch: true })).toBeCloseTo(
      (600_000 * 1.25 * 3 + 400_000 * 2 * 3) / 1e6 / 2,
      10,
    );
    expect(billedInputEquivalent({ ...base, cacheWriteTokens: 100, cacheWrite1hTokens: 100 })).toBe(200);
  });

  it('adds up the 1-hour part across calls', () => {
    const a = { ...base, cacheWriteTokens: 10, cacheWrite1hTokens: 10 };
    expect(addUsage(a, { ...base, cacheWriteTokens: 5 })).toEqual({ ...base, cacheWriteTokens: 15, cacheWrite1hTokens: 10 });
    expect(addUsage({ ...base, cacheWriteTokens: 5 }, { ...base, cacheWriteTokens: 5 })).toEqual({ ...base, cacheWriteTokens: 10 });
  });
});
