/**
 * Configuration: every service validates its whole environment once, at start, with zod,
 * and gets a typed object back. A bad or missing variable stops the service with ONE message
 * that names every bad variable, so an operator fixes them all in one go.
 */
import { z } from 'zod';

export const APP_ENVS = ['dev', 'qa'] as const;
export type AppEnv = (typeof APP_ENVS)[number];
export type ServiceName = 'auth' | 'main-backend' | 'notification';

/** Default ports per environment, so a dev and a qa stack can run side by side. */
export const DEFAULT_PORTS: Record<AppEnv, Record<ServiceName, number>> = {
  dev: { 'main-backend': 3000, auth: 3001, notification: 3002 },
  qa: { 'main-backend': 4000, auth: 4001, notification: 4002 },
};

export class ConfigError extends Error {
  constructor(readonly issues: { variable: string; message: string }[]) {
    super(
      `Invalid configuration (${issues.length} variable${issues.length === 1 ? '' : 's'}): ` +
        issues.map((i) => `${i.variable}: ${i.message}`).join('; '),
    );
    this.name = 'ConfigError';
  }
}

/** Empty strings count as unset: `FOO=` in a .env file should fall back to the default. */
type Env = Record<string, string | undefined>;
function withoutEmpty(env: Env): Env {
  return Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
}

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();

function urlWithProtocols(protocols: string[]) {
  return z
    .string()
    .refine((v) => {
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    }, `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`);
}
export const amqpUrl = urlWithProtocols(['amqp:', 'amqps:']);
export const postgresUrl = urlWithProtocols(['postgres:', 'postgresql:']);

const csv = z
  .string()
  .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean));

/** Variables every service shares; defaults depend on APP_ENV and on the service. */
export function commonSchema(service: ServiceName, appEnv: AppEnv) {
  const dbName = `warren_${service.replace('-', '_')}_${appEnv}`;
  const dbVar = DATABASE_URL_VARIABLE[service];
  return z.object({
    APP_ENV: z.enum(APP_ENVS).default('dev'),
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    LOG_LEVEL: z.enum(['error', 'warn', 'info', 'http', 'debug']).default('info'),
    /** Unset: readable lines on a terminal outside production, JSON elsewhere (logger.ts). */
    LOG_FORMAT: z.enum(['json', 'pretty']).optional(),
    RABBITMQ_URL: amqpUrl.default('amqp://guest:guest@127.0.0.1:5672'),
    /** Prefix of every exchange and queue: keeps dev, qa and test runs apart on one broker. */
    BROKER_NAMESPACE: z
      .string()
      .regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'lowercase letters, digits, ".", "_" or "-"')
      .default(`warren.${appEnv}`),
    [dbVar]: postgresUrl.default(`postgres://postgres@127.0.0.1:5432/${dbName}`),
    DATABASE_POOL_MAX: positiveInt.max(100).default(10),
    [PORT_VARIABLE[service]]: port.default(DEFAULT_PORTS[appEnv][service]),
    HTTP_HOST: z.string().default('0.0.0.0'),
    CORS_ORIGINS: csv.default([]),
    HTTP_BODY_LIMIT: z.string().regex(/^\d+(b|kb|mb)$/i, 'a size such as 100kb').default('100kb'),
    RPC_TIMEOUT_MS: positiveInt.max(60_000).default(5000),
    /** How long the auth service's public keys are used before they are refreshed (in the background). */
    JWKS_CACHE_SECONDS: positiveInt.max(86_400).default(60),
    /** Access tokens name their issuer and audience; both are pinned wherever tokens are verified. */
    JWT_ISSUER: z.string().min(1).default(`urn:warren:${appEnv}:auth`),
    JWT_AUDIENCE: z.string().min(1).default(`urn:warren:${appEnv}`),
    SHUTDOWN_TIMEOUT_MS: positiveInt.max(60_000).default(10_000),
  });
}

export const PORT_VARIABLE = {
  'main-backend': 'MAIN_BACKEND_PORT',
  auth: 'AUTH_PORT',
  notification: 'NOTIFICATION_PORT',
} as const satisfies Record<ServiceName, string>;

export const DATABASE_URL_VARIABLE = {
  'main-backend': 'MAIN_DATABASE_URL',
  auth: 'AUTH_DATABASE_URL',
  notification: 'NOTIFICATION_DATABASE_URL',
} as const satisfies Record<ServiceName, string>;

/** The fields every service reads in the same way, whatever its own schema adds. */
export interface CommonConfig {
  service: ServiceName;
  appEnv: AppEnv;
  nodeEnv: 'development' | 'production' | 'test';
  logLevel: string;
  logFormat?: 'json' | 'pretty';
  rabbitmqUrl: string;
  brokerNamespace: string;
  databaseUrl: string;
  databasePoolMax: number;
  port: number;
  httpHost: string;
  corsOrigins: string[];
  httpBodyLimit: string;
  rpcTimeoutMs: number;
  jwksCacheSeconds: number;
  jwtIssuer: string;
  jwtAudience: string;
  shutdownTimeoutMs: number;
}

/**
 * Parse `env` with the common schema plus the service's own `extra` schema.
 * `extra` receives APP_ENV so its defaults can depend on it too.
 * Throws ConfigError naming every bad variable.
 */
export function loadConfig<T extends z.ZodRawShape, R>(
  service: ServiceName,
  env: Env,
  extra: (appEnv: AppEnv) => z.ZodObject<T>,
  build: (vars: z.infer<z.ZodObject<T>>) => R,
): CommonConfig & R {
  const clean = withoutEmpty(env);
  const appEnvResult = z.enum(APP_ENVS).default('dev').safeParse(clean.APP_ENV);
  const appEnv: AppEnv = appEnvResult.success ? appEnvResult.data : 'dev';
  // Parsed separately so the service schema's own refinements (cross-field rules) run too;
  // the issues of both are reported together.
  const common = commonSchema(service, appEnv).safeParse(clean);
  const own = extra(appEnv).safeParse(clean);
  if (!common.success || !own.success) {
    const issues = [...(common.error?.issues ?? []), ...(own.error?.issues ?? [])];
    throw new ConfigError(
      issues.map((issue) => ({
        variable: String(issue.path[0] ?? '(environment)'),
        message: issue.message,
      })),
    );
  }
  const parsed = { data: { ...common.data, ...own.data } };
  const v = parsed.data as Record<string, unknown>;
  const commonConfig: CommonConfig = {
    service,
    appEnv,
    nodeEnv: v.NODE_ENV as CommonConfig['nodeEnv'],
    logLevel: v.LOG_LEVEL as string,
    logFormat: v.LOG_FORMAT as 'json' | 'pretty' | undefined,
    rabbitmqUrl: v.RABBITMQ_URL as string,
    brokerNamespace: v.BROKER_NAMESPACE as string,
    databaseUrl: v[DATABASE_URL_VARIABLE[service]] as string,
    databasePoolMax: v.DATABASE_POOL_MAX as number,
    port: v[PORT_VARIABLE[service]] as number,
    httpHost: v.HTTP_HOST as string,
    corsOrigins: v.CORS_ORIGINS as string[],
    httpBodyLimit: v.HTTP_BODY_LIMIT as string,
    rpcTimeoutMs: v.RPC_TIMEOUT_MS as number,
    jwksCacheSeconds: v.JWKS_CACHE_SECONDS as number,
    jwtIssuer: v.JWT_ISSUER as string,
    jwtAudience: v.JWT_AUDIENCE as string,
    shutdownTimeoutMs: v.SHUTDOWN_TIMEOUT_MS as number,
  };
  return { ...commonConfig, ...build(own.data) };
}
