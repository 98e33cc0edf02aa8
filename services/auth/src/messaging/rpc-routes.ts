/** The auth service's RPC entry points: thin adapters from validated messages to use cases. */
import { authRpc } from '@warren/shared/contracts/auth-rpc';
import { route, type RpcRoute } from '@warren/shared/messaging/rpc-server';
import { listAuditEvents } from '../domain/audit-events.js';
import type { AuthDeps } from '../domain/deps.js';
import { login } from '../domain/login.js';
import { forgotPassword, resetPassword } from '../domain/password-reset.js';
import { refresh } from '../domain/refresh.js';
import { register, verifyEmail } from '../domain/register.js';
import { isSessionActive, listSessions, logout, logoutAll, me, revokeSession } from '../domain/sessions.js';
import { lookupUsers } from '../domain/user-lookup.js';
import { changeRole } from '../domain/users-admin.js';
import { listUsers } from '../domain/user-search.js';

export function authRpcRoutes(deps: AuthDeps): RpcRoute[] {
  return [
    route(authRpc.login, (req) => login(deps, req)),
    route(authRpc.jwks, () => deps.keys.publicJwks()),
    route(authRpc.register, (req) => register(deps, req)),
    route(authRpc.verifyEmail, (req) => verifyEmail(deps, req)),
    route(authRpc.refresh, (req) => refresh(deps, req)),
    route(authRpc.logout, (req) => logout(deps, req)),
    route(authRpc.logoutAll, (req) => logoutAll(deps, req)),
    route(authRpc.listSessions, (req) => listSessions(deps, req)),
    route(authRpc.revokeSession, (req) => revokeSession(deps, req)),
    route(authRpc.me, (req) => me(deps, req)),
    route(authRpc.forgotPassword, (req) => forgotPassword(deps, req)),
    route(authRpc.resetPassword, (req) => resetPassword(deps, req)),
    route(authRpc.listUsers, (req) => listUsers(deps, req)),
    route(authRpc.listAuditEvents, (req) => listAuditEvents(deps, req)),
    route(authRpc.changeRole, (req) => changeRole(deps, req)),
    route(authRpc.sessionActive, (req) => isSessionActive(deps, req.sessionId)),
    route(authRpc.lookupUsers, (req) => lookupUsers(deps, req)),
  ];
}
