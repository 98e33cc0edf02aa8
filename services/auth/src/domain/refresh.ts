/**
 * Refresh-token rotation: every use returns a new refresh token and retires the old one.
 * Presenting a retired token again means it was copied: the whole session is revoked (so the
 * thief's newer token dies too), as Supabase Auth and Hydra do and ASVS 10.4.5 asks. The
 * session keeps its absolute expiry. Of two concurrent refreshes with one token, one wins;
 * the other presented an already-rotated token and is treated as reuse.
 */
import type { TokenPair } from '@warren/shared/contracts/auth-rpc';
import { AppError } from '@warren/shared/errors';
import { recordRefusal } from './audit-refusals.js';
import type { AuthDeps, ClientInfo } from './deps.js';
import { tokenPair } from './session-tokens.js';
import { hashRefreshToken, newRefreshToken } from './tokens.js';

const invalid = () => AppError.unauthorized('invalid_refresh_token', 'The refresh token is not valid.');
const MAX_TOKEN_INPUT = 512;

export async function refresh(deps: AuthDeps, input: { refreshToken: string } & ClientInfo): Promise<TokenPair> {
  if (input.refreshToken.length > MAX_TOKEN_INPUT) throw invalid();
  const oldHash = hashRefreshToken(input.refreshToken);
  const found = await deps.sessions.findByRefreshToken(oldHash);
  if (!found) throw invalid();
  const { session } = found;
  if (found.rotatedAt) return reuse(deps, session.userId, session.id, input);
  if (session.revokedAt || session.expiresAt <= new Date()) throw invalid();

  const user = await deps.users.findById(session.userId);
  if (!user) throw invalid();
  const next = newRefreshToken();
  const rotated = await deps.sessions.rotate(oldHash, hashRefreshToken(next), session.id, input);
  if (!rotated) return reuse(deps, session.userId, session.id, input);
  return tokenPair(deps, user, session, next);
}

async function reuse(deps: AuthDeps, userId: string, sessionId: string, client: ClientInfo): Promise<never> {
  await deps.sessions.revoke(userId, sessionId);
  // Whoever holds a copied token can replay it without limit: counted per session (audit-refusals.ts).
  await recordRefusal(deps.audit, 'refresh_reused', { userId, ip: client.ip, userAgent: client.userAgent, details: { sessionId } });
  deps.logger.warn('refresh token reused: session revoked', { userId, sessionId });
  throw AppError.unauthorized('refresh_token_reused', 'The refresh token was already used; the session has been ended.');
}
