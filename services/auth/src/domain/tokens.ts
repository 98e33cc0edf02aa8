/**
 * Token minting. Access tokens: ES256 JWTs with `typ: at+jwt` (RFC 9068) and the contract's
 * claims, plus `scope` (the role's permissions when issued, so a role change applies at the
 * next refresh). Refresh tokens: 256 random bits, base64url, never JWTs; only their SHA-256
 * is stored (they are high-entropy, so a fast hash is enough).
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { ACCESS_TOKEN_TYPE } from '@warren/shared/contracts/auth-rpc';
import type { Role } from '@warren/shared/contracts/notifications';
import { SIGNING_ALGORITHM, type ActiveSigningKey } from './signing-keys.js';

export interface AccessTokenInput {
  userId: string;
  sessionId: string;
  role: Role;
  permissions: string[];
  issuer: string;
  audience: string;
  ttlSeconds: number;
}

export function signAccessToken(key: ActiveSigningKey, t: AccessTokenInput): string {
  return jwt.sign({ sid: t.sessionId, role: t.role, scope: t.permissions.join(' ') }, key.privateKey, {
    algorithm: SIGNING_ALGORITHM,
    keyid: key.kid,
    header: { alg: SIGNING_ALGORITHM, typ: ACCESS_TOKEN_TYPE, kid: key.kid },
    subject: t.userId,
    issuer: t.issuer,
    audience: t.audience,
    expiresIn: t.ttlSeconds,
    jwtid: randomUUID(),
  });
}

export function newRefreshToken(): string {
  return randomBytes(32).toString('base64url');
}

export function hashRefreshToken(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}
