import { createHash, randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { type AppConfig } from '../kernel/config/config';
import { Clock } from '../kernel/clock/clock';
import { ValidationError } from '../kernel/errors/domain-error';
import { SigningKey } from '../kernel/secrets/signing-key';
import { RateLimiter } from './rate-limiter';

const PURPOSE = 'signup-challenge';

/** What a client needs to answer a challenge (GET /api/v1/public/subscribe/challenge). */
export interface ChallengeOffer {
  /** "pow" here; a captcha adapter names its own kind (and adds what its widget needs). */
  kind: string;
  /** Signed, expiring and single-use: sent back with the answer. */
  token: string;
  /** Proof of work: the SHA-256 of `${token}:${answer}` must start with this many zero bits. */
  bits?: number;
  expiresAt: string;
  [extra: string]: unknown;
}

/** The client's answer, as the form (`challenge_token`, `challenge_answer`) or the JSON API (`challenge: {token, answer}`) sends it. */
export interface ChallengeAnswer {
  token?: unknown;
  answer?: unknown;
}

export type ChallengeProblem = 'challenge_required' | 'challenge_invalid' | 'challenge_expired' | 'challenge_used' | 'challenge_wrong';

/** A sign-up whose challenge answer is missing, forged, expired, used before or wrong (400, with a code per case). */
export class ChallengeError extends ValidationError {
  override readonly code: string;
  constructor(problem: ChallengeProblem, message: string) {
    super(message, [{ field: 'challenge', message }]);
    this.code = problem;
  }
}

/**
 * The port of the optional sign-up challenge. Built in: none (the default) and a hashcash-style proof of work that
 * needs no third party. An operator plugs a captcha provider in by providing another implementation for this
 * token (issue what its widget needs; verify the widget's answer with the provider, throwing ChallengeError).
 */
export abstract class SignupChallenge {
  /** "off" when sign-ups need no challenge. */
  abstract readonly kind: string;
  /** A fresh challenge, or null when sign-ups need none. */
  abstract issue(): Promise<ChallengeOffer | null>;
  /** Accepts a correct, unused, unexpired answer (and uses it up); throws ChallengeError otherwise. */
  abstract verify(answer: ChallengeAnswer | undefined, context: { ip: string | null }): Promise<void>;
}

/** The default: sign-ups need no challenge (the rate limits and double opt-in still apply). */
export class NoChallenge extends SignupChallenge {
  readonly kind = 'off';
  async issue(): Promise<null> {
    return null;
  }
  async verify(): Promise<void> {}
}

/** How many leading zero bits a digest starts with. */
export function leadingZeroBits(digest: Buffer): number {
  let bits = 0;
  for (const byte of digest) {
    if (byte === 0) {
      bits += 8;
      continue;
    }
    return bits + Math.clz32(byte) - 24;
  }
  return bits;
}

/** Finds an answer for a proof-of-work challenge (what the form's script does in the browser; for tests and API clients). */
export function solveProofOfWork(token: string, bits: number): string {
  for (let n = 0; ; n++) {
    if (leadingZeroBits(createHash('sha256').update(`${token}:${n}`).digest()) >= bits) return String(n);
  }
}

/**
 * Hashcash-style proof of work: the token is `nonce:expiresAt:bits`, signed under its own purpose; an answer is
 * accepted when SHA-256(`token:answer`) starts with `bits` zero bits, the token has not expired, and it was not used
 * before (one atomic insert-if-absent in PostgreSQL, so that holds across instances).
 */
@Injectable()
export class ProofOfWorkChallenge extends SignupChallenge {
  readonly kind = 'pow';

  constructor(
    private readonly keys: SigningKey,
    private readonly limiter: RateLimiter,
    private readonly clock: Clock,
    private readonly settings: AppConfig['subscribers']['challenge'],
  ) {
    super();
  }

  async issue(): Promise<ChallengeOffer> {
    const expiresAt = new Date(this.clock.now().getTime() + this.settings.ttlMs);
    const token = this.keys.sign(PURPOSE, `${randomBytes(16).toString('hex')}:${expiresAt.getTime()}:${this.settings.powBits}`);
    return { kind: this.kind, token, bits: this.settings.powBits, expiresAt: expiresAt.toISOString() };
  }

  async verify(answer: ChallengeAnswer | undefined): Promise<void> {
    const token = answer?.token;
    const value = answer?.answer;
    if ((token === undefined || token === '') && (value === undefined || value === '')) {
      throw new ChallengeError(
        'challenge_required',
        'Sign-ups here need a small proof of work, which the form solves in your browser: please turn on JavaScript and send the form again. (Programs: get one from GET /api/v1/public/subscribe/challenge.)',
      );
    }
    const payload = typeof token === 'string' && token.length <= 512 ? this.keys.verify(PURPOSE, token) : null;
    const match = payload ? /^([0-9a-f]{32}):(\d{1,15}):(\d{1,2})$/.exec(payload) : null;
    if (!match) throw new ChallengeError('challenge_invalid', 'This sign-up challenge is not one of ours. Please reload the form and try again.');
    const [, nonce, expires, bits] = match;
    if (this.clock.now().getTime() > Number(expires)) {
      throw new ChallengeError('challenge_expired', 'This sign-up challenge has expired. Please reload the form and try again.');
    }
    if (typeof value !== 'string' || !/^\d{1,16}$/.test(value) || Number(bits) < this.settings.powBits) {
      throw new ChallengeError('challenge_wrong', 'The answer to the sign-up challenge is wrong. Please reload the form and try again.');
    }
    if (leadingZeroBits(createHash('sha256').update(`${token}:${value}`).digest()) < Number(bits)) {
      throw new ChallengeError('challenge_wrong', 'The answer to the sign-up challenge is wrong. Please reload the form and try again.');
    }
    // Used once: the first verification claims the nonce until the token expires (old claims are pruned after that).
    if (!(await this.limiter.claimOnce(`${PURPOSE}:${nonce}`, new Date(Number(expires))))) {
      throw new ChallengeError('challenge_used', 'This sign-up challenge was used already. Please reload the form and try again.');
    }
  }
}
