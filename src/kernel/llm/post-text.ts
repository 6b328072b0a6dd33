/** Markdown and list residue out of post text: emphasis, headings, bullets, links, code, quote markers. */
export function cleanPostText(text: string): string {
  return text
    .replace(/\[([^\]]+)\]\((?:[^)]*)\)/g, '$1')
    .replace(/https?:\/\/\S+/g, ' ')
    .replace(/(^|\n)\s*#{1,6}\s+/g, '$1')
    .replace(/(^|\n)\s*>\s?/g, '$1')
    .replace(/(^|\n)\s*(?:[-*+•]|\d{1,2}[.)])\s+/g, '$1')
    .replace(/\s[•▪◦]\s/g, ' ')
    .replace(/\*\*([^*]+)\*\*|__([^_]+)__/g, '$1$2')
    .replace(/(?<![\p{L}\p{N}*])\*([^*\s][^*]*)\*(?![\p{L}\p{N}*])/gu, '$1')
    .replace(/`([^`]+)`/g, '$1')
    .replace(/[ \t]+/g, ' ')
    .trim();
}
