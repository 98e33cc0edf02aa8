#!/usr/bin/env node
// Production build of one workspace (the current directory: shared/ or services/<name>/), as
// `npm run build -w <workspace>` runs it: empties dist/ (tsc never deletes the output of a
// removed source file), compiles with the workspace's tsconfig.build.json, and copies the SQL
// migrations next to the compiled code, because a service finds them at run time relative to
// its own module (`new URL('./db/migrations', import.meta.url)` → dist/db/migrations).
// Development needs none of this: `npm start` and `npm test` run the .ts sources through tsx.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const workspace = process.cwd();
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

rmSync(join(workspace, 'dist'), { recursive: true, force: true });
const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: workspace, stdio: 'inherit' });
if (result.status !== 0) process.exit(result.status ?? 1);

const migrations = join(workspace, 'src', 'db', 'migrations');
if (existsSync(migrations)) {
  cpSync(migrations, join(workspace, 'dist', 'db', 'migrations'), {
    recursive: true,
    filter: (src) => !src.endsWith('.ts'),
  });
}
