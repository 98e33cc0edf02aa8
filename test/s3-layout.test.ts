/**
 * s3-layout/ mirrors the bucket: exactly the folders of each partition, a page and a config per
 * portal naming its own partition's gateway, the qa portals' copies of the shared code generated
 * from dev/base (never committed, so they cannot drift), the API client as built from
 * packages/client (stale copy: fail), and nothing that loads from the internet or writes markup.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { bundleClient, PORTAL_COPY } from '../packages/client/scripts/bundle.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const LAYOUT = join(ROOT, 's3-layout');
const PORTALS = [
  { partition: 'dev', folder: 'admin', portal: 'admin', send: true },
  { partition: 'dev', folder: 'manager', portal: 'manager', send: true },
  { partition: 'dev', folder: 'employee', portal: 'employee', send: false },
  { partition: 'qa', folder: 'admin_QA', portal: 'admin', send: true },
  { partition: 'qa', folder: 'manager_QA', portal: 'manager', send: true },
  { partition: 'qa', folder: 'employee_QA', portal: 'employee', send: false },
] as const;

function folders(dir: string): string[] {
  return readdirSync(dir).filter((n) => statSync(join(dir, n)).isDirectory()).sort();
}

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((n) => statSync(join(dir, n)).isFile())
    .sort();
}

const capitalise = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

describe('the s3 layout', () => {
  it('Then it holds exactly the bucket folders of each partition', () => {
    assert.deepEqual(folders(LAYOUT), ['dev', 'qa']);
    assert.deepEqual(folders(join(LAYOUT, 'dev')), ['admin', 'base', 'employee', 'manager']);
    assert.deepEqual(folders(join(LAYOUT, 'qa')), ['admin_QA', 'employee_QA', 'manager_QA']);
  });

  for (const p of PORTALS) {
    it(`Then ${p.partition}/${p.folder} has a page titled for it and a config naming its own partition's gateway`, async () => {
      const dir = join(LAYOUT, p.partition, p.folder);
      const html = readFileSync(join(dir, 'index.html'), 'utf8');
      assert.match(html, new RegExp(`<title>Warren ${capitalise(p.portal)} — ${p.partition}</title>`));
      const shared = p.partition === 'dev' ? '../base' : './shared';
      assert.ok(html.includes(`src="${shared}/boot.js"`) && html.includes(`href="${shared}/portal.css"`), `${p.folder} loads ${shared}`);
      if (p.partition === 'qa') assert.ok(!html.includes('../base'), 'a qa page never loads the dev base');

      const { default: config } = (await import(pathToFileURL(join(dir, 'config.js')).href)) as { default: Record<string, any> };
      assert.equal(config.partition, p.partition);
      assert.equal(config.portal, p.portal);
      assert.equal(config.features.send, p.send);
      assert.equal(config.features.users, p.portal === 'admin', 'the users table on the admin portals only');
      assert.equal(config.features.audit, p.portal === 'admin', 'sign-in activity on the admin portals only');
      const api = new URL(config.apiUrl);
      const ws = new URL(config.wsUrl);
      assert.equal(api.protocol, 'https:');
      assert.equal(ws.protocol, 'wss:');
      assert.equal(ws.host, api.host, 'one origin per partition: the gateway');
      assert.equal(ws.pathname, '/ws');
      assert.equal(config.notificationUrl, config.apiUrl);
      assert.ok(api.hostname.split('.').includes(p.partition), `${config.apiUrl} names the ${p.partition} partition`);
      const other = p.partition === 'dev' ? 'qa' : 'dev';
      assert.ok(!api.hostname.split('.').includes(other));
    });
  }

  it("Then each qa portal's shared/ is generated from dev/base, never committed, and identical after the sync", () => {
    // Arrange: what git tracks under s3-layout/qa
    const tracked = spawnSync('git', ['ls-files', 's3-layout/qa'], { cwd: ROOT, encoding: 'utf8' }).stdout.split('\n');
    assert.ok(!tracked.some((f) => f.includes('/shared/')), 'no committed copy of dev/base');

    // Act: the step s3-sync.sh qa runs before it publishes
    const sync = spawnSync('bash', [join(ROOT, 'scripts', 'sync-portal-base.sh')], { cwd: '/', encoding: 'utf8' });
    assert.equal(sync.status, 0, sync.stderr);

    // Assert
    const base = join(LAYOUT, 'dev', 'base');
    const baseFiles = files(base);
    assert.ok(baseFiles.includes('warren-client.js') && baseFiles.includes('portal.js') && baseFiles.includes('portal.css'));
    for (const p of PORTALS.filter((x) => x.partition === 'qa')) {
      const shared = join(LAYOUT, 'qa', p.folder, 'shared');
      assert.deepEqual(files(shared), baseFiles, `${p.folder}/shared has the same files`);
      for (const f of baseFiles) assert.ok(readFileSync(join(shared, f)).equals(readFileSync(join(base, f))), `${p.folder}/shared/${f}`);
    }
    const check = spawnSync('bash', [join(ROOT, 'scripts', 'sync-portal-base.sh'), '--check'], { cwd: '/', encoding: 'utf8' });
    assert.equal(check.status, 0, check.stderr);
  });

  it('Then base/warren-client.js is the current build of packages/client, not a copy kept by hand', async () => {
    const built = await bundleClient();
    const committed = readFileSync(PORTAL_COPY, 'utf8');
    assert.ok(committed === built, `${relative(ROOT, PORTAL_COPY)} is stale: run \`npm run build -w packages/client\` and commit it`);
    assert.doesNotMatch(built, /\bfrom\s*["']|\bimport\s*\(/, 'one self-contained module: no import of its own');
    assert.doesNotMatch(built, /zod/, 'types only from the contracts: no zod in the bundle');
  });

  it('Then no page loads anything from outside and no script writes markup', () => {
    for (const file of files(LAYOUT)) {
      const text = readFileSync(join(LAYOUT, file), 'utf8');
      const where = relative(ROOT, join(LAYOUT, file));
      if (file.endsWith('.html')) assert.doesNotMatch(text, /(src|href)=["']?(https?:)?\/\//i, `${where} loads from another origin`);
      if (file.endsWith('.css')) assert.doesNotMatch(text, /@import|url\(\s*["']?(https?:)?\/\//i, `${where} loads from another origin`);
      if (file.endsWith('.js')) {
        assert.doesNotMatch(text, /\bimport\b[^;]*["'](https?:)?\/\//, `${where} imports from another origin`);
        assert.doesNotMatch(text, /\.innerHTML\s*=|outerHTML|insertAdjacentHTML|document\.write/, `${where} writes markup`);
      }
    }
  });
});
