import { domainToASCII } from 'node:url';
import MailSpellChecker from '@zootools/email-spell-checker';

/**
 * Email addresses as we accept them: what RFC 5321 lets an SMTP server relay, in the dot-atom form people
 * actually type. Each refusal says which rule was broken. The domain is lower-cased and IDN labels become
 * punycode (WHATWG `domainToASCII`, the same mapping browsers use); the local part is kept as typed (only
 * compared without case). Nothing else is ever changed: a likely typo is a suggestion, not a correction.
 */
export type AddressCheck = { ok: true; email: string; suggestion: string | null } | { ok: false; problem: string; rule: string };

/** RFC 5321 §4.5.3.1: 64 octets of local part, 255 of domain, 63 per label; a path of 256 leaves 254 for the address. */
export const LIMITS = { address: 254, local: 64, domain: 253, label: 63 } as const;

// atext of RFC 5322 §3.2.3, dot-separated: no quoted strings, no comments, no IP literals.
const ATOM = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+$/;
const LABEL = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;
// Control and format characters (CR, LF, NUL, zero-width joiners, bidi overrides, …) and line/paragraph separators.
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;

const refuse = (rule: string, problem: string): AddressCheck => ({ ok: false, rule, problem });

export function checkEmailAddress(input: unknown): AddressCheck {
  if (typeof input !== 'string') return refuse('missing', 'Please enter your email address.');
  if (input.length > 1000) return refuse('too_long', `This address is too long: an email address has at most ${LIMITS.address} characters.`);
  if (INVISIBLE.test(input))
    return refuse('control_characters', 'This address contains invisible or control characters (such as a line break). Please type it again.');
  const value = input.normalize('NFC').trim();
  if (value === '') return refuse('missing', 'Please enter your email address.');
  if (/\s/u.test(value)) return refuse('spaces', 'An email address cannot contain spaces.');
  const at = value.lastIndexOf('@');
  if (at < 0) return refuse('no_at', 'An email address needs an @, like name@example.com.');
  const local = value.slice(0, at);
  const rawDomain = value.slice(at + 1);
  if (local === '') return refuse('local_empty', 'Something is missing before the @, like name@example.com.');
  if (local.includes('@')) return refuse('two_ats', 'An email address has only one @.');
  if (rawDomain === '') return refuse('domain_empty', 'Something is missing after the @, like name@example.com.');
  if (local.startsWith('"')) return refuse('quoted_local', 'Quoted addresses ("…"@example.com) are not supported. Please use a plain address.');
  if (/[^\x21-\x7e]/.test(local))
    return refuse('local_not_ascii', 'The part before the @ may only contain plain letters, digits and . _ + - and similar characters.');
  if (local.length > LIMITS.local) return refuse('local_too_long', `The part before the @ is ${local.length} characters long; the limit is ${LIMITS.local}.`);
  if (local.split('.').some((atom) => !ATOM.test(atom))) {
    return refuse(
      'local_invalid',
      local.startsWith('.') || local.endsWith('.') || local.includes('..')
        ? 'The part before the @ cannot start or end with a dot or have two dots in a row.'
        : 'The part before the @ contains a character that email addresses cannot have (such as , ; : < > ( ) [ ] \\ or ").',
    );
  }
  if (rawDomain.startsWith('[')) return refuse('ip_literal', 'Addresses at an IP address ([…]) are not supported. Please use an address at a domain name.');
  // WHATWG mapping: lower-cases, maps full-width dots, converts Unicode labels to punycode; '' when invalid.
  const domain = domainToASCII(rawDomain.replace(/\.$/, ''));
  if (!domain) return refuse('domain_invalid', `"${rawDomain}" is not a valid domain name.`);
  if (domain.length > LIMITS.domain) return refuse('domain_too_long', `The domain is ${domain.length} characters long; the limit is ${LIMITS.domain}.`);
  const labels = domain.split('.');
  if (labels.length < 2) return refuse('domain_no_dot', `The domain "${rawDomain}" needs a dot, like example.com.`);
  const longLabel = labels.find((l) => l.length > LIMITS.label);
  if (longLabel)
    return refuse('label_too_long', `A part of the domain is ${longLabel.length} characters long; each part between dots has at most ${LIMITS.label}.`);
  if (labels.some((l) => !LABEL.test(l)))
    return refuse(
      'domain_invalid',
      `"${rawDomain}" is not a valid domain name: each part has letters, digits or hyphens, and no part starts or ends with a hyphen.`,
    );
  const tld = labels[labels.length - 1];
  if (/^\d+$/.test(tld) || tld.length < 2) return refuse('tld_invalid', `"${rawDomain}" does not end in a real top-level domain (like .com or .org).`);
  const email = `${local}@${domain}`;
  if (email.length > LIMITS.address) return refuse('too_long', `This address is ${email.length} characters long; the limit is ${LIMITS.address}.`);
  return { ok: true, email, suggestion: suggestCorrection(email) };
}

/** "Did you mean …?" for a common provider or top-level domain typed wrong; null when nothing stands out. */
export function suggestCorrection(email: string): string | null {
  const at = email.lastIndexOf('@');
  const suggested = MailSpellChecker.run({ email: email.toLowerCase() });
  if (!suggested || suggested.domain === email.slice(at + 1).toLowerCase()) return null;
  return `${email.slice(0, at)}@${suggested.domain}`;
}
