/**
 * Starts the three services as child processes, exactly as `npm start` runs them
 * (`node <its options> --import tsx services/<name>/src/main.ts`, options from
 * scripts/node-options.txt), with an isolated environment: its own
 * broker namespace, databases and ports. Separate processes, because one figure is the
 * notification service's own resident memory. `stop()` sends SIGTERM, then drops the databases
 * and the namespace's queues and exchanges.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { nodeOptionsOf } from '../scripts/node-options.mjs';
import amqplib from 'amqplib';
import pg from 'pg';
import { namespaceResources } from '@warren/shared/contracts/topology';
import { sleep } from './stats.js';

export const SERVICES = ['auth', 'main-backend', 'notification'] as const;
export type ServiceName = (typeof SERVICES)[number];

export interface StackEndpoints {
  mainUrl: string;
  notificationUrl: string;
  notificationWsUrl: string;
}

export interface SpawnedStack extends StackEndpoints {
  namespace: string;
  /** Process ids of the services (for CPU accounting). */
  pids: Partial<Record<ServiceName, number>>;
  /** Part of every bench database name: picks out the PostgreSQL backends serving this stack. */
  databasePrefix: string;
  env: Record<string, string>;
  stop(): Promise<void>;
}

export interface SpawnOptions {
  root: string;
  rabbitmqUrl: string;
  postgresUrl: string;
  admin: { email: string; password: string };
  smtpUrl: string;
  /** Extra variables (e.g. the socket limits the benchmark needs). */
  overrides: Record<string, string>;
  /** Child output goes here (the benchmark's own output stays readable). */
  logFile: string;
  /** Services started with --cpu-prof, profiles written under `profileDir`/<service>. */
  cpuProfile: ServiceName[];
  profileDir: string;
}

/** A port nobody listens on right now: listen on 0 on loopback, read the port, release it. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export async function spawnStack(opts: SpawnOptions): Promise<SpawnedStack> {
  const suffix = randomBytes(4).toString('hex');
  const namespace = `warren.bench-${suffix}`;
  const db = (service: string) => `${opts.postgresUrl}/warren_bench_${suffix}_${service}`;
  const [authPort, mainPort, notificationPort] = [await freePort(), await freePort(), await freePort()];
  const env: Record<string, string> = {
    APP_ENV: 'dev',
    NODE_ENV: 'development',
    // Per-request info lines would make logging a large share of the measured CPU.
    LOG_LEVEL: 'warn',
    RABBITMQ_URL: opts.rabbitmqUrl,
    BROKER_NAMESPACE: namespace,
    AUTH_DATABASE_URL: db('auth'),
    MAIN_DATABASE_URL: db('main'),
    NOTIFICATION_DATABASE_URL: db('notification'),
    AUTH_PORT: String(authPort),
    MAIN_BACKEND_PORT: String(mainPort),
    NOTIFICATION_PORT: String(notificationPort),
    HTTP_HOST: '127.0.0.1',
    BOOTSTRAP_ADMIN_EMAIL: opts.admin.email,
    BOOTSTRAP_ADMIN_PASSWORD: opts.admin.password,
    AUTH_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    // The benchmark logs in and registers its socket users from one address.
    AUTH_RATE_LIMIT_PER_MINUTE: '100000',
    SMTP_URL: opts.smtpUrl,
    ...opts.overrides,
  };

  mkdirSync(join(opts.logFile, '..'), { recursive: true });
  const log = createWriteStream(opts.logFile, { flags: 'w' });
  const children = new Map<ServiceName, ChildProcess>();
  const tails = new Map<ServiceName, string[]>();

  const start = (name: ServiceName) => {
    // One directory per service: node writes a profile per thread (tsx's loader runs in a worker).
    const profiling = opts.cpuProfile.includes(name) ? ['--cpu-prof', `--cpu-prof-dir=${join(opts.profileDir, name)}`] : [];
    // Only the variables a service needs, plus PATH/HOME: a developer's .env or shell must not leak in.
    const childEnv = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', INIT_CWD: join(opts.root, 'bench'), ...env };
    // The service's own Node options, as npm start gives them (scripts/node-options.txt).
    const child = spawn(process.execPath, [...nodeOptionsOf(name), ...profiling, '--import', 'tsx', `services/${name}/src/main.ts`], {
      cwd: opts.root,
      env: childEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const tail: string[] = [];
    tails.set(name, tail);
    const keep = (chunk: Buffer) => {
      const text = chunk.toString();
      log.write(text.replace(/^(?=.)/gm, `[${name}] `));
      tail.push(...text.split('\n').filter(Boolean));
      tail.splice(0, Math.max(0, tail.length - 20));
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    children.set(name, child);
    return child;
  };

  const urls: Record<ServiceName, string> = {
    auth: `http://127.0.0.1:${authPort}`,
    'main-backend': `http://127.0.0.1:${mainPort}`,
    notification: `http://127.0.0.1:${notificationPort}`,
  };

  const waitReady = async (name: ServiceName) => {
    const child = children.get(name) as ChildProcess;
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) break;
      try {
        const res = await fetch(`${urls[name]}/readyz`);
        if (res.status === 200) return;
      } catch {
        // not listening yet
      }
      await sleep(200);
    }
    throw new Error(`${name} did not become ready:\n  ${(tails.get(name) ?? []).join('\n  ')}`);
  };

  const stopChildren = async () => {
    await Promise.all(
      [...children.values()].map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        // The services stop within SHUTDOWN_TIMEOUT_MS (10 s); past 15 s the child is killed.
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      }),
    );
    await new Promise((resolve) => log.end(resolve));
  };

  // Ctrl-C may arrive while the normal stop runs: both wait on the same stop.
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      await stopChildren();
      await dropBenchResources(env, namespace, opts.rabbitmqUrl);
    })());

  try {
    // Auth first: the others ask it for the JWKS when they start.
    start('auth');
    await waitReady('auth');
    start('main-backend');
    start('notification');
    await Promise.all([waitReady('main-backend'), waitReady('notification')]);
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    namespace,
    pids: Object.fromEntries([...children].map(([name, child]) => [name, child.pid])),
    databasePrefix: `warren_bench_${suffix}_`,
    env,
    mainUrl: urls['main-backend'],
    notificationUrl: urls.notification,
    notificationWsUrl: `ws://127.0.0.1:${notificationPort}/ws`,
    stop,
  };
}

/** Drops the three bench databases and every queue and exchange of the bench namespace. */
async function dropBenchResources(env: Record<string, string>, namespace: string, rabbitmqUrl: string): Promise<void> {
  for (const key of ['AUTH_DATABASE_URL', 'MAIN_DATABASE_URL', 'NOTIFICATION_DATABASE_URL']) {
    const url = new URL(env[key] as string);
    const name = url.pathname.slice(1);
    url.pathname = '/postgres';
    const client = new pg.Client({ connectionString: url.toString() });
    try {
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    } catch (err) {
      console.error(`could not drop database ${name}: ${(err as Error).message}`);
    } finally {
      await client.end().catch(() => undefined);
    }
  }
  const conn = await amqplib.connect(rabbitmqUrl);
  try {
    const ch = await conn.createChannel();
    const { queues, exchanges } = namespaceResources(namespace);
    for (const q of [...queues, `${namespace}.raw`]) await ch.deleteQueue(q);
    for (const x of exchanges) await ch.deleteExchange(x);
    await ch.close();
  } finally {
    await conn.close();
  }
}
