/** Issues the contract's token pair for a user's session (login and refresh alike). */
import type { TokenPair } from '@warren/shared/contracts/auth-rpc';
import type { Role } from '@warren/shared/contracts/notifications';
import type { AuthDeps } from './deps.js';
import { signAccessToken } from './tokens.js';

export interface TokenUser {
  id: string;
  email: string;
  name: string;
  role: Role;
}

export async function tokenPair(
  deps: AuthDeps,
  user: TokenUser,
  session: { id: string; expiresAt: Date },
  refreshToken: string,
): Promise<TokenPair> {
  const { settings } = deps;
  // Permissions come from the role as it is now: a role change applies at the next refresh.
  const permissions = await deps.users.permissionsOf(user.role);
  const accessToken = signAccessToken(await deps.keys.signingKey(), {
    userId: user.id,
    sessionId: session.id,
    role: user.role,
    permissions,
    issuer: settings.issuer,
    audience: settings.audience,
    ttlSeconds: settings.accessTokenTtlSeconds,
  });
  return {
    accessToken,
    refreshToken,
    tokenType: 'Bearer',
    expiresIn: settings.accessTokenTtlSeconds,
    user: { id: user.id, email: user.email, name: user.name, role: user.role },
    permissions,
    session: { id: session.id, expiresAt: session.expiresAt.toISOString() },
  };
}
