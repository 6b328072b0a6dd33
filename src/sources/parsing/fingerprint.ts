import { createHash } from 'node:crypto';

/**
 * A fingerprint of what a text says, blind to case, punctuation, links, numbers' formatting and whitespace:
 * the same post copied to another site (or syndicated under another URL) gets the same fingerprint. Texts under
 * twelve words get none: short texts ("Thanks!", a bare link) collide by chance.
 */
export function textFingerprint(text: string): string | null {
  const words = text
    .toLowerCase()
    .replace(/https?:\/\/\S+/g, ' ')
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean);
  if (words.length < 12) return null;
  return createHash('sha256').update(words.join(' ')).digest('hex').slice(0, 32);
}
