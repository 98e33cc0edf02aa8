/** The auth service's RPC entry points: thin adapters from messages to use cases. */
import { authRpc } from '@warren/shared/contracts/auth-rpc';
import { route, type RpcRoute } from '@warren/shared/messaging/rpc-server';
import { login, type LoginDeps } from '../domain/login.js';

export function authRpcRoutes(deps: LoginDeps): RpcRoute[] {
  return [
    route(authRpc.login, (req) => login(deps, req)),
    route(authRpc.jwks, () => deps.keys.publicJwks()),
  ];
}
