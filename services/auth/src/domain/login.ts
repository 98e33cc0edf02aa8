/**
 * Login. One generic 401 for a wrong email or a wrong password, with similar timing (an
 * unknown email still costs an argon2 verification). 403 for an address whose registration is
 * not verified yet, said only to someone who knows its password.
 *
 * Failures are counted per email AND client address (unknown emails too, so the answers
 * reveal nothing), so a stranger's guesses cannot lock
 * the owner out from everywhere: after a few failures in a row an address waits before its next
 * try (1 s, 2 s, 4 s … answered 429 with Retry-After, never by holding the request), and at
 * LOGIN_LOCKOUT_THRESHOLD failures it is locked out of that account for LOGIN_LOCKOUT_SECONDS
 * (423 with Retry-After). Each attempt is reserved before the password is checked, so
 * concurrent guesses cannot exceed the threshold. A success clears that address; a password
 * reset clears them all. When the account sees LOGIN_LOCKOUT_THRESHOLD failures from any
 * addresses within LOGIN_ALERT_WINDOW_SECONDS, its owner is emailed, once per window; at 20 times
 * that, addresses that never held a session of the account wait for the window to end (429), so
 * a guessing run spread over many addresses is bounded too.
 */
import { randomUUID } from 'node:crypto';
import type { TokenPair } from '@warren/shared/contracts/auth-rpc';
import { AppError } from '@warren/shared/errors';
import { recordRefusal } from './audit-refusals.js';
import type { AuthDeps, ClientInfo } from './deps.js';
import { spendVerificationTime, verifyPassword } from './passwords.js';
import type { LockoutPolicy } from './ports.js';
import { tokenPair, type TokenUser } from './session-tokens.js';
import { assertStorableText } from './text-input.js';
import { hashRefreshToken, newRefreshToken } from './tokens.js';

export interface LoginInput extends ClientInfo {
  email: string;
  password: string;
}

const invalidCredentials = () => AppError.unauthorized('invalid_credentials', 'The email or password is incorrect.');
/** argon2's cost grows with its input: a cap keeps a megabyte "password" from being a DoS. */
const MAX_PASSWORD_INPUT = 1024;

function secondsUntil(until: Date): string {
  return String(Math.max(1, Math.ceil((until.getTime() - Date.now()) / 1000)));
}

export function locked(until: Date): AppError {
  return new AppError({
    status: 423,
    code: 'account_locked',
    title: 'Locked',
    detail: 'Too many failed logins; try again later or reset the password.',
    headers: { 'Retry-After': secondsUntil(until) },
  });
}

function throttled(until: Date): AppError {
  return new AppError({
    status: 429,
    code: 'login_throttled',
    title: 'Too Many Requests',
    detail: 'Too many failed logins from this address; wait before trying again.',
    headers: { 'Retry-After': secondsUntil(until) },
  });
}

export async function login(deps: AuthDeps, input: LoginInput): Promise<TokenPair> {
  assertStorableText({ email: input.email, password: input.password });
  const client = { ip: input.ip, userAgent: input.userAgent };
  if (input.password.length > MAX_PASSWORD_INPUT) throw invalidCredentials();
  const user = await deps.users.findByEmail(input.email);
  // Counted per email as typed, account or not: an unknown email is delayed and locked exactly
  // like a real one. Requests that reach auth without an address share one count.
  const address = input.ip ?? '';
  const { threshold, seconds: lockSeconds, alertWindowSeconds: windowSeconds } = deps.settings.lockout;
  const policy = { threshold, lockSeconds, windowSeconds };
  const reservation = await deps.loginFailures.reserve(input.email, address, policy, user?.id);
  // Refused before any password check, so free to repeat: counted, not a row each (audit-refusals.ts).
  if (reservation.kind === 'locked') {
    await recordRefusal(deps.audit, 'login_refused_locked', { userId: user?.id, ...client });
    throw locked(reservation.until);
  }
  if (reservation.kind === 'throttled') {
    await recordRefusal(deps.audit, 'login_throttled', { userId: user?.id, ...client });
    throw throttled(reservation.until);
  }
  if (!user) {
    await refuseUnknown(deps, input, address);
    await deps.audit.record('login_failed', { ...client, details: { reason: 'unknown_email' } });
    throw await failed(deps, input.email, address, policy, client);
  }
  if (!(await verifyPassword(user.passwordHash, input.password))) {
    await deps.audit.record('login_failed', { userId: user.id, ...client, details: { reason: 'wrong_password' } });
    if (await deps.loginFailures.countForAlert(user, policy)) {
      await deps.audit.record('login_failures_alerted', { userId: user.id, ...client });
    }
    throw await failed(deps, input.email, address, policy, client, user.id);
  }
  await deps.loginFailures.clear(input.email, address);
  if (!user.emailVerifiedAt) throw notVerified();
  const pair = await startSession(deps, user, client);
  await deps.audit.record('login_succeeded', { userId: user.id, ...client, details: { sessionId: pair.session.id } });
  deps.logger.info('login succeeded', { userId: user.id, sessionId: pair.session.id });
  return pair;
}

/** Records a failed attempt: the error to answer, 423 if it locked the address out. */
async function failed(
  deps: AuthDeps,
  email: string,
  address: string,
  policy: LockoutPolicy,
  client: ClientInfo,
  userId?: string,
): Promise<AppError> {
  const { lockedUntil } = await deps.loginFailures.recordFailure(email, address, policy);
  if (!lockedUntil) return invalidCredentials();
  await deps.audit.record('account_locked', { userId, ...client, details: { until: lockedUntil.toISOString() } });
  if (userId) deps.logger.warn('address locked out of an account', { userId });
  return locked(lockedUntil);
}

/**
 * No account has this email. If a registration for it awaits verification and the password is
 * its password, say so (403); otherwise spend the time a real check would have taken.
 */
async function refuseUnknown(deps: AuthDeps, input: LoginInput, address: string): Promise<void> {
  // Only the newest registration is pending: a later one voided the earlier ones.
  const hash = (await deps.codes.newestLive('verify_email', input.email))?.payload.passwordHash;
  if (typeof hash !== 'string') return spendVerificationTime(input.password);
  if (await verifyPassword(hash, input.password)) {
    await deps.loginFailures.clear(input.email, address);
    throw notVerified();
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
