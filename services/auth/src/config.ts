/**
 * The auth service's configuration: the kit's variables (logging, broker, database pool, HTTP),
 * its port and database, the token variables every service shares, plus token lifetimes, keys
 * and the first admin.
 */
import { z } from 'zod';
import { tokenVariables } from '@warren/shared/auth/config';
import { loadConfig, type Env, type PortVariable } from '@warren/shared/config';
import { defaultNamespace } from '@warren/shared/contracts/topology';

/** Read by the container healthcheck too (deploy/healthcheck.mjs). */
export const HTTP_PORT: PortVariable = { variable: 'AUTH_PORT', defaults: { dev: 3001, qa: 4001 } };

const seconds = z.coerce.number().int().positive();
const base64Key = z
  .string()
  .refine((v) => Buffer.from(v, 'base64').length === 32, 'must be 32 bytes, base64-encoded (openssl rand -base64 32)');

const requiredInProduction = z
  .string({ error: 'required when NODE_ENV=production (signing keys are never stored in clear in production)' })
  .pipe(base64Key);

export function loadAuthConfig(env: Env = process.env) {
  // In production a missing key would store the signing keys in clear: anyone who can read the
  // auth database could mint tokens every verifier accepts. So there it is required, decided
  // here (like SMTP_URL in the notification service) so it is reported with every other bad variable.
  const production = env.NODE_ENV === 'production';
  return loadConfig(
    {
      service: 'auth',
      port: HTTP_PORT,
      database: { variable: 'AUTH_DATABASE_URL', name: (appEnv) => `warren_auth_${appEnv}` },
      brokerNamespace: defaultNamespace,
      variables: (appEnv) =>
        z
          .object({
            ...tokenVariables(appEnv),
            ACCESS_TOKEN_TTL: seconds.max(86_400).default(900),
            LOGIN_LOCKOUT_THRESHOLD: z.coerce.number().int().min(1).max(100).default(5),
            LOGIN_LOCKOUT_SECONDS: seconds.max(86_400).default(900),
            /** The owner is emailed when the account sees LOGIN_LOCKOUT_THRESHOLD failures in this window; once per window. */
            LOGIN_ALERT_WINDOW_SECONDS: seconds.max(7 * 86_400).default(3600),
            REFRESH_TOKEN_TTL: seconds.default(2_592_000),
            BOOTSTRAP_ADMIN_EMAIL: z.email().optional(),
            BOOTSTRAP_ADMIN_PASSWORD: z.string().min(8, 'at least 8 characters').max(128).optional(),
            BOOTSTRAP_ADMIN_NAME: z.string().min(1).max(100).default('Administrator'),
            /** How often each replica re-reads the signing keys (so a rotation reaches all of them). */
            SIGNING_KEYS_RELOAD_SECONDS: seconds.max(3600).default(60),
            /** Audit events older than this many days are deleted by housekeeping (up to ten years). */
            AUDIT_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
            /** Encrypts signing keys at rest in the auth database (AES-256-GCM). */
            AUTH_KEY_ENCRYPTION_KEY: production ? requiredInProduction : base64Key.optional(),
          })
          .superRefine((v, ctx) => {
            if (Boolean(v.BOOTSTRAP_ADMIN_EMAIL) !== Boolean(v.BOOTSTRAP_ADMIN_PASSWORD)) {
              const missing = v.BOOTSTRAP_ADMIN_EMAIL ? 'BOOTSTRAP_ADMIN_PASSWORD' : 'BOOTSTRAP_ADMIN_EMAIL';
              ctx.addIssue({ code: 'custom', path: [missing], message: 'set both BOOTSTRAP_ADMIN_EMAIL and BOOTSTRAP_ADMIN_PASSWORD, or neither' });
            }
          }),
      build: (v) => ({
        jwtIssuer: v.JWT_ISSUER,
        jwtAudience: v.JWT_AUDIENCE,
        accessTokenTtlSeconds: v.ACCESS_TOKEN_TTL,
        refreshTokenTtlSeconds: v.REFRESH_TOKEN_TTL,
        lockout: { threshold: v.LOGIN_LOCKOUT_THRESHOLD, seconds: v.LOGIN_LOCKOUT_SECONDS, alertWindowSeconds: v.LOGIN_ALERT_WINDOW_SECONDS },
        signingKeysReloadSeconds: v.SIGNING_KEYS_RELOAD_SECONDS,
        auditRetentionDays: v.AUDIT_RETENTION_DAYS,
        bootstrapAdmin:
          v.BOOTSTRAP_ADMIN_EMAIL && v.BOOTSTRAP_ADMIN_PASSWORD
            ? { email: v.BOOTSTRAP_ADMIN_EMAIL, password: v.BOOTSTRAP_ADMIN_PASSWORD, name: v.BOOTSTRAP_ADMIN_NAME }
            : undefined,
        keyEncryptionKey: v.AUTH_KEY_ENCRYPTION_KEY ? Buffer.from(v.AUTH_KEY_ENCRYPTION_KEY, 'base64') : undefined,
      }),
    },
    env,
  );
}
export type AuthConfig = ReturnType<typeof loadAuthConfig>;
