/**
 * Boots the whole Warren stack in-process, on port 0, against the real local RabbitMQ and
 * PostgreSQL, with databases and a broker namespace of its own. `stop()` stops the services
 * and drops what they created.
 */
import { loadAuthConfig } from '../../services/auth/src/config.js';
import { createAuthService, type AuthService } from '../../services/auth/src/service.js';
import { loadMainConfig } from '../../services/main-backend/src/config.js';
import { createMainBackendService, type MainBackendService } from '../../services/main-backend/src/service.js';
import { loadNotificationConfig } from '../../services/notification/src/config.js';
import { createNotificationService, type NotificationService } from '../../services/notification/src/service.js';
import { randomBytes } from 'node:crypto';
import { waitForDirectory } from './directory.js';
import { deleteNamespace, dropDatabase, isolatedEnv } from './env.js';
import { captureLogs, type CapturedLogs } from './logs.js';

/**
 * The bootstrap admin of every test stack. Its password is random per test process: an admin
 * whose password could be read off the repository (or derived from its email) is a standing
 * account-takeover on any database a crashed run left behind.
 */
export const ADMIN = { email: 'admin@warren.test', password: `admin-${randomBytes(18).toString('base64url')}` };

export interface Stack {
  env: Record<string, string>;
  auth: AuthService;
  main: MainBackendService;
  notification: NotificationService;
  logs: { auth: CapturedLogs; main: CapturedLogs; notification: CapturedLogs };
  mainUrl: string;
  notificationUrl: string;
  notificationWsUrl: string;
  /** Starts another notification replica on the same broker namespace and database. */
  addNotificationReplica(): Promise<{ service: NotificationService; url: string; wsUrl: string; logs: CapturedLogs }>;
  /**
   * Stops the notification service (its sockets close with 1001), runs `whileDown`, and starts a
   * new one on the same port, so clients reconnect to the URLs they have. `notification` is then
   * the new instance; messages published meanwhile wait in its durable queues.
   */
  restartNotification(whileDown?: () => Promise<void>): Promise<void>;
  stop(): Promise<void>;
}

/** Variables for one service only, over the stack's (e.g. its own RABBITMQ_URL: a broker user per service). */
export interface PerService {
  auth?: Record<string, string>;
  main?: Record<string, string>;
  notification?: Record<string, string>;
}

export async function startStack(overrides: Record<string, string> = {}, perService: PerService = {}): Promise<Stack> {
  const env: Record<string, string> = {
    ...isolatedEnv(),
    BOOTSTRAP_ADMIN_EMAIL: ADMIN.email,
    BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
    AUTH_KEY_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
    // Tests log in many times from 127.0.0.1; the rate-limit test sets its own low limit.
    AUTH_RATE_LIMIT_PER_MINUTE: '100000',
    ...overrides,
  };
  const logs = { auth: captureLogs('auth'), main: captureLogs('main-backend'), notification: captureLogs('notification') };
  const notificationEnv = { ...env, ...perService.notification };
  const auth = createAuthService(loadAuthConfig({ ...env, ...perService.auth }), { logger: logs.auth.logger });
  const main = createMainBackendService(loadMainConfig({ ...env, ...perService.main }), { logger: logs.main.logger });
  let notification = createNotificationService(loadNotificationConfig(notificationEnv), { logger: logs.notification.logger });
  // Auth first: the others ask it for the JWKS.
  await auth.start();
  await Promise.all([main.start(), notification.start()]);
  // The notification service stores notifications only for users its directory knows (auth
  // announces them through its outbox): tests send to the bootstrap admin from the start.
  if (env.BOOTSTRAP_ADMIN_EMAIL) await waitForDirectory(env, 1);
  const replicas: NotificationService[] = [];
  const notificationPort = notification.port();
  return {
    env,
    auth,
    main,
    get notification() {
      return notification;
    },
    logs,
    mainUrl: `http://127.0.0.1:${main.port()}`,
    notificationUrl: `http://127.0.0.1:${notificationPort}`,
    notificationWsUrl: `ws://127.0.0.1:${notificationPort}/ws`,
    async addNotificationReplica() {
      const replicaLogs = captureLogs('notification');
      const service = createNotificationService(loadNotificationConfig(notificationEnv), { logger: replicaLogs.logger });
      replicas.push(service);
      await service.start();
      const url = `http://127.0.0.1:${service.port()}`;
      return { service, url, wsUrl: `ws://127.0.0.1:${service.port()}/ws`, logs: replicaLogs };
    },
    async restartNotification(whileDown) {
      await notification.stop();
      await whileDown?.();
      notification = createNotificationService(loadNotificationConfig({ ...notificationEnv, NOTIFICATION_PORT: String(notificationPort) }), {
        logger: logs.notification.logger,
      });
      await notification.start();
    },
    async stop() {
      await Promise.allSettled([main.stop(), notification.stop(), ...replicas.map((r) => r.stop())]);
      await auth.stop().catch(() => undefined);
      await Promise.allSettled([
        dropDatabase(env.AUTH_DATABASE_URL as string),
        dropDatabase(env.MAIN_DATABASE_URL as string),
        dropDatabase(env.NOTIFICATION_DATABASE_URL as string),
        deleteNamespace(env.BROKER_NAMESPACE as string),
      ]);
    },
  };
}

export async function login(stack: Pick<Stack, 'mainUrl'>, email = ADMIN.email, password = ADMIN.password) {
  const res = await fetch(`${stack.mainUrl}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${await res.text()}`);
  return (await res.json()) as {
    accessToken: string;
    refreshToken: string;
    user: { id: string; email: string; role: string };
    permissions: string[];
    session: { id: string; expiresAt: string };
  };
}
