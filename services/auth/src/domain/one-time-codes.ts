/**
 * Six-digit one-time codes for email verification and password reset: drawn from a CSPRNG,
 * stored as argon2id hashes, valid 10 minutes, single use. Five wrong tries on an address kill
 * its codes (429) until a new one is issued; tries are counted whether or not a code exists,
 * so the answers reveal nothing about accounts. Wrong, used and expired codes are all 400.
 */
import { randomInt, randomUUID } from 'node:crypto';
import { AppError } from '@warren/shared/errors';
import { CodesRepository, type CodePurpose } from '../db/codes-repository.js';
import { hashPassword, verifyPassword } from './passwords.js';

export const CODE_TTL_SECONDS = 600;
export const MAX_CODE_ATTEMPTS = 5;

export function newCode(): string {
  return randomInt(0, 1_000_000).toString().padStart(6, '0');
}

export async function issueCode(codes: CodesRepository, purpose: CodePurpose, email: string, payload: object): Promise<string> {
  const code = newCode();
  await codes.insert({ id: randomUUID(), purpose, email, codeHash: await hashPassword(code), payload, ttlSeconds: CODE_TTL_SECONDS });
  return code;
}

type Outcome = { ok: true; payload: Record<string, unknown> } | { ok: false; error: AppError };

/** The payload the code was issued with, if the code is right, live and not over-tried. */
export async function consumeCode(
  codes: CodesRepository,
  purpose: CodePurpose,
  email: string,
  code: string,
): Promise<Record<string, unknown>> {
  // The outcome is decided inside the transaction (so a failure is counted) and thrown after it.
  const outcome = await codes.withAttempts<Outcome>(purpose, email, async ({ failures, recent, tx }) => {
    if (failures >= MAX_CODE_ATTEMPTS) return { ok: false, error: tooManyAttempts() };
    const wellFormed = /^\d{6}$/.test(code);
    for (const candidate of wellFormed ? recent : []) {
      if (!(await verifyPassword(candidate.codeHash, code))) continue;
      if (candidate.usedAt) break; // used: counted as a wrong try below
      if (candidate.expiresAt.getTime() <= Date.now()) {
        return { ok: false, error: AppError.badRequest('code_expired', 'The code has expired; ask for a new one.') };
      }
      await CodesRepository.consumeAll(tx, purpose, email);
      return { ok: true, payload: candidate.payload };
    }
    const now = await CodesRepository.recordFailure(tx, purpose, email);
    return {
      ok: false,
      error: now >= MAX_CODE_ATTEMPTS ? tooManyAttempts() : AppError.badRequest('invalid_code', 'The code is wrong or has already been used.'),
    };
  });
  if (!outcome.ok) throw outcome.error;
  return outcome.payload;
}

function tooManyAttempts() {
  return new AppError(429, 'too_many_attempts', 'Too Many Requests', 'Too many wrong codes; ask for a new one.');
}
