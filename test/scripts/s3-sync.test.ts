/**
 * scripts/s3-sync.sh against a recording `aws` in a temporary repository: exactly the
 * partition's folders, to s3://$S3_BUCKET/<folder>, with --delete; refuses without S3_BUCKET
 * and before syncing a missing or empty folder; --dry-run reaches aws as --dryrun.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createSandbox, type Sandbox } from './fake-tools.js';

const DEV = ['base', 'admin', 'manager', 'employee'];
const QA = ['admin_QA', 'manager_QA', 'employee_QA'];

function syncArgs(env: 'dev' | 'qa', folder: string, bucket: string, ...extra: string[]): string[] {
  return [
    's3',
    'sync',
    `s3-layout/${env}/${folder}`,
    `s3://${bucket}/${folder}`,
    '--delete',
    '--exclude',
    '*.gitkeep',
    '--cache-control',
    'no-cache',
    ...extra,
  ];
}

describe('scripts/s3-sync.sh', () => {
  let sandbox: Sandbox;
  before(() => {
    const layout: Record<string, string> = {};
    for (const f of DEV) layout[`s3-layout/dev/${f}/index.html`] = `<!doctype html><title>${f}</title>\n`;
    for (const f of QA) layout[`s3-layout/qa/${f}/index.html`] = `<!doctype html><title>${f}</title>\n`;
    // Neither a folder of another partition nor an unknown one may be published.
    layout['s3-layout/dev/scratch/notes.txt'] = 'not published\n';
    layout['s3-layout/README.md'] = 'layout\n';
    sandbox = createSandbox(layout);
  });
  after(() => sandbox.cleanup());

  it('When publishing dev, then it syncs base, admin, manager and employee to their bucket folders with --delete', async () => {
    sandbox.resetCalls();
    const result = await sandbox.run('s3-sync.sh', ['dev'], { S3_BUCKET: 'warren-portals' });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(
      sandbox.calls('aws').map((c) => c.args),
      DEV.map((f) => syncArgs('dev', f, 'warren-portals')),
    );
  });

  it('When publishing qa, then it syncs admin_QA, manager_QA and employee_QA only', async () => {
    sandbox.resetCalls();
    const result = await sandbox.run('s3-sync.sh', ['qa'], { S3_BUCKET: 'warren-portals' });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(
      sandbox.calls('aws').map((c) => c.args),
      QA.map((f) => syncArgs('qa', f, 'warren-portals')),
    );
  });

  it('When S3_BUCKET is not set (or empty), then it refuses and calls aws not at all', async () => {
    sandbox.resetCalls();
    for (const env of [{}, { S3_BUCKET: '' }] as Record<string, string>[]) {
      const result = await sandbox.run('s3-sync.sh', ['dev'], env);
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, /S3_BUCKET is not set/);
    }
    assert.equal(sandbox.calls('aws').length, 0);
  });

  it('When --dry-run is given, then every sync gets --dryrun', async () => {
    sandbox.resetCalls();
    const result = await sandbox.run('s3-sync.sh', ['qa', '--dry-run'], { S3_BUCKET: 's3://warren-portals/' });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(
      sandbox.calls('aws').map((c) => c.args),
      QA.map((f) => syncArgs('qa', f, 'warren-portals', '--dryrun')),
    );
  });

  it('When a folder of the partition is missing, then it refuses before syncing any', async () => {
    rmSync(join(sandbox.repo, 's3-layout/dev/manager'), { recursive: true });
    try {
      sandbox.resetCalls();
      const result = await sandbox.run('s3-sync.sh', ['dev'], { S3_BUCKET: 'warren-portals' });
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, /s3-layout\/dev\/manager is missing/);
      assert.equal(sandbox.calls('aws').length, 0);
    } finally {
      sandbox.git('checkout', '--', 's3-layout/dev/manager');
    }
  });

  it('When no partition or an unknown one is given, then it exits 2; --help exits 0', async () => {
    assert.equal((await sandbox.run('s3-sync.sh', [], { S3_BUCKET: 'b' })).code, 2);
    assert.equal((await sandbox.run('s3-sync.sh', ['prod'], { S3_BUCKET: 'warren-portals' })).code, 2);
    const help = await sandbox.run('s3-sync.sh', ['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Usage: S3_BUCKET=<bucket> scripts\/s3-sync\.sh dev\|qa/);
  });
});
