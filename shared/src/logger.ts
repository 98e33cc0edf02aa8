/**
 * One line per event, each with service, env, level and the correlation ids (request id, trace id): JSON in production
 * and wherever a program reads the lines (tests, pipes, log shippers); on a developer's terminal
 * a readable line (time, coloured level, service, message, then the other fields as key=value).
 * Secrets never reach a log line: any field whose name looks like a secret is redacted,
 * however deep it sits, before winston formats it.
 */
import winston from 'winston';
import { currentRequestId, currentTraceparent } from './request-context.js';
import { traceIdOf } from './trace-context.js';

export type Logger = winston.Logger;

const SECRET_KEY = /pass(word)?|secret|token|authorization|cookie|^code$|otp|private|credential|apikey|api_key/i;
export const REDACTED = '[redacted]';

export function redact(value: unknown, depth = 0): unknown {
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) {
    return { name: value.name, message: value.message, ...(redact({ ...value }, depth + 1) as object) };
  }
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = SECRET_KEY.test(k) ? REDACTED : redact(v, depth + 1);
  }
  return out;
}

/** Credentials inside URLs (amqp://user:pass@host) are masked wherever a URL is logged. */
export function maskUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '[unparseable url]';
  }
}

const redactFormat = winston.format((info) => {
  const requestId = currentRequestId();
  const cleaned = redact({ ...info }) as winston.Logform.TransformableInfo;
  // winston keeps level/message under symbols too; copy them so the json format still works.
  for (const sym of Object.getOwnPropertySymbols(info)) {
    (cleaned as unknown as Record<symbol, unknown>)[sym] = (info as unknown as Record<symbol, unknown>)[sym];
  }
  if (requestId && cleaned.requestId === undefined) cleaned.requestId = requestId;
  // The trace id (not the whole traceparent): what a tracing backend's search takes.
  const traceparent = cleaned.traceId === undefined ? currentTraceparent() : undefined;
  if (traceparent) cleaned.traceId = traceIdOf(traceparent);
  return cleaned;
});

export type LogFormat = 'json' | 'pretty';

/**
 * LOG_FORMAT when set; otherwise pretty only for a person: stdout is a terminal and this is
 * not production. Anything else (a pipe, a container's log driver, tests) gets JSON.
 */
export function chooseLogFormat(opts: { logFormat?: LogFormat; nodeEnv?: string; isTTY?: boolean }): LogFormat {
  if (opts.logFormat) return opts.logFormat;
  return opts.isTTY && opts.nodeEnv !== 'production' ? 'pretty' : 'json';
}

/** Fields the pretty line already shows in its own place (env is the same on every line). */
const SHOWN = new Set(['level', 'message', 'timestamp', 'service', 'env']);

function compact(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  if (value instanceof Date) return value.toISOString();
  return JSON.stringify(value) ?? String(value);
}

/** "12:03:04.567 info  auth: login succeeded userId=… requestId=…" — winston's own formats. */
function prettyFormat(colors: boolean): winston.Logform.Format {
  return winston.format.combine(
    winston.format.timestamp({ format: 'HH:mm:ss.SSS' }),
    redactFormat(),
    ...(colors ? [winston.format.colorize({ level: true })] : []),
    winston.format.printf((info) => {
      const rest = Object.entries(info)
        .filter(([k, v]) => !SHOWN.has(k) && v !== undefined)
        .map(([k, v]) => `${k}=${compact(v)}`)
        .join(' ');
      // padEnd on the bare level keeps the messages aligned whether or not it is coloured.
      const pad = ' '.repeat(Math.max(0, 5 - String(info[Symbol.for('level')] ?? info.level).length));
      return `${String(info.timestamp)} ${String(info.level)}${pad} ${String(info.service)}: ${String(info.message)}${rest ? ` ${rest}` : ''}`;
    }),
  );
}

function colorsWanted(): boolean {
  const force = process.env.FORCE_COLOR;
  if (force !== undefined) return !['', '0', 'false'].includes(force);
  return Boolean(process.stdout.isTTY);
}

export interface LoggerOptions {
  service: string;
  env: string;
  level: string;
  /** json (default) or pretty: see chooseLogFormat. */
  format?: LogFormat;
  /** Colour the level of pretty lines (default: stdout is a terminal, or FORCE_COLOR is set, as npm start's concurrently does). */
  colors?: boolean;
  /** Tests pass a stream to capture what would have been printed. */
  stream?: NodeJS.WritableStream;
}

export function createLogger(opts: LoggerOptions): Logger {
  const levels = winston.config.npm.levels;
  const threshold = levels[opts.level] ?? levels.info;
  // winston runs the logger's formats before its transports filter by level; dropping what is
  // below the level first spares the redaction and serialisation of every filtered line.
  const enabled = winston.format((info) => ((levels[info.level] ?? 0) <= (threshold as number) ? info : false));
  return winston.createLogger({
    level: opts.level,
    defaultMeta: { service: opts.service, env: opts.env },
    format:
      opts.format === 'pretty'
        ? winston.format.combine(enabled(), prettyFormat(opts.colors ?? colorsWanted()))
        : winston.format.combine(enabled(), winston.format.timestamp(), redactFormat(), winston.format.json()),
    transports: [
      opts.stream
        ? new winston.transports.Stream({ stream: opts.stream })
        : new winston.transports.Console({ stderrLevels: [] }),
    ],
  });
}
