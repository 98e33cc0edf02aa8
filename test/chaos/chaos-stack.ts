/**
 * Warren as the chaos rows need it: a RabbitMQ node and one PostgreSQL cluster per service
 * database, all of the test's own (so a row can stop "the notification database" alone), and
 * the three services as real processes on fixed ports (so a row can kill -9 one and start it
 * again where its clients look for it). The machine's shared broker and PostgreSQL are never
 * used. `remove()` stops every process and removes the node and clusters.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { waitForDirectory } from '../support/directory.js';
import { freePort, onExit, privateFolder } from '../support/private-processes.js';
import { startPrivatePostgres, type PrivatePostgres } from '../support/private-postgres.js';
import { startPrivateRabbit, type PrivateRabbit } from '../support/private-rabbitmq.js';
import { ADMIN } from '../support/stack.js';
import { serviceProcess, type ServiceName, type ServiceProcess } from './service-process.js';

export interface ChaosStack {
  env: Record<string, string>;
  rabbit: PrivateRabbit;
  databases: Record<'auth' | 'main' | 'notification', PrivatePostgres>;
  auth: ServiceProcess;
  main: ServiceProcess;
  /** The notification replicas; the first is the one clients are given first. */
  notifications: ServiceProcess[];
  mainUrl: string;
  /** Every service process the stack has now (replicas included). */
  services(): ServiceProcess[];
  /** Starts another notification replica on the same database and broker, and waits until it is ready. */
  addNotificationReplica(): Promise<ServiceProcess>;
  /** Forgets a replica (stopped or killed by the caller): later rows run without it. */
  dropNotificationReplica(replica: ServiceProcess): void;
  waitAllReady(timeoutMs?: number): Promise<void>;
  remove(): Promise<void>;
}

export async function startChaosStack(): Promise<ChaosStack> {
  const folder = privateFolder('chaos');
  const keepLogs = process.env.CHAOS_KEEP_LOGS === '1';
  const cleanup = onExit(() => keepLogs || rmSync(folder, { recursive: true, force: true }));
  const [rabbit, authDb, mainDb, notificationDb] = await Promise.all([
    startPrivateRabbit(),
    startPrivatePostgres(),
    startPrivatePostgres(),
    startPrivatePostgres(),
  ]);
  const databases = { auth: authDb, main: mainDb, notification: notificationDb };
  const ports = { auth: await freePort(), main: await freePort(), notification: await freePort() };
  const env: Record<string, string> = {
    APP_ENV: 'dev',
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    LOG_FORMAT: 'json',
    HTTP_HOST: '127.0.0.1',
    RABBITMQ_URL: rabbit.url,
    BROKER_NAMESPACE: `warren.chaos-${randomBytes(4).toString('hex')}`,
    AUTH_DATABASE_URL: authDb.databaseUrl('warren_chaos_auth'),
    MAIN_DATABASE_URL: mainDb.databaseUrl('warren_chaos_main'),
    NOTIFICATION_DATABASE_URL: notificationDb.databaseUrl('warren_chaos_notification'),
    AUTH_PORT: String(ports.auth),
    MAIN_BACKEND_PORT: String(ports.main),
    NOTIFICATION_PORT: String(ports.notification),
    BOOTSTRAP_ADMIN_EMAIL: ADMIN.email,
    BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
    AUTH_KEY_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
    // The load logs in once per row from 127.0.0.1; nothing here is about rate limits.
    AUTH_RATE_LIMIT_PER_MINUTE: '100000',
  };
  const log = (label: string) => join(folder, `${label}.log`);
  const make = (service: ServiceName, label: string, port: number, extra: Record<string, string> = {}) =>
    serviceProcess(service, label, port, { ...env, ...extra }, log(label));
  const auth = make('auth', 'auth', ports.auth);
  const main = make('main-backend', 'main-backend', ports.main);
  const notifications = [make('notification', 'notification', ports.notification)];
  let replicas = 1;

  const self: ChaosStack = {
    env,
    rabbit,
    databases,
    auth,
    main,
    notifications,
    mainUrl: main.url,
    services: () => [auth, main, ...notifications],
    async addNotificationReplica() {
      replicas += 1;
      const port = await freePort();
      const replica = make('notification', `notification-${replicas}`, port, { NOTIFICATION_PORT: String(port) });
      notifications.push(replica);
      replica.start();
      await replica.waitReady();
      return replica;
    },
    dropNotificationReplica(replica) {
      if (replica === notifications[0]) throw new Error('the first notification replica stays');
      notifications.splice(notifications.indexOf(replica), 1);
    },
    async waitAllReady(timeoutMs = 60_000) {
      await Promise.all(self.services().map((s) => s.waitReady(timeoutMs)));
    },
    async remove() {
      await Promise.allSettled(self.services().map((s) => s.signal('SIGKILL')));
      await Promise.allSettled([rabbit.remove(), authDb.remove(), mainDb.remove(), notificationDb.remove()]);
      if (!keepLogs) rmSync(folder, { recursive: true, force: true });
      cleanup.remove();
    },
  };
  try {
    // Auth first: the others fetch its signing keys as they start.
    auth.start();
    await auth.waitReady();
    main.start();
    notifications[0]?.start();
    await self.waitAllReady();
    // Auth announces the bootstrap admin through its outbox: the stack is whole once the directory has it.
    await waitForDirectory(env, 1);
  } catch (err) {
    await self.remove();
    throw err;
  }
  return self;
}
