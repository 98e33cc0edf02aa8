/**
 * Token forgery for tests: reads the auth service's active signing key straight from its
 * database (decrypting it with the test stack's key), so a test can sign tokens with exactly
 * one thing wrong (expired, wrong audience, wrong type) and see each check refuse it.
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import pg from 'pg';
import { decryptPrivateKey } from '../../services/auth/src/domain/key-encryption.js';
import type { Stack } from './stack.js';

export interface RealKey {
  kid: string;
  privateKey: KeyObject;
  publicPem: string;
}

export async function activeSigningKey(stack: Pick<Stack, 'env'>): Promise<RealKey> {
  const client = new pg.Client({ connectionString: stack.env.AUTH_DATABASE_URL });
  await client.connect();
  try {
    const { rows } = await client.query<{ kid: string; private_key: string; private_key_encrypted: boolean }>(
      'SELECT kid, private_key, private_key_encrypted FROM signing_keys WHERE active',
    );
    const row = rows[0];
    if (!row) throw new Error('no active signing key');
    const key = Buffer.from(stack.env.AUTH_KEY_ENCRYPTION_KEY as string, 'base64');
    const pem = row.private_key_encrypted ? decryptPrivateKey(row.private_key, key) : row.private_key;
    const privateKey = createPrivateKey(pem);
    const publicPem = createPublicKey(privateKey).export({ format: 'pem', type: 'spki' }).toString();
    return { kid: row.kid, privateKey, publicPem };
  } finally {
    await client.end();
  }
}

export function decodePayload(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString());
}

/** Signs `claims` with the real key; `header` overrides (e.g. typ) are applied. */
export function signWith(key: RealKey, claims: Record<string, unknown>, header: Record<string, unknown> = {}): string {
  return jwt.sign(claims, key.privateKey, {
    algorithm: 'ES256',
    header: { alg: 'ES256', typ: 'at+jwt', kid: key.kid, ...header } as jwt.JwtHeader,
  });
}

export function unsignedToken(header: Record<string, unknown>, claims: Record<string, unknown>): string {
  const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${enc(header)}.${enc(claims)}.`;
}
