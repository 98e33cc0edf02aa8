/**
 * Warren as the chaos rows need it: a RabbitMQ node and one PostgreSQL cluster per service
 * database, all of the test's own (so a row can stop "the notification database" alone), and
 * the three services as real processes on fixed ports (so a row can kill -9 one and start it
 * again where its clients look for it). The machine's shared broker and PostgreSQL are never
 * used. `remove()` stops every process and removes the node and clusters.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitForDirectory } from '../support/directory.js';
import { freePort, privateFolder } from '../support/private-processes.js';
import { startPrivatePostgres, type PrivatePostgres } from '../support/private-postgres.js';
import { startPrivateRabbit, type PrivateRabbit } from '../support/private-rabbitmq.js';
import { ADMIN } from '../support/stack.js';
import type { ServiceName } from '../support/service-process.js';
import { brokerUserName, type BrokerUser } from '@warren/shared/contracts/broker-users';
import { passwordVariable } from '../../scripts/broker-permissions-output.js';
import { run } from '../support/private-processes.js';
import { restartableService, type RestartableService } from './restartable-service.js';

export interface ChaosStack {
  env: Record<string, string>;
  rabbit: PrivateRabbit;
  databases: Record<'auth' | 'main' | 'notification', PrivatePostgres>;
  auth: RestartableService;
  main: RestartableService;
  /** The notification replicas; the first is the one clients are given first. */
  notifications: RestartableService[];
  mainUrl: string;
  /** Every service process the stack has now (replicas included). */
  services(): RestartableService[];
  /** Starts another notification replica on the same database and broker, and waits until it is ready. */
  addNotificationReplica(): Promise<RestartableService>;
  /** Forgets a replica (stopped or killed by the caller): later rows run without it. */
  dropNotificationReplica(replica: RestartableService): void;
  waitAllReady(timeoutMs?: number): Promise<void>;
  /** Writes every service's log so far to a new folder (for a row that went wrong); its path. */
  saveLogs(): string;
  remove(): Promise<void>;
}

export interface ChaosStackOptions {
  /**
   * Each service on its own broker user (docs/decisions/0032-broker-users.md), made by
   * `npm run broker:permissions` and applied to the private node; the stack's own helpers
   * (directory announcements, the tally) keep the node's guest.
   */
  brokerUsers?: boolean;
}

export async function startChaosStack(opts: ChaosStackOptions = {}): Promise<ChaosStack> {
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
  const own: Partial<Record<ServiceName, Record<string, string>>> = opts.brokerUsers ? await applyBrokerUsers(rabbit, env.BROKER_NAMESPACE as string) : {};
  const make = (service: ServiceName, label: string, port: number, extra: Record<string, string> = {}) =>
    restartableService(service, label, port, { ...env, ...own[service], ...extra });
  const auth = make('auth', 'auth', ports.auth);
  const main = make('main-backend', 'main-backend', ports.main);
  const notifications = [make('notification', 'notification', ports.notification)];
  let replicas = 1;
  /** Replicas a row killed for good: their logs are still wanted. */
  const dropped: RestartableService[] = [];

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
      dropped.push(replica);
    },
    async waitAllReady(timeoutMs = 60_000) {
      await Promise.all(self.services().map((s) => s.waitReady(timeoutMs)));
    },
    saveLogs() {
      const folder = privateFolder('chaos-logs');
      for (const service of [...self.services(), ...dropped]) {
        writeFileSync(join(folder, `${service.label}.log`), service.output());
      }
      return folder;
    },
    async remove() {
      await Promise.allSettled(self.services().map((s) => s.signal('SIGKILL')));
      await Promise.allSettled([rabbit.remove(), authDb.remove(), mainDb.remove(), notificationDb.remove()]);
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

/** Applies the generated users to `rabbit` for `namespace`; each service's RABBITMQ_URL. */
async function applyBrokerUsers(rabbit: PrivateRabbit, namespace: string): Promise<Partial<Record<ServiceName, Record<string, string>>>> {
  const users: BrokerUser[] = ['auth', 'main-backend', 'notification', 'partner', 'operator'];
  const passwords = Object.fromEntries(users.map((u) => [u, `pw-${randomBytes(12).toString('base64url')}`])) as Record<BrokerUser, string>;
  const { stdout: script } = await run(process.execPath, ['--import', 'tsx', 'scripts/broker-permissions.ts', '--namespace', namespace]);
  await run('sh', ['-c', script], {
    env: { ...process.env, ...rabbit.ctlCommand.env, RABBITMQCTL: rabbit.ctlCommand.command, ...Object.fromEntries(users.map((u) => [passwordVariable(u), passwords[u]])) },
    timeout: 180_000,
  });
  const url = (u: BrokerUser) => ({ RABBITMQ_URL: `amqp://${encodeURIComponent(brokerUserName(namespace, u))}:${passwords[u]}@127.0.0.1:${rabbit.port}` });
  return { auth: url('auth'), 'main-backend': url('main-backend'), notification: url('notification') };
}
