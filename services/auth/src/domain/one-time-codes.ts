/**
 * Six-digit one-time codes for email verification and password reset: drawn from a CSPRNG,
 * stored as argon2id hashes, valid 10 minutes, single use. A new code voids the earlier ones
 * of its purpose and address, and a guess is compared with the newest code only.
 *
 * Guessing is capped per purpose and address, not per code: MAX_CODE_FAILURES tries in
 * CODE_FAILURE_WINDOW_SECONDS, then 429 until the window ends, however many codes are issued
 * meanwhile (when a new code restarted the count, re-issuing one was a way to guess for ever).
 * A try is reserved before the code is checked, so concurrent guesses cannot exceed the cap,
 * and given back when the code was right. At most MAX_CODES_PER_WINDOW codes are issued per
 * purpose and address in a window; past it the request answers the same and issues nothing.
 * Tries are counted whether or not a code exists, so the answers reveal nothing about accounts.
 */
import { randomInt, randomUUID } from 'node:crypto';
import { AppError } from '@warren/shared/errors';
import { hashPassword, spendVerificationTime, verifyPassword } from './passwords.js';
import type { CodePurpose, OneTimeCodeStore } from './ports.js';

export const CODE_TTL_SECONDS = 600;
export const MAX_CODE_FAILURES = 5;
export const CODE_FAILURE_WINDOW_SECONDS = 3600;
export const MAX_CODES_PER_WINDOW = 5;
export const CODE_ISSUE_WINDOW_SECONDS = 3600;

export function newCode(): string {
  return randomInt(0, 1_000_000).toString().padStart(6, '0');
}

/** A fresh code and its hash, made before the caller branches on whether the account exists. */
export async function prepareCode(): Promise<{ code: string; codeHash: string }> {
  const code = newCode();
  return { code, codeHash: await hashPassword(code) };
}

/** Whether another code may be issued to the address in this window (counts this one). */
export function claimCodeIssue(codes: OneTimeCodeStore, purpose: CodePurpose, email: string): Promise<boolean> {
  return codes.claimIssue(purpose, email, MAX_CODES_PER_WINDOW, CODE_ISSUE_WINDOW_SECONDS);
}

/** Stores a prepared code as the address's only live one for the purpose. */
export async function storeCode(
  codes: OneTimeCodeStore,
  purpose: CodePurpose,
  email: string,
  codeHash: string,
  payload: object,
): Promise<void> {
  await codes.replace({ id: randomUUID(), purpose, email, codeHash, payload, ttlSeconds: CODE_TTL_SECONDS });
}

/** The payload the code was issued with, if the code is the newest, right, live and not over-tried. */
export async function consumeCode(
  codes: OneTimeCodeStore,
  purpose: CodePurpose,
  email: string,
  code: string,
): Promise<Record<string, unknown>> {
  const slot = await codes.reserveAttempt(purpose, email, MAX_CODE_FAILURES, CODE_FAILURE_WINDOW_SECONDS);
  if (!slot.granted) throw tooManyAttempts(slot.retryAfterSeconds);

  const newest = /^\d{6}$/.test(code) ? await codes.newest(purpose, email) : undefined;
  // No code to compare with still costs a verification: the timing says nothing about the address.
  const right = newest ? await verifyPassword(newest.codeHash, code) : (await spendVerificationTime(code), false);
  if (right && newest && !newest.usedAt) {
    if (newest.expiresAt.getTime() <= Date.now()) {
      await codes.refundAttempt(purpose, email);
      throw AppError.badRequest('code_expired', 'The code has expired; ask for a new one.');
    }
    const payload = await codes.consume(newest.id);
    if (payload) {
      await codes.refundAttempt(purpose, email);
      return payload;
    }
    // Another request used it a moment ago: from here it is a used code, a wrong try.
  }
  if (slot.tries >= MAX_CODE_FAILURES) throw tooManyAttempts(slot.retryAfterSeconds);
  throw AppError.badRequest('invalid_code', 'The code is wrong or has already been used.');
}

function tooManyAttempts(retryAfterSeconds: number) {
  return new AppError({
    status: 429,
    code: 'too_many_attempts',
    title: 'Too Many Requests',
    detail: 'Too many wrong codes; try again later.',
    headers: { 'Retry-After': String(retryAfterSeconds) },
  });
}
