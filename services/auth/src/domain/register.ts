/**
 * Registration with an emailed code. The answer is the same whether or not the address has an
 * account (and costs the same time: the password is hashed either way); the owner of a taken
 * address gets an email saying so instead of a code. The registration itself (name and password
 * hash) waits in its code's payload until the code is presented.
 */
import type { AuthDeps, ClientInfo } from './deps.js';
import { CODE_TTL_SECONDS, consumeCode, issueCode } from './one-time-codes.js';
import { assertPasswordAcceptable } from './password-policy.js';
import { hashPassword } from './passwords.js';

export interface RegisterInput extends ClientInfo {
  email: string;
  password: string;
  name: string;
}

export async function register(deps: AuthDeps, input: RegisterInput): Promise<{ status: 'pending_verification' }> {
  assertPasswordAcceptable(input.password);
  const name = input.name.trim();
  const passwordHash = await hashPassword(input.password);
  const existing = await deps.users.findByEmail(input.email);
  const client = { ip: input.ip, userAgent: input.userAgent };
  if (existing) {
    await deps.requestEmail({ to: existing.email, template: 'account_exists', variables: { name: existing.name } });
    await deps.audit.record('registration_existing_email', { userId: existing.id, ...client });
  } else {
    const code = await issueCode(deps.codes, 'verify_email', input.email, { name, passwordHash });
    await deps.requestEmail({
      to: input.email,
      template: 'verify_email',
      variables: { name, code, expiresInMinutes: CODE_TTL_SECONDS / 60 },
    });
    await deps.audit.record('registration_requested', { ...client });
  }
  return { status: 'pending_verification' };
}

export interface VerifyEmailInput extends ClientInfo {
  email: string;
  code: string;
}

/** Presenting the code creates the account (a verified employee) from its registration. */
export async function verifyEmail(deps: AuthDeps, input: VerifyEmailInput): Promise<{ status: 'verified' }> {
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
