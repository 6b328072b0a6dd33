/** Token usage of one or more model calls. */
export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  /** The part of `cacheWriteTokens` written with the 1-hour lifetime (billed 2× input, not 1.25×); absent: none. */
  cacheWrite1hTokens?: number;
}

export const NO_USAGE: TokenUsage = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 };

export function addUsage(a: TokenUsage, b: TokenUsage | null | undefined): TokenUsage {
  if (!b) return { ...a };
  return {
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    cacheReadTokens: a.cacheReadTokens + b.cacheReadTokens,
    cacheWriteTokens: a.cacheWriteTokens + b.cacheWriteTokens,
    ...(a.cacheWrite1hTokens || b.cacheWrite1hTokens ? { cacheWrite1hTokens: (a.cacheWrite1hTokens ?? 0) + (b.cacheWrite1hTokens ?? 0) } : {}),
  };
}

/** US dollars per million tokens by model family (list prices; an estimate, not an invoice). */
const PRICES: Array<{ match: RegExp; input: number; output: number }> = [
  { match: /opus/, input: 5, output: 25 },
  { match: /haiku/, input: 1, output: 5 },
  { match: /sonnet/, input: 3, output: 15 },
];
const DEFAULT_PRICE = { input: 3, output: 15 };

/** Input-priced weight of the cache writes: 1.25× for the 5-minute lifetime, 2× for the 1-hour one. */
function cacheWriteWeight(usage: TokenUsage): number {
  const hour = Math.min(usage.cacheWrite1hTokens ?? 0, usage.cacheWriteTokens);
  return (usage.cacheWriteTokens - hour) * 1.25 + hour * 2;
}

/**
 * Estimated cost in US dollars: cache writes at 1.25× the input price (2× for the 1-hour lifetime), cache reads at
 * 0.1×, and everything at half price through Message Batches.
 */
export function estimateCostUsd(model: string | null, usage: TokenUsage, options: { batch?: boolean } = {}): number {
  if (!model) return 0;
  const price = PRICES.find((p) => p.match.test(model)) ?? DEFAULT_PRICE;
  const dollars =
    (usage.inputTokens * price.input + cacheWriteWeight(usage) * price.input + usage.cacheReadTokens * price.input * 0.1 + usage.outputTokens * price.output) /
    1e6;
  return options.batch ? dollars / 2 : dollars;
}

/** Billed-token equivalent (input-priced tokens), for comparing runs: what `estimateCostUsd` weighs, in tokens. */
export function billedInputEquivalent(usage: TokenUsage, options: { batch?: boolean; outputWeight?: number } = {}): number {
  const weight = options.outputWeight ?? 5;
  const total = usage.inputTokens + cacheWriteWeight(usage) + usage.cacheReadTokens * 0.1 + usage.outputTokens * weight;
  return options.batch ? total / 2 : total;
}
