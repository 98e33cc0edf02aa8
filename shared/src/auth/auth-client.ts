/**
 * What a service needs to talk to the auth service: an RPC client on the namespace's RPC
 * exchange, and an access-token verifier fed by the auth service's JWKS over that client. The
 * verifier fetches the keys at once and keeps them fresh in the background (every
 * JWKS_CACHE_SECONDS), so that a replica has them before its first token and keeps verifying
 * with them while auth cannot be reached. Both are closed with the service (`closers`).
 */
import { authRpc } from '../contracts/auth-rpc.js';
import { topology } from '../contracts/topology.js';
import type { Closers } from '../lifecycle.js';
import type { Logger } from '../logger.js';
import type { Broker } from '../messaging/broker.js';
import { RpcClient } from '../messaging/rpc-client.js';
import type { Metrics } from '../metrics.js';
import { AccessTokenVerifier } from './access-token-verifier.js';
import type { AuthClientSettings } from './config.js';

export async function connectAuthClient(opts: {
  broker: Broker;
  namespace: string;
  settings: AuthClientSettings;
  logger: Logger;
  metrics: Metrics;
  closers: Closers;
}) {
  const { settings, logger, closers } = opts;
  const rpc = closers.add(
    'rpc client',
    new RpcClient({
      broker: opts.broker,
      exchange: topology(opts.namespace).exchanges.rpc,
      timeoutMs: settings.rpcTimeoutMs,
      logger,
      metrics: opts.metrics,
    }),
    (r) => r.close(),
  );
  await rpc.waitReady();
  const verifier: AccessTokenVerifier = new AccessTokenVerifier({
    fetchJwks: () => rpc.call(authRpc.jwks, {}),
    issuer: settings.jwtIssuer,
    audience: settings.jwtAudience,
    cacheTtlMs: settings.jwksCacheSeconds * 1000,
    onRefreshFailed: (err) => {
      // At start auth may simply not be up yet (npm start starts the three at once): the first
      // token fetches the keys again, as does the next round.
      if (verifier.hasKeys()) logger.warn('refreshing the public keys failed; the known keys stay in use', { err: err.message });
      else logger.info('the public keys could not be fetched yet; tried again on the first token and in the background', { err: err.message });
    },
  });
  // Closed before the RPC client (the stack is undone in reverse): no round runs on a closed client.
  closers.add('public keys refresh', verifier.keepFresh(), (v) => v.stop());
  return { rpc, verifier };
}
