/**
 * Request/reply schemas for the auth service's RPC methods. The main backend and the
 * notification service call these; the auth service serves them.
 */
import { z } from 'zod';
import { roleSchema } from './notifications.js';
import { ROUTING_KEYS } from './topology.js';

export const loginRequestSchema = z.object({
  email: z.string(),
  password: z.string(),
  userAgent: z.string().max(512).optional(),
  ip: z.string().max(64).optional(),
});

export const publicUserSchema = z.object({
  id: z.uuid(),
  email: z.string(),
  name: z.string(),
  role: roleSchema,
});
export type PublicUser = z.infer<typeof publicUserSchema>;

export const tokenPairSchema = z.object({
  accessToken: z.string(),
  refreshToken: z.string(),
  tokenType: z.literal('Bearer'),
  expiresIn: z.number().int().positive(),
  user: publicUserSchema,
  permissions: z.array(z.string()),
  session: z.object({ id: z.uuid(), expiresAt: z.iso.datetime() }),
});
export type TokenPair = z.infer<typeof tokenPairSchema>;

export const jwkSchema = z
  .object({ kid: z.string(), kty: z.string(), alg: z.string(), use: z.literal('sig') })
  .catchall(z.unknown());
export type PublicJwk = z.infer<typeof jwkSchema>;

export const jwksSchema = z.object({ keys: z.array(jwkSchema) });
export type Jwks = z.infer<typeof jwksSchema>;

/** A method: its routing key, the request schema and the schema of a successful result. */
export interface RpcMethod<Req extends z.ZodType, Res extends z.ZodType> {
  routingKey: string;
  request: Req;
  response: Res;
}

export const authRpc = {
  login: { routingKey: ROUTING_KEYS.authLogin, request: loginRequestSchema, response: tokenPairSchema },
  jwks: { routingKey: ROUTING_KEYS.authJwks, request: z.object({}), response: jwksSchema },
} satisfies Record<string, RpcMethod<z.ZodType, z.ZodType>>;

/** Access-token claims as the contract fixes them. */
export const ACCESS_TOKEN_TYPE = 'at+jwt';
export const accessTokenClaimsSchema = z.object({
  sub: z.uuid(),
  sid: z.uuid(),
  role: roleSchema,
  iss: z.string(),
  aud: z.union([z.string(), z.array(z.string())]),
  iat: z.number(),
  exp: z.number(),
});
export type AccessTokenClaims = z.infer<typeof accessTokenClaimsSchema>;
