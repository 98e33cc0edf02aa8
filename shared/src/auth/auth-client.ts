/**
 * What a service needs to talk to the auth service: an RPC client on the namespace's RPC
 * exchange, and an access-token verifier fed by the auth service's JWKS over that client.
 */
import { authRpc } from '../contracts/auth-rpc.js';
import { topology } from '../contracts/topology.js';
import type { Logger } from '../logger.js';
import type { Broker } from '../messaging/broker.js';
import { RpcClient } from '../messaging/rpc-client.js';
import type { Metrics } from '../metrics.js';
import { AccessTokenVerifier } from './access-token-verifier.js';
import type { AuthClientSettings } from './config.js';

export async function connectAuthClient(opts: { broker: Broker; namespace: string; settings: AuthClientSettings; logger: Logger; metrics: Metrics }) {
  const { settings, logger } = opts;
  const rpc = new RpcClient({
    broker: opts.broker,
    exchange: topology(opts.namespace).exchanges.rpc,
    timeoutMs: settings.rpcTimeoutMs,
    logger,
    metrics: opts.metrics,
  });
  await rpc.waitReady();
  const verifier = new AccessTokenVerifier({
    fetchJwks: () => rpc.call(authRpc.jwks, {}),
    issuer: settings.jwtIssuer,
    audience: settings.jwtAudience,
    cacheTtlMs: settings.jwksCacheSeconds * 1000,
    onRefreshFailed: (err) => logger.warn('refreshing the public keys failed; the known keys stay in use', { err: err.message }),
  });
  return { rpc, verifier };
}
