/**
 * Prompt injection in source records (DESIGN.md invariant 5). Records reach the model as quoted documents, never as
 * instructions; this finds the ones that try to instruct the writer anyway, so the storyline shows them to an editor
 * and a narrative that repeats what they ask for is held.
 */

const INSTRUCTION_PATTERNS: RegExp[] = [
  /\b(?:ignore|disregard|forget|override|bypass)\b[^.\n]{0,40}\b(?:instructions?|prompts?|rules|guidelines|directions|system message)\b/i,
  /\b(?:system prompt|developer message|jailbreak|prompt injection)\b/i,
  /\byou are (?:now )?(?:an? |the )?(?:ai|assistant|language model|chatbot|bot|writer|summari[sz]er|claude|gpt)\b/i,
  /\b(?:(?:any |all )?ai (?:assistants?|summari[sz]ers?|summar(?:y|ies)|writers?|bots?|reading this)|assistants?|claude|gpt|chatgpt|llms?|language models?|chatbots?|bots? reading this|summari[sz]ers?|newsletter writers?|broadsheet)\b[^.\n]{0,40}\b(?:must|should|shall|need to|have to|are required to|are instructed to)\s+(?:always\s+)?(?:write|say|state|report|mention|describe|call|tell|claim|repeat|include)\b/i,
  /\b(?:when|if) (?:you are |you're )?(?:summari[sz]ing|writing about|reporting on|describing) (?:this|these)\b/i,
  /\b(?:tell|inform|warn) (?:your |the )?readers\b/i,
  /(?:^|\n)\s*(?:system|assistant|user)\s*:/i,
  /<\/?(?:system|instructions?|prompt|im_start|im_end)\b[^>]*>|\[\/?INST\]/i,
  /\bnew instructions?\b/i,
  /\b(?:write|say|state|report) that\b[^.\n]{0,80}\b(?:is|are|was|were)\b/i,
  /\binclude (?:the following|this (?:link|sentence|text|url))\b/i,
];

/** Accusations an injected record typically wants repeated. */
export const ACCUSATION =
  /\b(?:fraud\w*|scam\w*|lie|lied|lies|lying|liars?|st[oe]le|steal\w*|theft|thie(?:f|ves)|criminals?|crimes?|corrupt\w*|brib\w*|cover[- ]?ups?|illegal\w*|embezzl\w*|rigged|faked?|cheat\w*|launder\w*|extort\w*|racist|predators?|kickbacks?|ponzi)\b/gi;

export interface InjectionFinding {
  /** The sentence that instructs the writer. */
  excerpt: string;
}

/** The instruction-like sentences of a record's text (empty when it has none). */
export function findInstructions(text: string): InjectionFinding[] {
  const sentences = text
    .split(/(?<=[.!?])\s+|\n+/)
    .map((s) => s.trim())
    .filter(Boolean);
  return sentences.filter((s) => INSTRUCTION_PATTERNS.some((p) => p.test(s))).map((excerpt) => ({ excerpt: excerpt.slice(0, 300) }));
}

const words = (s: string) =>
  s
    .toLowerCase()
    .replace(/[’']/g, "'")
    .match(/[\p{L}\p{N}']+/gu) ?? [];

/** Does `text` repeat a run of `n` words from `source`? */
export function repeatsWords(text: string, source: string, n = 5): string | null {
  const mine = words(text);
  const theirs = ` ${words(source).join(' ')} `;
  for (let i = 0; i + n <= mine.length; i++) {
    const gram = mine.slice(i, i + n).join(' ');
    if (theirs.includes(` ${gram} `)) return gram;
  }
  return null;
}

/** Accusation words in a text, lower-cased and stemmed lightly. */
export function accusations(text: string): string[] {
  return [...text.matchAll(ACCUSATION)].map((m) => m[0].toLowerCase().replace(/(ulent|s|ed|ing|ery|er|ers)$/, ''));
}
