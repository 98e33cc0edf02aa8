/**
 * Checks on free text that the auth service stores or mails, made at the top of each use case,
 * before anything branches on whether an account exists: a bad input gets the same 400 for a
 * taken and a free address. PostgreSQL cannot store U+0000 in text or jsonb, so a NUL that got
 * this far used to fail only on the path that stores it (a 500 there, a 202 on the other).
 * The main backend validates too; this keeps the RPC safe for any other caller.
 */
import { AppError } from '@warren/shared/errors';
import { hasUnstorableText } from '@warren/shared/json-limits';

export const NAME_MAX = 100;
const CONTROL = /\p{Cc}/u;

/** The longest email address (RFC 5321 path limit); longer ones could not even be index keys. */
export const EMAIL_MAX = 254;

/** 400 naming every field that holds U+0000 or an unpaired surrogate (PostgreSQL cannot store them), and `email` if longer than EMAIL_MAX. */
export function assertStorableText(fields: Record<string, string>): void {
  const bad = Object.entries(fields).filter(([, v]) => hasUnstorableText(v));
  const errors = bad.map(([path]) => ({ path, message: 'must not contain U+0000 or an unpaired surrogate' }));
  if (fields.email !== undefined && fields.email.length > EMAIL_MAX) errors.push({ path: 'email', message: `must be at most ${EMAIL_MAX} characters` });
  if (errors.length) throw AppError.validation(errors);
}

/**
 * A display name: trimmed, 1 to NAME_MAX UTF-16 units (as zod counts them at the edge and in the
 * email contract), no control characters (NUL, line breaks, escapes).
 */
export function registrationName(raw: string): string {
  const name = raw.trim();
  const length = name.length;
  const problem =
    length === 0 ? 'must not be empty'
    : length > NAME_MAX ? `must be at most ${NAME_MAX} characters`
    : CONTROL.test(name) ? 'must not contain control characters'
    : undefined;
  if (problem) throw AppError.validation([{ path: 'name', message: `The name ${problem}.` }]);
  return name;
}
