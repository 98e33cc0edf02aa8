/**
 * Login: one generic 401 for a wrong email or a wrong password (and similar timing, thanks to
 * a dummy verification when the email is unknown); 403 for an unverified account, said only
 * after the password was right so it reveals nothing to a guesser. A success creates a
 * session with its first refresh token and answers the contract's token pair.
 */
import { randomUUID } from 'node:crypto';
import type { TokenPair } from '@warren/shared/contracts/auth-rpc';
import { AppError } from '@warren/shared/errors';
import type { Logger } from '@warren/shared/logger';
import type { SessionsRepository } from '../db/sessions-repository.js';
import type { UsersRepository } from '../db/users-repository.js';
import { spendVerificationTime, verifyPassword } from './passwords.js';
import type { SigningKeys } from './signing-keys.js';
import { hashRefreshToken, newRefreshToken, signAccessToken } from './tokens.js';

export interface LoginDeps {
  users: UsersRepository;
  sessions: SessionsRepository;
  keys: SigningKeys;
  logger: Logger;
  settings: { issuer: string; audience: string; accessTokenTtlSeconds: number; refreshTokenTtlSeconds: number };
}

export interface LoginInput {
  email: string;
  password: string;
  userAgent?: string | undefined;
  ip?: string | undefined;
}

const INVALID_CREDENTIALS = () => AppError.unauthorized('invalid_credentials', 'The email or password is incorrect.');
/** argon2 cost grows with input; a cap keeps a huge "password" from being a DoS. */
const MAX_PASSWORD_LENGTH = 1024;

export async function login(deps: LoginDeps, input: LoginInput): Promise<TokenPair> {
  if (input.password.length > MAX_PASSWORD_LENGTH) throw INVALID_CREDENTIALS();
  const user = await deps.users.findByEmail(input.email);
  if (!user) {
    await spendVerificationTime(input.password);
    deps.logger.info('login failed', { reason: 'unknown_email' });
    throw INVALID_CREDENTIALS();
  }
  if (!(await verifyPassword(user.passwordHash, input.password))) {
    deps.logger.info('login failed', { userId: user.id, reason: 'wrong_password' });
    throw INVALID_CREDENTIALS();
  }
  if (!user.emailVerifiedAt) {
    throw AppError.forbidden('email_not_verified', 'Verify your email address before logging in.');
  }
  return startSession(deps, user, input);
}

async function startSession(
  deps: LoginDeps,
  user: { id: string; email: string; name: string; role: TokenPair['user']['role'] },
  input: LoginInput,
): Promise<TokenPair> {
  const { settings } = deps;
  const sessionId = randomUUID();
  const refreshToken = newRefreshToken();
  const expiresAt = new Date(Date.now() + settings.refreshTokenTtlSeconds * 1000);
  await deps.sessions.create({
    id: sessionId,
    userId: user.id,
    expiresAt,
    userAgent: input.userAgent,
    ip: input.ip,
    refreshTokenHash: hashRefreshToken(refreshToken),
  });
  const permissions = await deps.users.permissionsOf(user.role);
  const accessToken = signAccessToken(await deps.keys.signingKey(), {
    userId: user.id,
    sessionId,
    role: user.role,
    permissions,
    issuer: settings.issuer,
    audience: settings.audience,
    ttlSeconds: settings.accessTokenTtlSeconds,
  });
  deps.logger.info('login succeeded', { userId: user.id, sessionId });
  return {
    accessToken,
    refreshToken,
    tokenType: 'Bearer',
    expiresIn: settings.accessTokenTtlSeconds,
    user: { id: user.id, email: user.email, name: user.name, role: user.role },
    permissions,
    session: { id: sessionId, expiresAt: expiresAt.toISOString() },
  };
}
