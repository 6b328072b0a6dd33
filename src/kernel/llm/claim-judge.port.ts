/** One cited sentence of a narrative and the text of the records it cites. */
export interface JudgeClaim {
  id: number;
  sentence: string;
  sources: string[];
}

export interface JudgeVerdict {
  id: number;
  supported: boolean;
  reason: string;
}

export interface JudgeResult {
  model: string;
  verdicts: JudgeVerdict[];
  usage: { inputTokens: number; outputTokens: number; cacheReadTokens: number; cacheWriteTokens: number };
}

/**
 * An optional second opinion on grounding (entailment): is each cited sentence supported by its records? It sees
 * what lexical checks can't (negation, reversed meaning). Off unless NARRATIVES_ENTAILMENT_JUDGE=true and a key is set.
 */
export abstract class ClaimJudge {
  abstract readonly enabled: boolean;
  abstract judge(claims: JudgeClaim[]): Promise<JudgeResult>;
}

export class DisabledClaimJudge extends ClaimJudge {
  readonly enabled = false;
  judge(): Promise<JudgeResult> {
    return Promise.reject(new Error('the entailment judge is off (NARRATIVES_ENTAILMENT_JUDGE=false or no ANTHROPIC_API_KEY)'));
  }
}
