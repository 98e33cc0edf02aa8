/**
 * Login. One generic 401 for a wrong email or a wrong password, with similar timing (an
 * unknown email still costs an argon2 verification). 403 for an address whose registration is
 * not verified yet, said only to someone who knows its password. After
 * LOGIN_LOCKOUT_THRESHOLD consecutive failures the account is locked for LOGIN_LOCKOUT_SECONDS:
 * 423 with Retry-After; a success resets the count; a password reset lifts the lock.
 */
import { randomUUID } from 'node:crypto';
import type { TokenPair } from '@warren/shared/contracts/auth-rpc';
import { AppError } from '@warren/shared/errors';
import type { AuthDeps, ClientInfo } from './deps.js';
import { spendVerificationTime, verifyPassword } from './passwords.js';
import { tokenPair, type TokenUser } from './session-tokens.js';
import { hashRefreshToken, newRefreshToken } from './tokens.js';

export interface LoginInput extends ClientInfo {
  email: string;
  password: string;
}

const invalidCredentials = () => AppError.unauthorized('invalid_credentials', 'The email or password is incorrect.');
/** argon2's cost grows with its input: a cap keeps a megabyte "password" from being a DoS. */
const MAX_PASSWORD_INPUT = 1024;

export function locked(until: Date): AppError {
  const seconds = Math.max(1, Math.ceil((until.getTime() - Date.now()) / 1000));
  return new AppError(423, 'account_locked', 'Locked', 'Too many failed logins; try again later or reset the password.', undefined, {
    'Retry-After': String(seconds),
  });
}

export async function login(deps: AuthDeps, input: LoginInput): Promise<TokenPair> {
  const client = { ip: input.ip, userAgent: input.userAgent };
  if (input.password.length > MAX_PASSWORD_INPUT) throw invalidCredentials();
  const user = await deps.users.findByEmail(input.email);
  if (!user) {
    await refuseUnknown(deps, input);
    await deps.audit.record('login_failed', { ...client, details: { reason: 'unknown_email' } });
    throw invalidCredentials();
  }
  if (user.lockedUntil && user.lockedUntil > new Date()) {
    await deps.audit.record('login_refused_locked', { userId: user.id, ...client });
    throw locked(user.lockedUntil);
  }
  if (!(await verifyPassword(user.passwordHash, input.password))) {
    const { lockedUntil } = await deps.users.recordFailedLogin(user.id, deps.settings.lockout.threshold, deps.settings.lockout.seconds);
    await deps.audit.record('login_failed', { userId: user.id, ...client, details: { reason: 'wrong_password' } });
    if (lockedUntil) {
      await deps.audit.record('account_locked', { userId: user.id, ...client, details: { until: lockedUntil.toISOString() } });
      deps.logger.warn('account locked', { userId: user.id });
      throw locked(lockedUntil);
    }
    throw invalidCredentials();
  }
  if (!user.emailVerifiedAt) throw notVerified();
  await deps.users.clearFailedLogins(user.id);
  const pair = await startSession(deps, user, client);
  await deps.audit.record('login_succeeded', { userId: user.id, ...client, details: { sessionId: pair.session.id } });
  deps.logger.info('login succeeded', { userId: user.id, sessionId: pair.session.id });
  return pair;
}

/**
 * No account has this email. If a registration for it awaits verification and the password is
 * its password, say so (403); otherwise spend the time a real check would have taken.
 */
async function refuseUnknown(deps: AuthDeps, input: LoginInput): Promise<void> {
  const pending = await deps.codes.live('verify_email', input.email);
  if (pending.length === 0) return spendVerificationTime(input.password);
  for (const p of pending) {
    const hash = p.payload.passwordHash;
    if (typeof hash === 'string' && (await verifyPassword(hash, input.password))) throw notVerified();
  }
}

function notVerified() {
  return AppError.forbidden('email_not_verified', 'Verify your email address before logging in.');
}

export async function startSession(deps: AuthDeps, user: TokenUser, client: ClientInfo): Promise<TokenPair> {
  const sessionId = randomUUID();
  const refreshToken = newRefreshToken();
  const expiresAt = new Date(Date.now() + deps.settings.refreshTokenTtlSeconds * 1000);
  await deps.sessions.create({
    id: sessionId,
    userId: user.id,
    expiresAt,
    userAgent: client.userAgent,
    ip: client.ip,
    refreshTokenHash: hashRefreshToken(refreshToken),
  });
  return tokenPair(deps, user, { id: sessionId, expiresAt }, refreshToken);
}
