/**
 * The six production images really built and run. A private dockerd (private-dockerd.ts) gets
 * a stand-in node:20-bookworm-slim (base-image.ts), then scripts/build-images.sh --all builds
 * the dev and qa image of every service with the classic builder (--jobs 1 --network host);
 * each image runs against this machine's PostgreSQL and RabbitMQ (its own databases and broker
 * namespace, dropped afterwards) and must answer /healthz, turn healthy through its own
 * HEALTHCHECK, run as a non-root user and stop cleanly on SIGTERM.
 *
 * Opt-in, because it needs root and takes minutes (measured on 2 cores: cold 6.5 min, of which
 * 1 min the base image; warm 30 s, with the layer cache in .cache/images/docker):
 * WARREN_IMAGE_TEST=1 runs it (.ci/run sets it), WARREN_IMAGE_TEST=0 never, unset runs it only when CI is set. Where no daemon can
 * run it is skipped with the reason. Image sizes are printed as diagnostics (README, Deploy).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { spawn } from 'node:child_process';
import { deleteNamespace, dropDatabase, RABBITMQ_URL, testDatabaseUrl, uniqueNamespace, uniqueSuffix } from '../support/env.js';
import { REPO_ROOT, SERVICES } from '../scripts/fake-tools.js';
import { loadBaseImage } from './base-image.js';
import { dockerdUnavailable, startDockerd, type PrivateDockerd } from './private-dockerd.js';

const CACHE = join(REPO_ROOT, '.cache', 'images');
const REGISTRY = 'warren-test';
const ENVS = ['dev', 'qa'] as const;
type Service = (typeof SERVICES)[number];
type AppEnv = (typeof ENVS)[number];

function optedOut(): string | undefined {
  const flag = process.env.WARREN_IMAGE_TEST;
  if (flag === '1') return undefined;
  if (flag === '0') return 'WARREN_IMAGE_TEST=0';
  if (process.env.CI) return undefined;
  return 'opt-in: set WARREN_IMAGE_TEST=1 (needs root; minutes of docker builds)';
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/** Runs a script with the daemon's environment, without blocking the event loop. */
function runScript(daemon: PrivateDockerd, args: string[], env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', args, { cwd: REPO_ROOT, env: { ...daemon.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('close', (code) => resolve({ code, output }));
  });
}

/**
 * Earlier runs' images (other commits' tags) go, and so do untagged layers no build of this run
 * used. Not `docker image prune`: the classic builder's cache of the build and deps stages is
 * untagged images that no final image descends from, which it would delete; this run's build
 * logs name every layer it made or reused (" ---> <id>"), and those stay for the next run.
 */
function pruneOlderRuns(daemon: PrivateDockerd, keep: string[], logs: string): void {
  const listed = daemon.docker(['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}', '--filter', `reference=${REGISTRY}/*`]).stdout;
  const stale = listed.split('\n').filter((ref) => ref && !keep.includes(ref));
  if (stale.length) daemon.docker(['image', 'rm', ...stale]);
  const used = new Set(readdirSync(logs).flatMap((f) => [...readFileSync(join(logs, f), 'utf8').matchAll(/^ ---> ([0-9a-f]{12})$/gm)].map((m) => m[1])));
  const dangling = daemon.docker(['image', 'ls', '--quiet', '--filter', 'dangling=true']).stdout.split('\n').filter(Boolean);
  const unused = [...new Set(dangling)].filter((id) => !used.has(id.slice(0, 12)));
  // One at a time: an image another still descends from is refused, and that is fine.
  for (const id of unused) daemon.docker(['image', 'rm', id]);
}

const PORT_VARIABLE: Record<Service, string> = { auth: 'AUTH_PORT', 'main-backend': 'MAIN_BACKEND_PORT', notification: 'NOTIFICATION_PORT' };
const DATABASE_VARIABLE: Record<Service, string> = { auth: 'AUTH_DATABASE_URL', 'main-backend': 'MAIN_DATABASE_URL', notification: 'NOTIFICATION_DATABASE_URL' };

interface Running {
  service: Service;
  appEnv: AppEnv;
  image: string;
  container: string;
  port: number;
}

describe('production images', { timeout: 40 * 60_000 }, () => {
  let skip = optedOut() ?? dockerdUnavailable();
  let daemon: PrivateDockerd | undefined;
  const images = new Map<string, string>(); // "<service> <env>" → image reference
  const running: Running[] = [];
  const suffix = uniqueSuffix();
  const namespaces = { dev: uniqueNamespace(`${suffix}d`), qa: uniqueNamespace(`${suffix}q`) };
  const databases = ENVS.flatMap((e) => SERVICES.map((s) => testDatabaseUrl(`${s}_${e}`, suffix)));
  const databaseOf = (service: Service, appEnv: AppEnv) => testDatabaseUrl(`${service}_${appEnv}`, suffix);
  const state = mkdtempSync(join(tmpdir(), 'warren-images-'));

  const guard = (t: TestContext): PrivateDockerd | undefined => {
    if (skip || !daemon) {
      t.skip(skip ?? 'no daemon');
      return undefined;
    }
    return daemon;
  };

  before(async () => {
    if (skip) return;
    mkdirSync(CACHE, { recursive: true });
    try {
      daemon = await startDockerd(join(CACHE, 'docker'));
    } catch (err) {
      skip = `no private dockerd: ${(err as Error).message.split('\n')[0]}`;
      return;
    }
    const began = Date.now();
    const base = loadBaseImage(daemon, CACHE, join(REPO_ROOT, 'test', 'images', 'stand-in-base.sh'));
    const baseSeconds = (Date.now() - began) / 1000;
    const build = await runScript(daemon, ['scripts/build-images.sh', '--all', '--jobs', '1', '--network', 'host', '--allow-dirty'], {
      REGISTRY,
      BUILD_LOGS_DIR: join(state, 'logs'),
      BUILD_MARKERS_DIR: join(state, 'markers'),
    });
    const buildSeconds = (Date.now() - began) / 1000 - baseSeconds;
    assert.equal(build.code, 0, build.output);
    for (const line of build.output.split('\n')) {
      const m = /^build-images: ok\s+(\S+\/([a-z-]+?)(?:_qa)?:(dev|qa)-\S+)$/.exec(line);
      if (m) images.set(`${m[2]} ${m[3]}`, m[1] as string);
    }
    assert.equal(images.size, 6, build.output);
    pruneOlderRuns(daemon, [...images.values()], join(state, 'logs'));
    console.log(`# images: base ${base.built ? 'made' : 'loaded'} in ${baseSeconds.toFixed(0)} s, six images built in ${buildSeconds.toFixed(0)} s`);
  });

  after(async () => {
    if (daemon) {
      for (const r of running) daemon.docker(['rm', '--force', r.container]);
      await daemon.stop();
    }
    rmSync(state, { recursive: true, force: true });
    if (!skip) {
      await Promise.all(databases.map((db) => dropDatabase(db)));
      for (const ns of Object.values(namespaces)) await deleteNamespace(ns);
    }
  });

  it('When built, then there are six images, each labelled for its service and partition, running as the node user, with a HEALTHCHECK', (t) => {
    const d = guard(t);
    if (!d) return;
    const sizes: string[] = [];
    for (const service of SERVICES) {
      for (const appEnv of ENVS) {
        const image = images.get(`${service} ${appEnv}`) as string;
        assert.match(image, appEnv === 'dev' ? new RegExp(`^${REGISTRY}/${service}:dev-`) : new RegExp(`^${REGISTRY}/${service}_qa:qa-`));
        const inspect = d.docker(['image', 'inspect', image]);
        assert.equal(inspect.status, 0, inspect.stderr);
        const [info] = JSON.parse(inspect.stdout) as [{ Size: number; Config: { User: string; Labels: Record<string, string>; Healthcheck?: { Test: string[] }; Env: string[] } }];
        assert.equal(info.Config.User, 'node');
        assert.equal(info.Config.Labels['warren.service'], service);
        assert.equal(info.Config.Labels['warren.app-env'], appEnv);
        assert.deepEqual(info.Config.Healthcheck?.Test, ['CMD', 'node', '--conditions=warren-dist', '/app/deploy/healthcheck.mjs']);
        assert.ok(info.Config.Env.includes(`APP_ENV=${appEnv}`));
        sizes.push(`${image.replace(/-[0-9a-f]{12}(-dirty)?$/, '')} ${(info.Size / 1e6).toFixed(0)} MB`);
      }
    }
    t.diagnostic(`image sizes: ${sizes.join(', ')}`);
  });

  it('When an image is listed, then it holds compiled code only: no TypeScript sources, tests, .env or compiler', (t) => {
    const d = guard(t);
    if (!d) return;
    for (const service of SERVICES) {
      const image = images.get(`${service} dev`) as string;
      const listing = d.docker(['run', '--rm', '--network', 'none', '--entrypoint', 'sh', image, '-c',
        'find /app -path /app/node_modules -prune -o -print; command -v g++ make python3 || true']);
      assert.equal(listing.status, 0, listing.stderr);
      const files = listing.stdout.split('\n');
      assert.ok(files.includes(`/app/services/${service}/dist/main.js`), `${service}: dist/main.js`);
      assert.deepEqual(files.filter((f) => /\/src(\/|$)|\.env$|\/test(\/|$)|\.ts$/.test(f) && !f.endsWith('.d.ts')), [], service);
      assert.deepEqual(files.filter((f) => /\/(g\+\+|make|python3)$/.test(f)), [], `${service}: no compiler`);
      for (const other of SERVICES.filter((s) => s !== service)) assert.ok(!files.some((f) => f.startsWith(`/app/services/${other}/`)), `${service} holds no ${other}`);
    }
  });

  it('When each image runs against the real PostgreSQL and RabbitMQ, then it answers /healthz, turns healthy by its HEALTHCHECK and is not root', async (t) => {
    const d = guard(t);
    if (!d) return;
    for (const appEnv of ENVS) {
      for (const service of SERVICES) {
        const image = images.get(`${service} ${appEnv}`) as string;
        const port = await freePort();
        const container = `warren-test-${suffix}-${service}-${appEnv}`;
        const env: Record<string, string> = {
          HTTP_HOST: '127.0.0.1',
          [PORT_VARIABLE[service]]: String(port),
          RABBITMQ_URL,
          BROKER_NAMESPACE: namespaces[appEnv],
          [DATABASE_VARIABLE[service]]: databaseOf(service, appEnv),
          ...(service === 'auth' ? { AUTH_KEY_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64') } : {}),
          // Nothing listens there: no email is sent in this test, but production requires it.
          ...(service === 'notification' ? { SMTP_URL: 'smtp://127.0.0.1:9' } : {}),
        };
        const args = ['run', '--detach', '--name', container, '--network', 'host', '--log-opt', 'max-size=1m'];
        for (const [k, v] of Object.entries(env)) args.push('--env', `${k}=${v}`);
        const started = d.docker([...args, image]);
        assert.equal(started.status, 0, started.stderr);
        running.push({ service, appEnv, image, container, port });
      }
    }
    // The HEALTHCHECK runs every 15 s: all six turn healthy within a few intervals.
    const deadline = Date.now() + 120_000;
    const health = () => Object.fromEntries(running.map((r) => [r.container, d.docker(['inspect', '--format', '{{.State.Status}} {{.State.Health.Status}}', r.container]).stdout.trim()]));
    let states = health();
    while (Object.values(states).some((s) => s !== 'running healthy') && Date.now() < deadline) {
      assert.ok(Object.values(states).every((s) => s.startsWith('running')), `a container stopped: ${JSON.stringify(states)}\n${running.map((r) => d.docker(['logs', '--tail', '5', r.container]).stderr).join('\n')}`);
      await new Promise((r) => setTimeout(r, 2000));
      states = health();
    }
    assert.ok(Object.values(states).every((s) => s === 'running healthy'), JSON.stringify(states));
    for (const r of running) {
      const res = await fetch(`http://127.0.0.1:${r.port}/healthz`);
      assert.equal(res.status, 200, `${r.container} /healthz`);
      const uid = d.docker(['exec', r.container, 'id', '-u']);
      assert.equal(uid.status, 0, uid.stderr);
      assert.notEqual(uid.stdout.trim(), '0', `${r.container} runs as root`);
      const pid1 = d.docker(['exec', r.container, 'cat', '/proc/1/cmdline']);
      assert.match(pid1.stdout, /^node\0/, `${r.container}: node is PID 1 (gets SIGTERM itself)`);
      const logs = d.docker(['logs', r.container]);
      assert.ok(logs.stdout.includes(`"namespace":"${namespaces[r.appEnv]}"`), `${r.container} uses its namespace:\n${logs.stdout}`);
    }
  });

  it('When each container gets SIGTERM, then it exits 0 within a few seconds and logs a clean stop', async (t) => {
    const d = guard(t);
    if (!d) return;
    assert.equal(running.length, 6, 'the containers of the previous test');
    for (const r of running) {
      const began = Date.now();
      const stopped = d.docker(['stop', '--time', '15', r.container]);
      const seconds = (Date.now() - began) / 1000;
      assert.equal(stopped.status, 0, stopped.stderr);
      const exit = d.docker(['inspect', '--format', '{{.State.ExitCode}} {{.State.OOMKilled}}', r.container]).stdout.trim();
      assert.equal(exit, '0 false', `${r.container} exit`);
      assert.ok(seconds < 8, `${r.container} took ${seconds} s (not killed after the grace period)`);
      const logs = d.docker(['logs', '--tail', '3', r.container]).stdout;
      assert.match(logs, /"message":"stopped".*"signal":"SIGTERM"|"signal":"SIGTERM".*"message":"stopped"/, `${r.container}:\n${logs}`);
    }
  });

  it('When a required secret is missing or the build argument is hostile, then the container refuses to start and the build fails', async (t) => {
    const d = guard(t);
    if (!d) return;
    const refused = d.docker(['run', '--rm', '--network', 'host', '--env', `AUTH_DATABASE_URL=${databaseOf('auth', 'qa')}`, images.get('auth qa') as string], { timeoutMs: 60_000 });
    assert.notEqual(refused.status, 0);
    assert.match(refused.stdout + refused.stderr, /AUTH_KEY_ENCRYPTION_KEY/);
    for (const [arg, message] of [
      ['SERVICE=../../etc', /build arg SERVICE must be auth, main-backend or notification/],
      ['APP_ENV=prod', /build arg APP_ENV must be dev or qa/],
    ] as const) {
      const buildArgs = arg.startsWith('APP_ENV') ? ['--build-arg', 'SERVICE=auth', '--build-arg', arg] : ['--build-arg', arg];
      const bad = d.docker(['build', '--force-rm', '--network', 'host', ...buildArgs, '--tag', `${REGISTRY}/refused:x`, REPO_ROOT], { timeoutMs: 10 * 60_000 });
      assert.notEqual(bad.status, 0, arg);
      assert.match(bad.stdout + bad.stderr, message);
    }
  });
});
