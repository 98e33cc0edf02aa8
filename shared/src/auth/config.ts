/**
 * The variables of Warren's tokens, read alike by every service: auth signs access tokens with
 * this issuer and audience, and every verifier pins both; a service that calls auth over RPC
 * also reads the call deadline and how long it keeps auth's public keys.
 */
import { z } from 'zod';
import { positiveInt, type AppEnv } from '../config.js';

export function tokenVariables(appEnv: AppEnv) {
  return {
    JWT_ISSUER: z.string().min(1).default(`urn:warren:${appEnv}:auth`),
    JWT_AUDIENCE: z.string().min(1).default(`urn:warren:${appEnv}`),
  };
}

export function authClientVariables(appEnv: AppEnv) {
  return {
    ...tokenVariables(appEnv),
    RPC_TIMEOUT_MS: positiveInt.max(60_000).default(5000),
    /** How long the auth service's public keys are used before they are refreshed (in the background). */
    JWKS_CACHE_SECONDS: positiveInt.max(86_400).default(60),
  };
}

export interface AuthClientSettings {
  jwtIssuer: string;
  jwtAudience: string;
  rpcTimeoutMs: number;
  jwksCacheSeconds: number;
}

export function authClientSettings(v: { JWT_ISSUER: string; JWT_AUDIENCE: string; RPC_TIMEOUT_MS: number; JWKS_CACHE_SECONDS: number }): AuthClientSettings {
  return { jwtIssuer: v.JWT_ISSUER, jwtAudience: v.JWT_AUDIENCE, rpcTimeoutMs: v.RPC_TIMEOUT_MS, jwksCacheSeconds: v.JWKS_CACHE_SECONDS };
}
