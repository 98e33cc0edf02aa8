/**
 * scripts/deploy.sh against a recording `docker` and `curl`: it runs
 * `docker compose -f docker-compose.<env>.yml up -d` with TAG set, waits until every container
 * is healthy and the partition's gateway answers, and fails (naming what is not healthy) when
 * that does not happen in time.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createSandbox, type Call, type Sandbox } from './fake-tools.js';

/** The compose calls that act on the partition (not the `docker compose version` check). */
function partitionCalls(calls: Call[]): Call[] {
  return calls.filter((c) => c.args[1] !== 'version');
}

const HEALTHY_DEV = ['auth running healthy', 'main-backend running healthy', 'notification running healthy', 'gateway running healthy'].join('\n');
const HEALTHY_QA = ['auth_QA running healthy', 'main-backend_QA running healthy', 'notification_QA running healthy', 'gateway running healthy'].join('\n');

describe('scripts/deploy.sh', () => {
  let sandbox: Sandbox;
  before(() => {
    sandbox = createSandbox();
  });
  after(() => sandbox.cleanup());

  it('When deploying dev with a tag, then compose brings docker-compose.dev.yml up with that TAG and it waits for health', async () => {
    sandbox.resetCalls();
    const result = await sandbox.run('deploy.sh', ['dev', '--tag', '0123456789ab'], { FAKE_COMPOSE_PS: HEALTHY_DEV, PUBLIC_HOST: 'ec2.example' });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(sandbox.calls('docker')[0]?.args, ['compose', 'version', '--short'], 'Compose checked first');
    const calls = partitionCalls(sandbox.calls('docker'));
    assert.deepEqual(calls[0]?.args, ['compose', '-f', 'docker-compose.dev.yml', 'up', '-d', '--pull', 'missing']);
    assert.equal(calls[0]?.tag, '0123456789ab');
    assert.deepEqual(calls[1]?.args.slice(0, 5), ['compose', '-f', 'docker-compose.dev.yml', 'ps', '--all']);
    assert.deepEqual(sandbox.calls('curl').map((c) => c.args.at(-1)), ['http://127.0.0.1:8080/healthz']);
    assert.match(result.stdout, /gateway \(REST and WebSocket \/ws\): http:\/\/ec2\.example:8080/);
    assert.match(result.stdout, /warren\/<service>:dev-0123456789ab/);
  });

  it('When deploying qa without a tag, then it runs docker-compose.qa.yml with the current commit and checks the qa gateway', async () => {
    sandbox.resetCalls();
    const result = await sandbox.run('deploy.sh', ['qa'], { FAKE_COMPOSE_PS: HEALTHY_QA });
    assert.equal(result.code, 0, result.stderr);
    const up = partitionCalls(sandbox.calls('docker'))[0];
    assert.deepEqual(up?.args, ['compose', '-f', 'docker-compose.qa.yml', 'up', '-d', '--pull', 'missing']);
    assert.equal(up?.tag, sandbox.git('rev-parse', '--short=12', 'HEAD'));
    assert.deepEqual(sandbox.calls('curl').map((c) => c.args.at(-1)), ['http://127.0.0.1:8081/healthz']);
  });

  it('When rolling back with TAG and --local --pull, then those images are pulled and the local profile started', async () => {
    sandbox.resetCalls();
    const result = await sandbox.run('deploy.sh', ['qa', '--local', '--pull'], { TAG: 'aaaabbbbcccc', FAKE_COMPOSE_PS: HEALTHY_QA });
    assert.equal(result.code, 0, result.stderr);
    const calls = partitionCalls(sandbox.calls('docker'));
    assert.deepEqual(calls[0]?.args, ['compose', '-f', 'docker-compose.qa.yml', '--profile', 'local', 'pull']);
    assert.deepEqual(calls[1]?.args, ['compose', '-f', 'docker-compose.qa.yml', '--profile', 'local', 'up', '-d', '--pull', 'missing']);
    assert.ok(calls.every((c) => c.tag === 'aaaabbbbcccc'));
  });

  it('When a container does not become healthy in time, then it exits 1 naming it', async () => {
    sandbox.resetCalls();
    const ps = HEALTHY_DEV.replace('notification running healthy', 'notification running starting');
    const result = await sandbox.run('deploy.sh', ['dev', '--tag', 'abc', '--timeout', '1'], { FAKE_COMPOSE_PS: ps });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /not healthy after 1s: notification=running\/starting/);
    assert.equal(sandbox.calls('curl').length, 0);
  });

  it('When --dry-run is given, then it prints the compose commands with the tag and runs nothing', async () => {
    sandbox.resetCalls();
    const result = await sandbox.run('deploy.sh', ['qa', '--dry-run', '--pull', '--local', '--tag', 'feedbeef0123'], { FAKE_COMPOSE_VERSION: 'none' });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(sandbox.calls('docker').length + sandbox.calls('curl').length, 0, 'nothing run, not even the Compose check');
    const lines = result.stdout.split('\n');
    assert.ok(lines.includes('  TAG=feedbeef0123 docker compose -f docker-compose.qa.yml --profile local pull'), result.stdout);
    assert.ok(lines.includes('  TAG=feedbeef0123 docker compose -f docker-compose.qa.yml --profile local up -d --pull missing'), result.stdout);
    assert.match(result.stdout, /http:\/\/127\.0\.0\.1:8081\/healthz/);
  });

  it('When Docker Compose is missing or older than v2.26, then it exits 2 naming the requirement and starts nothing', async () => {
    for (const [version, reason] of [
      ['none', /needs Docker Compose v2\.26\.0 or newer \(the `docker compose` plugin.*not available/],
      ['2.20.2', /needs Docker Compose v2\.26\.0 or newer; this is v2\.20\.2/],
      ['v2.9.0', /this is v2\.9\.0/],
    ] as const) {
      sandbox.resetCalls();
      const result = await sandbox.run('deploy.sh', ['dev', '--tag', 'abc'], { FAKE_COMPOSE_VERSION: version });
      assert.equal(result.code, 2, `${version}: ${result.stdout}${result.stderr}`);
      assert.match(result.stderr, reason);
      assert.equal(partitionCalls(sandbox.calls('docker')).length, 0, `${version}: nothing started`);
    }
    const newer = await sandbox.run('deploy.sh', ['dev', '--tag', 'abc'], { FAKE_COMPOSE_VERSION: 'v2.100.0', FAKE_COMPOSE_PS: HEALTHY_DEV });
    assert.equal(newer.code, 0, `v2.100.0 is newer than v2.26 (compared as versions): ${newer.stderr}`);
  });

  it('When no partition is given, then it exits 2; --help exits 0', async () => {
    assert.equal((await sandbox.run('deploy.sh', [])).code, 2);
    assert.equal((await sandbox.run('deploy.sh', ['prod'])).code, 2);
    const help = await sandbox.run('deploy.sh', ['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Usage: scripts\/deploy\.sh dev\|qa/);
  });
});
