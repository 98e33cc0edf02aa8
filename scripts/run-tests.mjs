#!/usr/bin/env node
// Runs every *.test.ts under shared/, services/*/ and test/ with node's test runner (via tsx).
// Node 20 has no glob support in --test, so the files are listed here.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(fileURLToPath(import.meta.url), '..', '..');
const roots = ['shared/test', 'packages/client/test', 'services/auth/test', 'services/main-backend/test', 'services/notification/test', 'test'];

function walk(dir, out) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    const path = join(dir, name);
    if (name === 'node_modules') continue;
    if (statSync(path).isDirectory()) walk(path, out);
    else if (name.endsWith('.test.ts')) out.push(relative(root, path));
  }
  return out;
}

const filter = process.argv.slice(2);
let files = roots.flatMap((r) => walk(join(root, r), [])).sort();
if (filter.length) files = files.filter((f) => filter.some((p) => f.includes(p)));
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
// node's --test-timeout bounds each test file as a whole. The image test (test/images/) builds
// six Docker images, minutes of work on a cold cache, so it runs afterwards, alone (it needs the
// machine's cores), with a longer bound; every other file keeps the 5 minutes.
const LONG = 'test/images/';
const groups = [
  { files: files.filter((f) => !f.startsWith(LONG)), timeoutMs: 300_000 },
  { files: files.filter((f) => f.startsWith(LONG)), timeoutMs: 30 * 60_000 },
].filter((g) => g.files.length > 0);
let status = 0;
for (const group of groups) {
  const result = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--test', `--test-concurrency=${process.env.TEST_CONCURRENCY ?? 2}`, `--test-timeout=${group.timeoutMs}`, ...group.files],
    { cwd: root, stdio: 'inherit', env: { ...process.env, NODE_ENV: 'test' } },
  );
  if (result.status !== 0) status = result.status ?? 1;
}
process.exit(status);
