/**
 * `npm run build -w packages/client`: dist/*.js and dist/*.d.ts (tsc), the browser bundle
 * dist/warren-client.js (esbuild), and the portals' copy of it. The types come from
 * @warren/shared's compiled declarations, so shared is built first if it has not been.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { BUNDLE_NAME, bundleClient, PACKAGE_ROOT, PORTAL_COPY } from './bundle.js';

const repoRoot = join(PACKAGE_ROOT, '..', '..');

function run(args: string[], cwd: string): void {
  const result = spawnSync(process.execPath, args, { cwd, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

if (!existsSync(join(repoRoot, 'shared', 'dist', 'contracts', 'inbox.d.ts'))) {
  run([join(repoRoot, 'scripts', 'build-workspace.mjs')], join(repoRoot, 'shared'));
}
rmSync(join(PACKAGE_ROOT, 'dist'), { recursive: true, force: true });
run([createRequire(import.meta.url).resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], PACKAGE_ROOT);

const bundle = await bundleClient();
writeFileSync(join(PACKAGE_ROOT, 'dist', BUNDLE_NAME), bundle);
writeFileSync(PORTAL_COPY, bundle);
console.log(`@warren/client: dist/ and ${BUNDLE_NAME} built; portal copy updated`);
