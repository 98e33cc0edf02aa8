/**
 * Password policy (OWASP ASVS 2.1): 8 to 128 characters, counted as Unicode code points and
 * never truncated; any characters allowed; refused if it is among the most common passwords
 * (the zxcvbn-ts list: about 49 000 entries, ranked by frequency in real leaks).
 */
import { dictionary } from '@zxcvbn-ts/language-common';
import { AppError } from '@warren/shared/errors';

export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 128;

const COMMON = new Set((dictionary['passwords-common'] as string[]).map((p) => p.toLowerCase()));

export function passwordProblem(password: string): string | undefined {
  const length = [...password].length;
  if (length < PASSWORD_MIN) return `must be at least ${PASSWORD_MIN} characters`;
  if (length > PASSWORD_MAX) return `must be at most ${PASSWORD_MAX} characters`;
  if (COMMON.has(password.toLowerCase())) return 'is too common; choose one that is harder to guess';
  return undefined;
}

export function assertPasswordAcceptable(password: string, field = 'password'): void {
  const problem = passwordProblem(password);
  if (problem) throw AppError.validation([{ path: field, message: `The password ${problem}.` }], 'The password is not acceptable.');
}
