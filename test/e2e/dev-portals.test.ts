/**
 * The development commands around the portals, as a person runs them next to `npm start`:
 * `npm run seed` (scripts/seed.ts) makes an admin by the bootstrap path, a manager and two
 * employees by registration with the emailed code, and notifications; run again it sends
 * nothing twice and prints new passwords that work. `npm run portals` (scripts/portals.ts)
 * serves the bucket's folders with each config.js pointed at the stack, answers 400 to a path it
 * cannot decode and 421 to a host it does not serve. Both refuse what they cannot do (and
 * NODE_ENV=production) with one clear line.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { call } from '../support/http.js';
import { login, startStack, type Stack } from '../support/stack.js';
import { until } from '../support/wait.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Seeded {
  role: string;
  email: string;
  password: string;
}

/** A GET sent exactly as written (path and Host header), as fetch never does. */
function raw(port: string, path: string, host?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path, headers: host ? { host } : {} }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

describe('npm run seed and npm run portals', { timeout: 120_000 }, () => {
  let stack: Stack;
  let env: Record<string, string>;
  let seedCwd: string | undefined;

  before(async () => {
    // No bootstrap admin: the seed makes one.
    stack = await startStack({ BOOTSTRAP_ADMIN_EMAIL: '', BOOTSTRAP_ADMIN_PASSWORD: '' });
    env = {
      ...stack.env,
      BOOTSTRAP_ADMIN_EMAIL: '',
      BOOTSTRAP_ADMIN_PASSWORD: '',
      MAIN_BACKEND_PORT: new URL(stack.mainUrl).port,
      NOTIFICATION_PORT: new URL(stack.notificationUrl).port,
      // Not the repository's .env, if a developer has one.
      INIT_CWD: (seedCwd = mkdtempSync(join(tmpdir(), 'warren-seed-'))),
    };
  });
  after(async () => {
    await stack?.stop();
    if (seedCwd) rmSync(seedCwd, { recursive: true, force: true });
  });

  /** Runs a script as its own process (asynchronously: the stack it talks to runs in this one). */
  function run(script: string, extra: Record<string, string>): Promise<{ status: number | null; stdout: string; stderr: string }> {
    const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: ROOT, env: { ...process.env, ...env, ...extra }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    return new Promise((resolve) => child.once('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    }));
  }

  async function seed(extra: Record<string, string> = {}) {
    const result = await run('scripts/seed.ts', extra);
    const users: Seeded[] = [];
    for (const line of result.stdout.split('\n')) {
      const m = /^\s+(admin|manager|employee)\s+(\S+@\S+)\s+(\S+)\s+http/.exec(line);
      if (m) users.push({ role: m[1]!, email: m[2]!, password: m[3]! });
    }
    return { status: result.status, stdout: result.stdout, stderr: result.stderr, users };
  }
  const inboxOf = async (u: Seeded) => (await call(`${stack.notificationUrl}/inbox`, { token: (await login(stack, u.email, u.password)).accessToken })).body.items as { title: string; sender: { name: string } | null; data: Record<string, unknown> }[];

  let first: Seeded[] = [];

  it('When the seed runs, then an admin, a manager and two employees can sign in with the printed passwords, and have notifications', async () => {
    const seeded = await seed();
    assert.equal(seeded.status, 0, seeded.stderr + seeded.stdout);
    first = seeded.users;
    assert.deepEqual(first.map((u) => u.role), ['admin', 'manager', 'employee', 'employee'], seeded.stdout);
    for (const u of first) assert.equal((await login(stack, u.email, u.password)).user.role, u.role, u.email);
    assert.match(seeded.stdout, /http:\/\/localhost:8080\/manager\//, 'where to sign in');

    const erin = first[2]!;
    await until(async () => (await inboxOf(erin)).length === 4, "the employee's four notifications");
    const laptop = (await inboxOf(erin)).find((n) => n.title === 'Your laptop is ready');
    assert.equal(laptop?.sender?.name, 'Mona Manager');
    assert.equal(laptop?.data.asset, 'LT-4821');
    const eve = first[3]!;
    await until(async () => (await inboxOf(eve)).length === 3, 'the other employee: not the laptop');
    await until(async () => (await inboxOf(first[0]!)).length === 2, "the admin's two");
  });

  it('When it runs again, then the old passwords stop working, the new ones work, and no notification is sent twice', async () => {
    const seeded = await seed();
    assert.equal(seeded.status, 0, seeded.stderr + seeded.stdout);
    assert.deepEqual(seeded.users.map((u) => u.email), first.map((u) => u.email));
    for (const [i, u] of seeded.users.entries()) {
      assert.notEqual(u.password, first[i]!.password);
      assert.equal((await call(`${stack.mainUrl}/login`, { body: { email: u.email, password: first[i]!.password } })).status, 401, 'the old password');
      await login(stack, u.email, u.password);
    }
    assert.match(seeded.stdout, /existed: password reset/);
    await new Promise((r) => setTimeout(r, 1000)); // a duplicate would have been stored by now
    assert.equal((await inboxOf(seeded.users[2]!)).length, 4, 'the same four notifications');
  });

  it('When the stack is not there, or NODE_ENV is production, then the seed refuses with one line', async () => {
    const down = await seed({ MAIN_BACKEND_PORT: '1' });
    assert.equal(down.status, 1);
    assert.match(down.stderr, /^seed: http:\/\/127\.0\.0\.1:1 is not ready: start the stack first \(npm start\)\n$/);
    const production = await seed({ NODE_ENV: 'production' });
    assert.equal(production.status, 1);
    assert.match(production.stderr, /refusing to seed with NODE_ENV=production/);
  });

  it('When the portals are served, then each config.js names the stack on the host the browser used, under a strict CSP; a bad path or host is refused, and so is NODE_ENV=production', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/portals.ts'], { cwd: ROOT, env: { ...process.env, ...env, PORTALS_PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    try {
      await until(() => /Warren portals on http:\/\/localhost:\d+/.test(out), 'the portals to start', 20_000);
      const port = /localhost:(\d+)/.exec(out)![1]!;
      const mainPort = env.MAIN_BACKEND_PORT;
      const config = await (await fetch(`http://127.0.0.1:${port}/manager_QA/config.js`)).text();
      assert.match(config, new RegExp(`"apiUrl":"http://127\\.0\\.0\\.1:${mainPort}"`));
      assert.match(config, /"partition":"qa"/);
      // As a browser that opened http://localhost:<port> asks (fetch cannot set Host).
      const viaLocalhost = (await raw(port, '/admin/config.js', `localhost:${port}`)).body;
      assert.match(viaLocalhost, new RegExp(`"wsUrl":"ws://localhost:${env.NOTIFICATION_PORT}/ws"`));
      const page = await fetch(`http://127.0.0.1:${port}/admin/`);
      assert.equal(page.status, 200);
      assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'; style-src 'self'.*connect-src 'self' http:\/\/127\.0\.0\.1:\d+/);
      // Paths out of the bucket's folders, sent as they are (fetch would normalise them): nothing from the repository.
      for (const path of ['/admin/%2e%2e/%2e%2e/package.json', '/admin/../../../package.json', '/base/..%2f..%2fpackage.json']) {
        const answer = await raw(port, path);
        assert.ok(answer.status === 403 || answer.status === 404, `${path}: ${answer.status}`);
        assert.doesNotMatch(answer.body, /"workspaces"/);
      }
      // A malformed escape (was: the server crashed) and another host's name (was: copied into config.js and the CSP).
      assert.equal((await raw(port, '/admin/%ZZ')).status, 400);
      const evil = await raw(port, '/admin/config.js', 'evil.example');
      assert.equal(evil.status, 421);
      assert.doesNotMatch(evil.body, /evil/);
      assert.equal((await raw(port, '/admin/config.js')).status, 200, 'still serving');
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      assert.equal(await exited, 0, 'Ctrl-C (SIGTERM) stops it cleanly');
    }
    const bad = await run('scripts/portals.ts', { PORTALS_PORT: 'eighty' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /PORTALS_PORT must be a port number/);
    const production = await run('scripts/portals.ts', { PORTALS_PORT: '0', NODE_ENV: 'production' });
    assert.equal(production.status, 2);
    assert.match(production.stderr, /^portals: refusing to serve with NODE_ENV=production/);
  });
});
