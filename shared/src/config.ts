/**
 * Configuration kit: a service validates its whole environment once, at start, with zod, and
 * gets a typed object back. A bad or missing variable stops the service with ONE message that
 * names every bad variable, so an operator fixes them all in one go. The kit reads the
 * variables of its own pieces (logging, broker, database pool, HTTP, shutdown); each service
 * names its port and database variables, their defaults, and adds variables of its own
 * (services/<name>/src/config.ts). A variable set but read by nobody that looks like one the
 * service reads is reported (config-typos.ts), never fatal.
 */
import { z } from 'zod';
import { lookalikes, type Lookalike } from './config-typos.js';

export const APP_ENVS = ['dev', 'qa'] as const;
export type AppEnv = (typeof APP_ENVS)[number];

export class ConfigError extends Error {
  constructor(readonly issues: { variable: string; message: string }[]) {
    super(
      `Invalid configuration (${issues.length} variable${issues.length === 1 ? '' : 's'}): ` +
        issues.map((i) => `${i.variable}: ${i.message}`).join('; '),
    );
    this.name = 'ConfigError';
  }
}

export type Env = Record<string, string | undefined>;

/** Empty strings count as unset: `FOO=` in a .env file should fall back to the default. */
function withoutEmpty(env: Env): Env {
  return Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
}

export const port = z.coerce.number().int().min(0).max(65535);
export const positiveInt = z.coerce.number().int().positive();

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

/** A comma-separated list; blanks and spaces around items are dropped. */
export const csv = z
  .string()
  .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean));

/**
 * A bad entry as an error message may show it: whatever precedes an "@" (where credentials
 * would be) is left out, a scheme before it kept ("http://***@host:5672"). No URL parsing:
 * a bad entry need not parse, or may parse with its password where a parser does not look.
 */
function shownEntry(entry: string): string {
  const at = entry.lastIndexOf('@');
  if (at === -1) return entry;
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(entry)?.[0] ?? '';
  return `${scheme}***${entry.slice(at)}`;
}

/**
 * One AMQP URL, or a comma-separated list of the nodes of ONE RabbitMQ cluster (the broker
 * connection tries them in order and fails over to the next on a loss). Each entry is checked
 * on its own, and a bad one is named by its position, with its password masked.
 */
export const amqpUrlList = z.string().transform((value, ctx) => {
  const entries = value.split(',').map((s) => s.trim());
  const urls: string[] = [];
  entries.forEach((entry, i) => {
    const where = entries.length > 1 ? `entry ${i + 1} of ${entries.length} ` : '';
    if (!entry) {
      ctx.addIssue({ code: 'custom', message: `${where}is empty: list the nodes separated by single commas` });
      return;
    }
    if (!amqpUrl.safeParse(entry).success) {
      ctx.addIssue({ code: 'custom', message: `${where}"${shownEntry(entry)}" must be a URL starting with amqp:// or amqps://` });
      return;
    }
    urls.push(entry);
  });
  if (new Set(urls).size !== urls.length) ctx.addIssue({ code: 'custom', message: 'lists a node twice' });
  return urls;
});

/** The database server a service's default database URL points at. */
const DEFAULT_DATABASE_SERVER = 'postgres://postgres@127.0.0.1:5432';

/** Parses APP_ENV alone (an invalid one is reported with the rest; its defaults are dev's). */
function appEnvOf(env: Env): AppEnv {
  const parsed = z.enum(APP_ENVS).default('dev').safeParse(env.APP_ENV);
  return parsed.success ? parsed.data : 'dev';
}

/** The broker variables: also what an operator command that only talks to the broker reads. */
export function brokerVariables(defaultNamespace: string) {
  return {
    /** One node, or the nodes of one cluster separated by commas. */
    RABBITMQ_URL: amqpUrlList.default(['amqp://guest:guest@127.0.0.1:5672']),
    /** Prefix of every exchange and queue: keeps partitions and test runs apart on one broker. */
    BROKER_NAMESPACE: z
      .string()
      .regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'lowercase letters, digits, ".", "_" or "-"')
      .default(defaultNamespace),
  };
}

/** Who a service is and where it listens and stores, with the defaults per APP_ENV. */
export interface ServiceIdentity {
  service: string;
  /** Its HTTP port variable and the default per APP_ENV (so partitions can run side by side). */
  port: PortVariable;
  /** Its database URL variable and the default database's name per APP_ENV. */
  database: { variable: string; name: (appEnv: AppEnv) => string };
  /** The default BROKER_NAMESPACE per APP_ENV. */
  brokerNamespace: (appEnv: AppEnv) => string;
}

/** A service's definition: its identity and what it reads besides the kit's variables. */
export interface ServiceDefinition<T extends z.ZodRawShape, R> extends ServiceIdentity {
  /** The service's own variables; their defaults may depend on APP_ENV. */
  variables: (appEnv: AppEnv) => z.ZodObject<T>;
  build: (vars: z.infer<z.ZodObject<T>>) => R;
}

export interface PortVariable {
  variable: string;
  defaults: Record<AppEnv, number>;
}

/** The port a service listens on, read the way loadConfig reads it (for a healthcheck). */
export function portFrom(env: Env, spec: PortVariable): number {
  const clean = withoutEmpty(env);
  return port.parse(clean[spec.variable] ?? spec.defaults[appEnvOf(clean)]);
}

function platformSchema(def: ServiceIdentity, appEnv: AppEnv) {
  return z.object({
    APP_ENV: z.enum(APP_ENVS).default('dev'),
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    LOG_LEVEL: z.enum(['error', 'warn', 'info', 'http', 'debug']).default('info'),
    /** Unset: readable lines on a terminal outside production, JSON elsewhere (logger.ts). */
    LOG_FORMAT: z.enum(['json', 'pretty']).optional(),
    ...brokerVariables(def.brokerNamespace(appEnv)),
    [def.database.variable]: postgresUrl.default(`${DEFAULT_DATABASE_SERVER}/${def.database.name(appEnv)}`),
    DATABASE_POOL_MAX: positiveInt.max(100).default(10),
    [def.port.variable]: port.default(def.port.defaults[appEnv]),
    HTTP_HOST: z.string().default('0.0.0.0'),
    CORS_ORIGINS: csv.default([]),
    HTTP_BODY_LIMIT: z.string().regex(/^\d+(b|kb|mb)$/i, 'a size such as 100kb').default('100kb'),
    SHUTDOWN_TIMEOUT_MS: positiveInt.max(60_000).default(10_000),
  });
}

/** The fields every service reads in the same way, whatever its own variables add. */
export interface PlatformConfig {
  service: string;
  appEnv: AppEnv;
  nodeEnv: 'development' | 'production' | 'test';
  logLevel: string;
  logFormat?: 'json' | 'pretty';
  /** The nodes of one broker cluster (one entry for a single broker), tried in this order. */
  rabbitmqUrls: string[];
  brokerNamespace: string;
  databaseUrl: string;
  databasePoolMax: number;
  port: number;
  httpHost: string;
  corsOrigins: string[];
  httpBodyLimit: string;
  shutdownTimeoutMs: number;
  /** Variables set but not read that look like ones that are: reported once at start. */
  lookalikes: Lookalike[];
}

/**
 * Parses `env` with the kit's variables plus the service's own (both defaults may depend on
 * APP_ENV). Throws ConfigError naming every bad variable.
 */
export function loadConfig<T extends z.ZodRawShape, R>(def: ServiceDefinition<T, R>, env: Env): PlatformConfig & R {
  const clean = withoutEmpty(env);
  const appEnv = appEnvOf(clean);
  const platform = platformSchema(def, appEnv);
  const ownSchema = def.variables(appEnv);
  // Parsed separately so the service schema's own refinements (cross-field rules) run too;
  // the issues of both are reported together.
  const common = platform.safeParse(clean);
  const own = ownSchema.safeParse(clean);
  if (!common.success || !own.success) {
    const issues = [...(common.error?.issues ?? []), ...(own.error?.issues ?? [])];
    throw new ConfigError(
      issues.map((issue) => ({
        variable: String(issue.path[0] ?? '(environment)'),
        message: issue.message,
      })),
    );
  }
  const v = common.data as Record<string, unknown>;
  const platformConfig: PlatformConfig = {
    service: def.service,
    appEnv,
    nodeEnv: v.NODE_ENV as PlatformConfig['nodeEnv'],
    logLevel: v.LOG_LEVEL as string,
    logFormat: v.LOG_FORMAT as 'json' | 'pretty' | undefined,
    rabbitmqUrls: v.RABBITMQ_URL as string[],
    brokerNamespace: v.BROKER_NAMESPACE as string,
    databaseUrl: v[def.database.variable] as string,
    databasePoolMax: v.DATABASE_POOL_MAX as number,
    port: v[def.port.variable] as number,
    httpHost: v.HTTP_HOST as string,
    corsOrigins: v.CORS_ORIGINS as string[],
    httpBodyLimit: v.HTTP_BODY_LIMIT as string,
    shutdownTimeoutMs: v.SHUTDOWN_TIMEOUT_MS as number,
    lookalikes: lookalikes(Object.keys(env), [...Object.keys(platform.shape), ...Object.keys(ownSchema.shape)]),
  };
  return { ...platformConfig, ...def.build(own.data) };
}

/**
 * Parses `env` with `variables` alone (for an operator command that needs a few of the
 * services' variables): same defaults, same single ConfigError.
 */
export function loadVariables<T extends z.ZodRawShape>(env: Env, variables: (appEnv: AppEnv) => z.ZodObject<T>): z.infer<z.ZodObject<T>> & { APP_ENV: AppEnv } {
  const clean = withoutEmpty(env);
  const parsed = variables(appEnvOf(clean)).extend({ APP_ENV: z.enum(APP_ENVS).default('dev') }).safeParse(clean);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => ({ variable: String(i.path[0] ?? '(environment)'), message: i.message })));
  }
  return parsed.data as z.infer<z.ZodObject<T>> & { APP_ENV: AppEnv };
}
