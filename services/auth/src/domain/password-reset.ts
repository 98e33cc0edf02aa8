/**
 * Password reset by emailed code: the same rules as the verification code (newest code only,
 * wrong tries capped per address across re-issues, codes issued capped per address), no
 * account enumeration (always 202, similar timing: a code is hashed whether or not the account
 * exists), and a successful reset ends every session of the user and lifts every lockout.
 */
import { recordRefusal } from './audit-refusals.js';
import type { AuthDeps, ClientInfo } from './deps.js';
import { CODE_TTL_SECONDS, claimCodeIssue, consumeCode, prepareCode, storeCode } from './one-time-codes.js';
import { assertPasswordAcceptable } from './password-policy.js';
import { hashPassword } from './passwords.js';
import { assertStorableText } from './text-input.js';
import { AppError } from '@warren/shared/errors';

export async function forgotPassword(deps: AuthDeps, input: { email: string } & ClientInfo): Promise<Record<string, never>> {
  assertStorableText({ email: input.email });
  const { code, codeHash } = await prepareCode();
  const user = await deps.users.findByEmail(input.email);
  if (!user) return {};
  // Past the cap the answer is the same and nothing is issued or sent.
  const mayIssue = await claimCodeIssue(deps.codes, 'password_reset', user.email);
  if (mayIssue) {
    await storeCode(deps.codes, 'password_reset', user.email, codeHash, { userId: user.id });
    await deps.requestEmail({
      to: user.email,
      template: 'password_reset',
      variables: { name: user.name, code, expiresInMinutes: CODE_TTL_SECONDS / 60 },
    });
  }
  const entry = { userId: user.id, ip: input.ip, userAgent: input.userAgent, details: { emailed: mayIssue } };
  // Past the cap nothing is sent and anyone may repeat it: counted (audit-refusals.ts).
  await (mayIssue ? deps.audit.record('password_reset_requested', entry) : recordRefusal(deps.audit, 'password_reset_requested', entry));
  return {};
}

export async function resetPassword(
  deps: AuthDeps,
  input: { email: string; code: string; newPassword: string } & ClientInfo,
): Promise<Record<string, never>> {
  assertStorableText({ email: input.email, code: input.code, newPassword: input.newPassword });
  assertPasswordAcceptable(input.newPassword, 'newPassword');
  const payload = await consumeCode(deps.codes, 'password_reset', input.email, input.code);
  const user = await deps.users.findById(String(payload.userId));
  if (!user) throw AppError.badRequest('invalid_code', 'The code is wrong or has already been used.');
  await deps.users.setPassword(user.id, await hashPassword(input.newPassword));
  const ended = await deps.sessions.revokeAll(user.id);
  await deps.audit.record('password_changed', {
    userId: user.id,
    ip: input.ip,
    userAgent: input.userAgent,
    details: { via: 'reset', sessionsEnded: ended.length },
  });
  await deps.requestEmail({ to: user.email, template: 'password_changed', variables: { name: user.name } });
  return {};
}
