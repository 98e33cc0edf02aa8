/**
 * The production build that the Dockerfile runs, in a temporary copy of exactly what
 * .dockerignore lets into the image's build context: `npm run build -w shared`, then each
 * service's, compile to dist/ with the SQL migrations beside the compiled code; a compiled
 * service starts with plain node (no tsx) against the real RabbitMQ and PostgreSQL, passes
 * the image's healthcheck, and exits 0 on SIGTERM. Development resolution is unchanged:
 * without the "warren-dist" condition @warren/shared is still its .ts sources.
 * (The copy's node_modules links to this repository's, except @warren/shared → the copy.)
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { deleteNamespace, dropDatabase, RABBITMQ_URL, testDatabaseUrl, uniqueNamespace, uniqueSuffix } from '../support/env.js';
import { REPO_ROOT, SERVICES } from './fake-tools.js';

/** The build context as docker would send it: the paths the .dockerignore allowlist names. */
function copyBuildContext(to: string): void {
  const allowed = readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('!'))
    .map((line) => line.slice(1));
  const paths = allowed.flatMap((a) => (a.startsWith('services/*/') ? SERVICES.map((s) => a.replace('*', s)) : [a]));
  for (const path of paths) {
    if (existsSync(join(REPO_ROOT, path))) cpSync(join(REPO_ROOT, path), join(to, path), { recursive: true });
  }
  mkdirSync(join(to, 'node_modules', '@warren'), { recursive: true });
  for (const name of readdirSync(join(REPO_ROOT, 'node_modules'))) {
    if (name !== '@warren' && name !== '.bin') symlinkSync(join(REPO_ROOT, 'node_modules', name), join(to, 'node_modules', name));
  }
  symlinkSync('../../shared', join(to, 'node_modules', '@warren', 'shared'));
  for (const service of SERVICES) symlinkSync(`../../services/${service}`, join(to, 'node_modules', '@warren', service));
}

function npmBuild(root: string, workspace: string): void {
  const result = spawnSync('npm', ['run', 'build', '-w', workspace], { cwd: root, encoding: 'utf8' });
  assert.equal(result.status, 0, `npm run build -w ${workspace}:\n${result.stdout}${result.stderr}`);
}

function resolveShared(root: string, conditions: string[]): string {
  const result = spawnSync(
    process.execPath,
    [...conditions, '--input-type=module', '-e', "process.stdout.write(import.meta.resolve('@warren/shared/config'))"],
    { cwd: join(root, 'services', 'auth'), encoding: 'utf8' },
  );
  assert.equal(result.status, 0, result.stderr);
  return result.stdout;
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

describe('production build', () => {
  const suffix = uniqueSuffix();
  const namespace = uniqueNamespace(suffix);
  const authDb = testDatabaseUrl('auth', suffix);
  const context = mkdtempSync(join(tmpdir(), 'warren-build-'));
  after(async () => {
    rmSync(context, { recursive: true, force: true });
    await dropDatabase(authDb);
    await deleteNamespace(namespace);
  });

  it('When @warren/shared is resolved without a condition (npm start, npm test), then it is still the .ts sources', () => {
    assert.match(resolveShared(REPO_ROOT, []), /\/shared\/src\/config\.ts$/);
  });

  it('When every workspace is built from the build context, then dist/ holds main.js and the SQL migrations', () => {
    copyBuildContext(context);
    npmBuild(context, 'shared');
    for (const service of SERVICES) {
      npmBuild(context, `services/${service}`);
      const dist = join(context, 'services', service, 'dist');
      assert.ok(readdirSync(dist).includes('main.js'), `${service}: dist/main.js`);
      const sql = readdirSync(join(REPO_ROOT, 'services', service, 'src', 'db', 'migrations')).filter((f) => f.endsWith('.sql'));
      assert.deepEqual(readdirSync(join(dist, 'db', 'migrations')).sort(), sql.sort(), `${service}: migrations copied`);
    }
  });

  it('When the compiled auth service runs with plain node, then it gets ready, passes the healthcheck and exits 0 on SIGTERM', async () => {
    const port = await freePort();
    const env = {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'production',
      APP_ENV: 'dev',
      WARREN_SERVICE: 'auth',
      AUTH_PORT: String(port),
      HTTP_HOST: '127.0.0.1',
      RABBITMQ_URL,
      BROKER_NAMESPACE: namespace,
      AUTH_DATABASE_URL: authDb,
      AUTH_KEY_ENCRYPTION_KEY: Buffer.alloc(32, 3).toString('base64'),
    };
    // Without the key, production refuses to start and names the variable (keys never in clear).
    const { AUTH_KEY_ENCRYPTION_KEY: _key, ...keyless } = env;
    const refused = spawnSync(process.execPath, ['--conditions=warren-dist', 'dist/main.js'], {
      cwd: join(context, 'services', 'auth'),
      env: keyless,
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.notEqual(refused.status, 0, 'refused to start');
    assert.match(refused.stdout + refused.stderr, /AUTH_KEY_ENCRYPTION_KEY/);
    // As the image's CMD runs it, from the service's folder.
    assert.match(resolveShared(context, ['--conditions=warren-dist']), new RegExp(`^file://${context}/shared/dist/config\\.js$`));
    const child = spawn(process.execPath, ['--conditions=warren-dist', '--enable-source-maps', 'dist/main.js'], {
      cwd: join(context, 'services', 'auth'),
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const exited = once(child, 'exit');
    try {
      const deadline = Date.now() + 30_000;
      let ready = false;
      while (!ready && Date.now() < deadline && child.exitCode === null) {
        ready = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false);
        if (!ready) await new Promise((r) => setTimeout(r, 200));
      }
      assert.ok(ready, `ready within 30 s:\n${output}`);
      assert.match(output, /"migrations applied"/);

      const healthcheck = join(context, 'deploy', 'healthcheck.mjs');
      const check = spawnSync(process.execPath, ['--conditions=warren-dist', healthcheck], { env, encoding: 'utf8' });
      assert.equal(check.status, 0, `healthcheck: ${check.stderr}`);
      const wrongPort = spawnSync(process.execPath, ['--conditions=warren-dist', healthcheck], {
        env: { ...env, AUTH_PORT: String(await freePort()) },
        encoding: 'utf8',
      });
      assert.equal(wrongPort.status, 1, 'healthcheck fails where nothing answers');
    } finally {
      child.kill('SIGTERM');
    }
    const [code] = await exited;
    assert.equal(code, 0, output);
  });
});
