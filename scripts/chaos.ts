/**
 * `npm run chaos`: the whole fault table at its stated durations (broker down 30 s, databases
 * down 10 s…), every row on one chaos stack of its own (a private RabbitMQ node, a private
 * PostgreSQL cluster per service database, the services as processes; never the machine's
 * shared broker or database). Prints the table as markdown, writes every figure to
 * docs/chaos/latest.json, and exits 1 if any row lost, duplicated or reordered anything.
 *
 *   npm run chaos                       every row
 *   npm run chaos -- broker-down kill-auth   only these rows (ids in test/chaos/scenarios.ts)
 *   npm run chaos -- --short [rows]     the short form (what `npm test` runs), e.g. to repeat a row
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startChaosStack } from '../test/chaos/chaos-stack.js';
import { markdownTable } from '../test/chaos/fault-table.js';
import { FULL, SHORT } from '../test/chaos/profiles.js';
import type { RowResult } from '../test/chaos/row-result.js';
import { runRow } from '../test/chaos/run-row.js';
import { SCENARIOS } from '../test/chaos/scenarios.js';

const root = join(fileURLToPath(import.meta.url), '..', '..');
const args = process.argv.slice(2);
const profile = args.includes('--short') ? SHORT : FULL;
const only = args.filter((a) => a !== '--short');
const unknown = only.filter((id) => !SCENARIOS.some((s) => s.id === id));
if (unknown.length) {
  console.error(`unknown rows: ${unknown.join(', ')}; the rows: ${SCENARIOS.map((s) => s.id).join(', ')}`);
  process.exit(2);
}
// Rows in the order given; one named twice runs twice.
const scenarios = only.length ? only.map((id) => SCENARIOS.find((s) => s.id === id) as (typeof SCENARIOS)[number]) : SCENARIOS;

const git = (...args: string[]) => execFileSync('git', args, { cwd: root, encoding: 'utf8' }).trim();
const commit = git('rev-parse', '--short', 'HEAD');
const dirty = git('status', '--porcelain', '--untracked-files=no') !== '';
const began = Date.now();
const loadBefore = loadavg();

console.log(`chaos: ${scenarios.length} rows, profile ${profile.name} (${profile.rate} sends/s to ${profile.online} users online and ${profile.offline} offline)`);
const stack = await startChaosStack();
const rows: RowResult[] = [];
const errors: { id: string; error: string }[] = [];
try {
  for (const scenario of scenarios) {
    process.stdout.write(`- ${scenario.fault(profile)} … `);
    try {
      const row = await runRow(stack, scenario, profile);
      rows.push(row);
      console.log(row.problems.length ? `PROBLEMS: ${row.problems.join('; ')} (the services' logs: ${stack.saveLogs()})` : `ok (${row.counts.accepted} accepted)`);
    } catch (err) {
      errors.push({ id: scenario.id, error: (err as Error).stack ?? String(err) });
      console.log(`FAILED: ${(err as Error).message} (the services' logs: ${stack.saveLogs()})`);
    }
  }
} finally {
  await stack.remove();
}

const report = {
  date: new Date().toISOString(),
  commit: dirty ? `${commit} (with uncommitted changes)` : commit,
  tookSeconds: Math.round((Date.now() - began) / 1000),
  profile,
  machine: { cpus: cpus().length, loadAverageBefore: loadBefore.map((l) => Number(l.toFixed(1))), loadAverageAfter: loadavg().map((l) => Number(l.toFixed(1))) },
  rows,
  errors,
};
// Only a whole run stands for the table in the docs; a partial one goes to a temporary file.
const out = only.length || profile !== FULL ? join(tmpdir(), `warren-chaos-partial-${process.pid}.json`) : join(root, 'docs', 'chaos', 'latest.json');
mkdirSync(join(out, '..'), { recursive: true });
writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
console.log(`\n${markdownTable(rows)}\n`);
console.log(`${report.date}, commit ${report.commit}, ${report.tookSeconds} s, load average ${report.machine.loadAverageBefore.join(' ')} → ${report.machine.loadAverageAfter.join(' ')}; written to ${out}`);
const failed = rows.filter((r) => r.problems.length).length + errors.length;
process.exit(failed ? 1 : 0);
