/**
 * scripts/build-images.sh against a recording `docker` in a temporary repository: which
 * images it builds, with which tags and build arguments, in parallel, what a change to one
 * service or to shared/ rebuilds, and what a failed build does to the exit code, the output
 * and the markers.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createSandbox, SERVICES, type Call, type Sandbox } from './fake-tools.js';

function builds(calls: Call[]): Call[] {
  return calls.filter((c) => c.args[0] === 'build');
}

/** The image a build call tags, e.g. warren/auth:dev-0123456789ab. */
function tagOf(call: Call): string {
  const i = call.args.indexOf('--tag');
  return call.args[i + 1] ?? '';
}

function expectedTags(services: readonly string[], sha: string, registry = 'warren'): string[] {
  return services.flatMap((s) => [`${registry}/${s}:dev-${sha}`, `${registry}/${s}_qa:qa-${sha}`]).sort();
}

function markerOf(sandbox: Sandbox, service: string): string | undefined {
  const path = join(sandbox.repo, '.build-markers', service);
  return existsSync(path) ? readFileSync(path, 'utf8').trim() : undefined;
}

/** The largest number of builds running at one instant. */
function maxConcurrency(calls: Call[]): number {
  let best = 0;
  for (const c of calls) best = Math.max(best, calls.filter((o) => o.start <= c.start && o.end > c.start).length);
  return best;
}

describe('scripts/build-images.sh', () => {
  let sandbox: Sandbox;
  const short = () => sandbox.git('rev-parse', '--short=12', 'HEAD');
  before(() => {
    sandbox = createSandbox();
  });
  after(() => sandbox.cleanup());

  it('When called with --all, then it builds 6 images in parallel: dev and qa of each service, tagged with the sha', async () => {
    sandbox.resetCalls();
    // Long enough builds that starting all six cannot take longer, even on a loaded machine.
    const result = await sandbox.run('build-images.sh', ['--all'], { FAKE_BUILD_SECONDS: '1.5' });
    assert.equal(result.code, 0, result.stderr);
    const calls = builds(sandbox.calls('docker'));
    assert.equal(calls.length, 6);
    const sha = short();
    assert.deepEqual(calls.map(tagOf).sort(), expectedTags(SERVICES, sha));
    const head = sandbox.git('rev-parse', 'HEAD');
    for (const service of SERVICES) {
      for (const env of ['dev', 'qa'] as const) {
        const image = env === 'dev' ? `warren/${service}:dev-${sha}` : `warren/${service}_qa:qa-${sha}`;
        const call = calls.find((c) => tagOf(c) === image);
        assert.deepEqual(call?.args, [
          'build',
          '--file',
          'Dockerfile',
          '--build-arg',
          `SERVICE=${service}`,
          '--build-arg',
          `APP_ENV=${env}`,
          // main-backend's Node options, from scripts/node-options.txt.
          ...(service === 'main-backend' ? ['--build-arg', 'NODE_OPTIONS=--max-semi-space-size=32'] : []),
          '--label',
          `org.opencontainers.image.revision=${head}`,
          '--tag',
          image,
          '.',
        ]);
      }
    }
    // Parallel: every build started before the first one ended.
    const lastStart = Math.max(...calls.map((c) => c.start));
    const firstEnd = Math.min(...calls.map((c) => c.end));
    assert.ok(lastStart < firstEnd, `builds overlap (last start ${lastStart} < first end ${firstEnd})`);
    assert.equal(sandbox.calls('docker').filter((c) => c.args[0] === 'push').length, 0, 'no push without --push');
    for (const service of SERVICES) {
      assert.equal(markerOf(sandbox, service), head, `marker of ${service}`);
      for (const env of ['dev', 'qa']) {
        const log = readFileSync(join(sandbox.repo, 'build-logs', `${service}-${env}.log`), 'utf8');
        assert.match(log, /fake docker: built/, `its own log for ${service}-${env}`);
      }
    }
  });

  it('When nothing changed since the last build, then no argument builds nothing', async () => {
    sandbox.resetCalls();
    const result = await sandbox.run('build-images.sh', []);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /nothing to build/);
    assert.equal(sandbox.calls('docker').length, 0);
  });

  it('When one service changed, then no argument builds only its 2 images', async () => {
    sandbox.commit('services/main-backend/src/routes.ts', 'export const x = 1;\n');
    sandbox.commit('README.md', '# docs change only\n');
    sandbox.resetCalls();
    const result = await sandbox.run('build-images.sh', []);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(builds(sandbox.calls('docker')).map(tagOf).sort(), expectedTags(['main-backend'], short()));
    assert.match(result.stdout, /main-backend: changed: services\/main-backend\/src\/routes\.ts/);
  });

  it('When shared/ changed, then no argument builds all 6 images', async () => {
    sandbox.commit('shared/src/config.ts', 'export const changed = true;\n');
    sandbox.resetCalls();
    const result = await sandbox.run('build-images.sh', []);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(builds(sandbox.calls('docker')).map(tagOf).sort(), expectedTags(SERVICES, short()));
  });

  it('When the lockfile changed, then no argument builds all 6 images', async () => {
    sandbox.commit('package-lock.json', '{"lockfileVersion":3}\n');
    sandbox.resetCalls();
    const result = await sandbox.run('build-images.sh', []);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(builds(sandbox.calls('docker')).length, 6);
  });

  it('When a file is moved out of a service, then that service counts as changed', async () => {
    sandbox.git('mv', 'services/notification/src/main.ts', 'docs-main.ts');
    sandbox.git('commit', '-q', '-m', 'move');
    sandbox.resetCalls();
    const result = await sandbox.run('build-images.sh', []);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(builds(sandbox.calls('docker')).map(tagOf).sort(), expectedTags(['notification'], short()));
  });

  it('When services are named, then only theirs are built', async () => {
    sandbox.resetCalls();
    const result = await sandbox.run('build-images.sh', ['auth', 'main-backend']);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(builds(sandbox.calls('docker')).map(tagOf).sort(), expectedTags(['auth', 'main-backend'], short()));
  });

  it('When a build fails, then it exits non-zero naming the service, and that service keeps its old marker', async () => {
    const before = markerOf(sandbox, 'notification');
    sandbox.commit('shared/src/config.ts', 'export const changedAgain = true;\n');
    sandbox.resetCalls();
    const result = await sandbox.run('build-images.sh', [], { FAKE_DOCKER_FAIL: 'notification' });
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /failed: notification \(dev qa\)/);
    assert.match(result.stderr, /build-logs\/notification-dev\.log/);
    assert.doesNotMatch(result.stderr, /failed:.*auth/);
    assert.equal(builds(sandbox.calls('docker')).length, 6, 'the other builds still ran');
    assert.equal(markerOf(sandbox, 'notification'), before, 'the failed service is rebuilt next time');
    const head = sandbox.git('rev-parse', 'HEAD');
    assert.equal(markerOf(sandbox, 'auth'), head);
    assert.equal(markerOf(sandbox, 'main-backend'), head);

    sandbox.resetCalls();
    const retry = await sandbox.run('build-images.sh', []);
    assert.equal(retry.code, 0, retry.stderr);
    assert.deepEqual(builds(sandbox.calls('docker')).map(tagOf).sort(), expectedTags(['notification'], short()));
  });

  it('When two services fail, then the output names both', async () => {
    sandbox.resetCalls();
    const result = await sandbox.run('build-images.sh', ['--all'], { FAKE_DOCKER_FAIL: 'auth' });
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /FAILED warren\/auth:dev-/);
    assert.match(result.stderr, /FAILED warren\/auth_qa:qa-/);
    assert.match(result.stderr, /failed: auth \(dev qa\)/);
  });

  it('When --dry-run is given, then it prints the 6 builds and runs nothing', async () => {
    sandbox.resetCalls();
    const markers = SERVICES.map((s) => markerOf(sandbox, s));
    const result = await sandbox.run('build-images.sh', ['--all', '--dry-run', '--push', '--network', 'host'], { REGISTRY: 'registry.example.com/team' });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(sandbox.calls('docker').length, 0, 'not even the daemon check');
    const planned = result.stdout.split('\n').filter((l) => l.includes('docker build'));
    assert.equal(planned.length, 6);
    assert.ok(planned.every((l) => l.includes(' build --file Dockerfile --network host --build-arg SERVICE=')), planned.join('\n'));
    assert.equal(result.stdout.split('\n').filter((l) => l.includes('docker push')).length, 6);
    assert.deepEqual(SERVICES.map((s) => markerOf(sandbox, s)), markers, 'markers untouched');
  });

  it('When --push is given with REGISTRY, then each image is pushed after its build, under the registry', async () => {
    sandbox.resetCalls();
    const registry = 'registry.example.com/team';
    const result = await sandbox.run('build-images.sh', ['--push', 'auth'], { REGISTRY: registry });
    assert.equal(result.code, 0, result.stderr);
    const calls = sandbox.calls('docker');
    const pushes = calls.filter((c) => c.args[0] === 'push');
    assert.deepEqual(pushes.map((c) => c.args[1]).sort(), expectedTags(['auth'], short(), registry));
    for (const push of pushes) {
      const build = calls.find((c) => c.args[0] === 'build' && tagOf(c) === push.args[1]);
      assert.ok(build && build.end <= push.start, `pushed ${push.args[1]} after building it`);
    }
  });

  it('When --push is given without REGISTRY, then it refuses before building anything (not even with --dry-run)', async () => {
    for (const args of [['--push', 'auth'], ['--all', '--push', '--dry-run']]) {
      sandbox.resetCalls();
      const result = await sandbox.run('build-images.sh', args);
      assert.equal(result.code, 2, args.join(' '));
      assert.match(result.stderr, /--push needs REGISTRY/);
      assert.equal(sandbox.calls('docker').length, 0);
    }
    const empty = await sandbox.run('build-images.sh', ['--push', 'auth'], { REGISTRY: '' });
    assert.equal(empty.code, 2, 'an empty REGISTRY is no registry');
  });

  it('When no Docker daemon answers, then it exits 2 saying so before any build, and moves no marker', async () => {
    sandbox.resetCalls();
    const markers = SERVICES.map((s) => markerOf(sandbox, s));
    const result = await sandbox.run('build-images.sh', ['--all'], { FAKE_DOCKER_DAEMON: 'down', DOCKER_HOST: 'unix:///tmp/nowhere.sock' });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /no Docker daemon answers at unix:\/\/\/tmp\/nowhere\.sock.*Cannot connect to the Docker daemon/);
    assert.deepEqual(sandbox.calls('docker').map((c) => c.args[0]), ['version']);
    assert.deepEqual(SERVICES.map((s) => markerOf(sandbox, s)), markers);
  });

  it('When --network is given, then every build runs with it; a malformed mode is refused', async () => {
    sandbox.resetCalls();
    const result = await sandbox.run('build-images.sh', ['auth', '--network=host']);
    assert.equal(result.code, 0, result.stderr);
    const calls = builds(sandbox.calls('docker'));
    assert.equal(calls.length, 2);
    for (const c of calls) assert.equal(c.args[c.args.indexOf('--network') + 1], 'host');
    const bad = await sandbox.run('build-images.sh', ['auth', '--network', 'host; rm -rf /']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /invalid --network/);
  });

  it('When --jobs 2 is given, then at most 2 builds run at once', async () => {
    sandbox.resetCalls();
    const result = await sandbox.run('build-images.sh', ['--all', '--jobs', '2'], { FAKE_BUILD_SECONDS: '0.2' });
    assert.equal(result.code, 0, result.stderr);
    const calls = builds(sandbox.calls('docker'));
    assert.equal(calls.length, 6);
    assert.equal(maxConcurrency(calls), 2);
  });

  it('When image inputs have uncommitted changes, then it refuses (unless --allow-dirty, which tags -dirty)', async () => {
    writeFileSync(join(sandbox.repo, 'services/auth/src/main.ts'), 'export const wip = 1;\n');
    try {
      sandbox.resetCalls();
      const refused = await sandbox.run('build-images.sh', ['auth']);
      assert.equal(refused.code, 2);
      assert.match(refused.stderr, /uncommitted changes/);
      assert.equal(sandbox.calls('docker').length, 0);

      const marker = markerOf(sandbox, 'auth');
      const dirty = await sandbox.run('build-images.sh', ['auth', '--allow-dirty']);
      assert.equal(dirty.code, 0, dirty.stderr);
      assert.deepEqual(builds(sandbox.calls('docker')).map(tagOf).sort(), expectedTags(['auth'], `${short()}-dirty`));
      assert.equal(markerOf(sandbox, 'auth'), marker, 'a dirty build moves no marker');
    } finally {
      sandbox.git('checkout', '--', 'services/auth/src/main.ts');
    }
  });

  it('When the marker is missing or unknown to git, then that service is built', async () => {
    rmSync(join(sandbox.repo, '.build-markers', 'auth'));
    writeFileSync(join(sandbox.repo, '.build-markers', 'notification'), 'deadbeef'.repeat(5));
    sandbox.resetCalls();
    const result = await sandbox.run('build-images.sh', []);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(builds(sandbox.calls('docker')).map(tagOf).sort(), expectedTags(['auth', 'notification'], short()));
  });

  it('When given a bad argument, then it exits 2 with usage; --help exits 0', async () => {
    const bad = await sandbox.run('build-images.sh', ['payments']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /unknown service: payments/);
    const help = await sandbox.run('build-images.sh', ['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: scripts\/build-images\.sh/);
  });
});
