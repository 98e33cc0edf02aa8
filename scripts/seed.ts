/**
 * `npm run seed`: demo users and notifications in the local stack that `npm start` runs, so that
 * every screen of the portals (`npm run portals`) has something to show. Development only.
 *
 * The users come the way real ones do:
 * - the admin by the bootstrap path: BOOTSTRAP_ADMIN_EMAIL/PASSWORD if the stack was started with
 *   them, else the auth service's own bootstrap (services/auth/src/domain/bootstrap-admin.ts) on
 *   its database, once;
 * - everyone else by registration over the API (POST /auth/register, then the emailed code to
 *   POST /auth/verify-email); the manager is then promoted by the admin (PATCH /users/:id).
 * The codes are read where the auth service hands them over: `email.requested` messages on the
 * broker, which the seed also listens to (a queue of its own, gone when it exits). A user that
 * exists already gets a new password through the forgotten-password path, so a re-run prints
 * passwords that work. Before sending, the seed waits until the notification service's user
 * directory (fed by auth's `user.upserted`, asynchronously) holds every user with their role:
 * a send to a role reaches only the users it knows. Notifications carry fixed Idempotency-Keys:
 * a re-run within the key's lifetime sends nothing twice.
 */
import { randomBytes } from 'node:crypto';
import amqplib from 'amqplib';
import pg from 'pg';
import { emailRequestedSchema, type EmailRequested } from '@warren/shared/contracts/email';
import { ROUTING_KEYS, topology } from '@warren/shared/contracts/topology';
import { loadAuthConfig } from '../services/auth/src/config.js';
import { UsersRepository } from '../services/auth/src/db/users-repository.js';
import { bootstrapAdmin } from '../services/auth/src/domain/bootstrap-admin.js';
import { loadNotificationConfig } from '../services/notification/src/config.js';
import { loadDotEnv, portalsPort, stackUrls } from './dev-env.js';

interface Person {
  key: 'admin' | 'manager' | 'erin' | 'eve';
  name: string;
  email: string;
  role: 'admin' | 'manager' | 'employee';
  password?: string;
  id?: string;
  how?: string;
}

const CODE_WAIT_MS = 15_000;
const DIRECTORY_WAIT_MS = 15_000;

loadDotEnv();
if (process.env.NODE_ENV === 'production') fail('refusing to seed with NODE_ENV=production: demo users are for development');
const config = loadAuthConfig(process.env);
const { apiUrl, notificationUrl } = stackUrls(process.env);

const people: Person[] = [
  { key: 'admin', name: 'Ada Admin', email: config.bootstrapAdmin?.email ?? 'admin@warren.localhost', role: 'admin' },
  { key: 'manager', name: 'Mona Manager', email: 'mona.manager@warren.localhost', role: 'manager' },
  { key: 'erin', name: 'Erin Employee', email: 'erin.employee@warren.localhost', role: 'employee' },
  { key: 'eve', name: 'Eve Evans', email: 'eve.evans@warren.localhost', role: 'employee' },
];
const person = (key: Person['key']) => people.find((p) => p.key === key)!;

await checkStack();
const codes = await listenForCodes();
try {
  await seedAdmin(person('admin'));
  for (const p of people.filter((x) => x.key !== 'admin')) await seedByRegistration(p);
  const admin = await login(person('admin'));
  for (const p of people) p.id = (await api<{ items: { id: string; email: string }[] }>('GET', `/users?q=${encodeURIComponent(p.email)}`, admin)).items[0]?.id;
  await api('PATCH', `/users/${person('manager').id}`, admin, { role: 'manager' });
  await untilTheDirectoryKnowsEveryone();
  const sent = await seedNotifications(admin, await login(person('manager')));
  report(sent);
} finally {
  await codes.close();
}

// ---------------------------------------------------------------- users

async function seedAdmin(admin: Person): Promise<void> {
  if (config.bootstrapAdmin) {
    admin.password = config.bootstrapAdmin.password;
    admin.name = config.bootstrapAdmin.name;
    admin.how = 'BOOTSTRAP_ADMIN_PASSWORD';
    return;
  }
  const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 1 });
  try {
    const users = new UsersRepository(pool);
    if (await users.findByEmail(admin.email)) return resetPassword(admin);
    admin.password = newPassword();
    const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };
    await bootstrapAdmin(users, { email: admin.email, password: admin.password, name: admin.name }, quiet as never);
    admin.how = 'bootstrap';
  } catch (err) {
    fail(`cannot reach the auth database (${(err as Error).message}); is \`npm start\` running with the same settings?`);
  } finally {
    await pool.end();
  }
}

async function seedByRegistration(p: Person): Promise<void> {
  const password = newPassword();
  const mail = codes.next(p.email);
  await api('POST', '/auth/register', null, { email: p.email, password, name: p.name });
  const email = await mail;
  if (email.template === 'account_exists') return resetPassword(p);
  await api('POST', '/auth/verify-email', null, { email: p.email, code: email.variables.code });
  p.password = password;
  p.how = 'registered';
}

/** An existing user: a new password through "forgot password" (the code comes by email). */
async function resetPassword(p: Person): Promise<void> {
  const password = newPassword();
  const mail = codes.next(p.email, 'password_reset');
  await api('POST', '/auth/password/forgot', null, { email: p.email });
  const { variables } = await mail;
  await api('POST', '/auth/password/reset', null, { email: p.email, code: variables.code, newPassword: password });
  p.password = password;
  p.how = 'existed: password reset';
}

function newPassword(): string {
  return `demo-${randomBytes(9).toString('base64url')}`;
}

/** Role sends reach the users the notification service's directory holds: wait for all, with their roles. */
async function untilTheDirectoryKnowsEveryone(): Promise<void> {
  const db = new pg.Client({ connectionString: loadNotificationConfig(process.env).databaseUrl });
  try {
    await db.connect();
    const deadline = Date.now() + DIRECTORY_WAIT_MS;
    for (;;) {
      const { rows } = await db.query<{ user_id: string; role: string }>('SELECT user_id, role FROM directory_users WHERE user_id = ANY($1::uuid[])', [people.map((p) => p.id)]);
      const known = new Map(rows.map((r) => [r.user_id, r.role]));
      const missing = people.filter((p) => known.get(p.id!) !== p.role);
      if (missing.length === 0) return;
      if (Date.now() > deadline) fail(`the notification service has not learnt of ${missing.map((p) => p.email).join(', ')} in ${DIRECTORY_WAIT_MS / 1000} s: is it running?`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (err) {
    fail(`cannot read the notification service's directory (${(err as Error).message})`);
  } finally {
    await db.end().catch(() => undefined);
  }
}

// ---------------------------------------------------------------- notifications

async function seedNotifications(admin: string, manager: string): Promise<number> {
  const erin = person('erin').id;
  const sends: [string, string, object][] = [
    [admin, 'seed-welcome', { recipients: { roles: ['employee', 'manager'] }, title: 'Welcome to Warren', body: 'Notifications from your team arrive here, live.', type: 'general', data: { handbook: 'https://intranet.example.com/handbook' } }],
    [admin, 'seed-office', { recipients: { roles: ['employee', 'manager'] }, title: 'Office closed on Friday', body: 'The building is closed for maintenance. Work from home.', type: 'facilities' }],
    [manager, 'seed-lunch', { recipients: { roles: ['employee'] }, title: 'Team lunch on Thursday', body: 'Pizza at noon in the big room.' }],
    [manager, 'seed-laptop', { recipients: { userIds: [erin] }, title: 'Your laptop is ready', body: 'Pick it up at the front desk any time today.', type: 'it', data: { asset: 'LT-4821', desk: 'Front desk, 2nd floor', ticket: 'IT-1043' } }],
    [admin, 'seed-signups', { recipients: { roles: ['admin'] }, title: 'Weekly sign-ups', body: 'Three new accounts this week; one waits for a role.', type: 'report', data: { signups: 3 } }],
    [manager, 'seed-review', { recipients: { roles: ['manager', 'admin'] }, title: 'Quarterly review', body: 'Please book your slot by Friday.', type: 'hr' }],
  ];
  for (const [token, key, body] of sends) await api('POST', '/notifications', token, body, { 'idempotency-key': key });
  return sends.length;
}

// ---------------------------------------------------------------- the codes, from the broker

/** A queue of this process's own on `email.requested`: the auth service's emails, codes included. */
async function listenForCodes() {
  const t = topology(config.brokerNamespace);
  let connection: amqplib.ChannelModel;
  try {
    connection = await amqplib.connect(config.rabbitmqUrls[0]!);
  } catch (err) {
    fail(`cannot reach RabbitMQ (${(err as Error).message})`);
  }
  const channel = await connection.createChannel();
  try {
    await channel.checkExchange(t.exchanges.events.name);
  } catch {
    fail(`the exchange ${t.exchanges.events.name} does not exist: start the stack first (npm start), with the same APP_ENV and BROKER_NAMESPACE`);
  }
  const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true, durable: false });
  await channel.bindQueue(queue, t.exchanges.events.name, ROUTING_KEYS.emailRequested);
  const seen: EmailRequested[] = [];
  const waiters = new Set<() => void>();
  await channel.consume(queue, (msg) => {
    if (!msg) return;
    const parsed = emailRequestedSchema.safeParse(JSON.parse(msg.content.toString()));
    if (parsed.success) seen.push(parsed.data);
    for (const w of [...waiters]) w();
  }, { noAck: true });
  return {
    /** The next email to `to` (of `template` if given) from now on. */
    next(to: string, template?: EmailRequested['template']): Promise<EmailRequested> {
      const from = seen.length;
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = seen.slice(from).find((m) => m.to.toLowerCase() === to.toLowerCase() && (!template || m.template === template));
          if (!found) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(found);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no email to ${to} within ${CODE_WAIT_MS / 1000} s (the auth service caps codes per address per hour; try again later)`));
        }, CODE_WAIT_MS);
        waiters.add(check);
        check();
      });
    },
    close: () => connection.close().catch(() => undefined),
  };
}

// ---------------------------------------------------------------- HTTP

async function checkStack(): Promise<void> {
  for (const url of [apiUrl, notificationUrl]) {
    const ok = await fetch(`${url}/readyz`).then((r) => r.ok, () => false);
    if (!ok) fail(`${url} is not ready: start the stack first (npm start)`);
  }
}

async function login(p: Person): Promise<string> {
  return (await api<{ accessToken: string }>('POST', '/login', null, { email: p.email, password: p.password })).accessToken;
}

/** A JSON call to main-backend; a 429 is waited out once (Retry-After), any other failure ends the seed. */
async function api<T = unknown>(method: string, path: string, token: string | null, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(`${apiUrl}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (res.status === 429 && attempt === 0) {
      const wait = Math.min(Number(res.headers.get('retry-after')) || 10, 70);
      console.log(`rate limited on ${path}: waiting ${wait} s`);
      await new Promise((r) => setTimeout(r, wait * 1000));
      continue;
    }
    if (!res.ok) fail(`${method} ${path} answered ${res.status}: ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }
}

function report(sent: number): void {
  const origin = `http://localhost:${portalsPort(process.env)}`;
  const width = Math.max(...people.map((p) => p.email.length));
  console.log(`Seeded ${people.length} users and ${sent} notifications in the stack at ${apiUrl}.\n`);
  for (const p of people) {
    const portal = p.role === 'admin' ? 'admin' : p.role === 'manager' ? 'manager' : 'employee';
    console.log(`  ${p.role.padEnd(8)} ${p.email.padEnd(width)}  ${p.password}  ${origin}/${portal}/  (${p.how})`);
  }
  console.log('\nPortals: npm run portals. Passwords change on every run of the seed.');
}

function fail(message: string): never {
  console.error(`seed: ${message}`);
  process.exit(1);
}
