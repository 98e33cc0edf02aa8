/**
 * Registration with an emailed code. The answer is the same whether or not the address has an
 * account, and so is the work: the input is checked before anything looks the address up,
 * both argon2 hashes (password and code) are made on both paths, and both count an issue
 * against the address's cap. The owner of a taken address gets an email saying so instead of a
 * code. The registration itself (name and password hash) waits in its code's payload until the
 * code is presented; a new registration of the same address voids every earlier one, so the
 * first registrant's code can no longer activate the first password (pre-hijacking).
 */
import { recordRefusal } from './audit-refusals.js';
import type { AuthDeps, ClientInfo } from './deps.js';
import { CODE_TTL_SECONDS, claimCodeIssue, consumeCode, prepareCode, storeCode } from './one-time-codes.js';
import { assertPasswordAcceptable } from './password-policy.js';
import { hashPassword } from './passwords.js';
import { assertStorableText, registrationName } from './text-input.js';

export interface RegisterInput extends ClientInfo {
  email: string;
  password: string;
  name: string;
}

export async function register(deps: AuthDeps, input: RegisterInput): Promise<{ status: 'pending_verification' }> {
  assertStorableText({ email: input.email, password: input.password, name: input.name });
  const name = registrationName(input.name);
  assertPasswordAcceptable(input.password);
  const passwordHash = await hashPassword(input.password);
  const { code, codeHash } = await prepareCode();
  const existing = await deps.users.findByEmail(input.email);
  // Past the cap nothing is sent: no code, and no "account exists" email either (no inbox flooding).
  const mayIssue = await claimCodeIssue(deps.codes, 'verify_email', input.email);
  const client = { ip: input.ip, userAgent: input.userAgent };
  if (existing) {
    if (mayIssue) await deps.requestEmail({ to: existing.email, template: 'account_exists', variables: { name: existing.name } });
    // Past the cap nothing is sent and anyone may repeat it: counted (audit-refusals.ts).
    const entry = { userId: existing.id, ...client, details: { emailed: mayIssue } };
    await (mayIssue ? deps.audit.record('registration_existing_email', entry) : recordRefusal(deps.audit, 'registration_existing_email', entry));
  } else {
    if (mayIssue) {
      await storeCode(deps.codes, 'verify_email', input.email, codeHash, { name, passwordHash });
      // No name in this email: whoever registered typed it, and may not own this mailbox.
      await deps.requestEmail({ to: input.email, template: 'verify_email', variables: { code, expiresInMinutes: CODE_TTL_SECONDS / 60 } });
    }
    await deps.audit.record('registration_requested', { ...client, details: { emailed: mayIssue } });
  }
  return { status: 'pending_verification' };
}

export interface VerifyEmailInput extends ClientInfo {
  email: string;
  code: string;
}

/** Presenting the code creates the account (a verified employee) from its registration. */
export async function verifyEmail(deps: AuthDeps, input: VerifyEmailInput): Promise<{ status: 'verified' }> {
  assertStorableText({ email: input.email, code: input.code });
  const payload = await consumeCode(deps.codes, 'verify_email', input.email, input.code);
  const created = await deps.users.createVerifiedIfAbsent({
    email: input.email,
    name: String(payload.name),
    role: 'employee',
    passwordHash: String(payload.passwordHash),
  });
  if (created) {
    await deps.audit.record('email_verified', { userId: created.id, ip: input.ip, userAgent: input.userAgent });
    deps.logger.info('user registered', { userId: created.id });
  }
  return { status: 'verified' };
}
