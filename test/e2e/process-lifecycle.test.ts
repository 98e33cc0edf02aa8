/**
 * The services as operators run them: real processes started the way `npm start -w` does.
 * A bad configuration stops a service at start with one message naming every bad variable;
 * SIGTERM drains and exits 0 within the shutdown timeout; replicas starting at once against
 * a fresh database all come up (database creation and migrations are race-safe). A Ctrl-C of
 * `npm start` drains every service, each says "stopped" once, and the whole thing exits 0.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { deleteNamespace, dropDatabase, isolatedEnv, RABBITMQ_URL, testDatabaseUrl, uniqueNamespace, uniqueSuffix } from '../support/env.js';

const root = join(fileURLToPath(import.meta.url), '..', '..', '..');

function startProcess(service: string, env: Record<string, string>): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: join(root, 'services', service),
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', INIT_CWD: join(root, 'services', service), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (out += d));
  return { child, output: () => out };
}

async function waitForLine(output: () => string, pattern: RegExp, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (pattern.test(output())) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`no line matching ${pattern} in:\n${output()}`);
}

describe('service processes', () => {
  const suffix = uniqueSuffix();
  const namespace = uniqueNamespace(suffix);
  const authDb = testDatabaseUrl('auth', suffix);
  after(async () => {
    await dropDatabase(authDb);
    await deleteNamespace(namespace);
  });

  it('When variables are bad, then the service exits 1 with one message naming each of them', async () => {
    const { child, output } = startProcess('auth', { RABBITMQ_URL: 'not-a-url', AUTH_PORT: 'seventy', APP_ENV: 'prod' });
    const [code] = await once(child, 'exit');
    assert.equal(code, 1);
    const lines = output().trim().split('\n');
    assert.equal(lines.length, 1, output());
    for (const v of ['RABBITMQ_URL', 'AUTH_PORT', 'APP_ENV']) assert.match(output(), new RegExp(v));
  });

  it('When two replicas start at once on a new database, then both come up; When SIGTERM arrives, then each exits 0 within 10 s', async () => {
    const adminPassword = randomBytes(18).toString('base64url');
    const env = {
      AUTH_DATABASE_URL: authDb,
      BROKER_NAMESPACE: namespace,
      RABBITMQ_URL,
      AUTH_PORT: '0',
      HTTP_HOST: '127.0.0.1',
      BOOTSTRAP_ADMIN_EMAIL: 'admin@warren.test',
      BOOTSTRAP_ADMIN_PASSWORD: adminPassword,
    };
    const replicas = [startProcess('auth', env), startProcess('auth', env)];
    await Promise.all(replicas.map((r) => waitForLine(r.output, /auth service started/)));

    const started = Date.now();
    const exits = replicas.map((r) => once(r.child, 'exit'));
    // Twice, as a terminal's Ctrl-C plus concurrently's forwarding does: the drain must go on.
    for (const r of replicas) {
      r.child.kill('SIGTERM');
      r.child.kill('SIGTERM');
    }
    const codes = (await Promise.all(exits)).map(([code]) => code);
    assert.deepEqual(codes, [0, 0]);
    for (const r of replicas) assert.match(r.output(), /"message":"stopped"/, 'each replica finished its drain');
    assert.ok(Date.now() - started < 10_000, 'stopped within 10 s');
    const all = replicas.map((r) => r.output()).join('');
    assert.equal((all.match(/"migrations applied"/g) ?? []).length, 1, 'one replica migrated, the other found nothing to do');
    assert.equal((all.match(/"bootstrap admin created"/g) ?? []).length, 1, 'the admin was created once');
    assert.ok(!all.includes(adminPassword), 'the password never reaches a log line');
  });

  it('When npm start gets a Ctrl-C, then every service drains, says "stopped" once, and npm exits 0 without reporting a failure', { timeout: 120_000 }, async () => {
    // Arrange: the three services on their own databases and namespace, as `npm start` runs them
    const env = isolatedEnv();
    after(async () => {
      for (const v of ['AUTH_DATABASE_URL', 'MAIN_DATABASE_URL', 'NOTIFICATION_DATABASE_URL']) await dropDatabase(env[v] as string);
      await deleteNamespace(env.BROKER_NAMESPACE as string);
    });
    const child = spawn('npm', ['start'], {
      cwd: root,
      // its own process group: a terminal's Ctrl-C signals the whole foreground group
      detached: true,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env, LOG_LEVEL: 'info', NODE_ENV: 'development' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout?.on('data', (d) => (out += d));
    child.stderr?.on('data', (d) => (out += d));
    const exited = once(child, 'exit');
    for (const name of ['auth service', 'main backend', 'notification service']) await waitForLine(() => out, new RegExp(`${name} started`), 60_000);

    // Act: Ctrl-C
    process.kill(-(child.pid as number), 'SIGINT');
    const [code, signal] = await exited;

    // Assert
    assert.deepEqual([code, signal], [0, null], out);
    for (const service of ['auth', 'main-backend', 'notification']) {
      const stopped = out.split('\n').filter((l) => l.includes('"message":"stopped"') && l.includes(`"service":"${service}"`));
      assert.equal(stopped.length, 1, `${service} says "stopped" once:\n${out}`);
      assert.match(stopped[0] as string, /"signal":"SIGINT"/);
    }
    assert.doesNotMatch(out, /exited with code|npm error|ERR!/, 'nothing reads like a failure');
    assert.doesNotMatch(out, /stop failed|shutdown timed out|close failed/);
  });
});
