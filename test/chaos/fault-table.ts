/** The fault table as markdown (for docs/reliability.md and the console), from measured rows. */
import type { RowResult } from './row-result.js';

const n = (v: number) => v.toLocaleString('en-US').replace(/,/g, ' ');
const s = (ms: number | undefined) => (ms === undefined ? '—' : `${(ms / 1000).toFixed(1)} s`);

/** What the sends met besides 202, e.g. "503 ×41, refused ×12". */
export function answersText(row: RowResult): string {
  const entries = Object.entries(row.answers).sort(([, a], [, b]) => b - a);
  return entries.length ? entries.map(([what, count]) => `${what} ×${n(count)}`).join(', ') : 'every attempt 202';
}

function notes(row: RowResult): string {
  const parts = [`retried: ${answersText(row)}`];
  if (row.slowestAnswerWhileDownMs !== undefined) parts.push(`slowest answer while down ${s(row.slowestAnswerWhileDownMs)}`);
  const moved = row.sockets.filter((x) => x.reopens > 0).length;
  if (moved) parts.push(`${moved} of ${row.sockets.length} sockets reopened`);
  if (row.observations.exitCode !== undefined && row.id.startsWith('sigterm')) parts.push(`exit ${String(row.observations.exitCode)} after ${s(row.observations.exitMs as number)}`);
  return parts.join('; ');
}

export function markdownTable(rows: RowResult[]): string {
  const head = [
    '| fault | accepted | stored | delivered | lost | duplicated | out of order | recovery: accepted / delivered / ready | notes |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |',
  ];
  const body = rows.map((r) => {
    const c = r.counts;
    const stored = c.stored === c.expectedStored ? n(c.stored) : `${n(c.stored)} of ${n(c.expectedStored)}`;
    const delivered = c.delivered === c.expectedDelivered ? n(c.delivered) : `${n(c.delivered)} of ${n(c.expectedDelivered)}`;
    const recovery = `${s(r.recovery.acceptedMs)} / ${s(r.recovery.deliveredMs)} / ${s(r.recovery.readyMs)}`;
    return `| ${r.fault} | ${n(c.accepted)} | ${stored} | ${delivered} | ${n(c.lost.inbox + c.lost.socket)} | ${n(c.duplicated.inbox + c.duplicated.socket)} | ${n(c.outOfOrder)} | ${recovery} | ${notes(r)} |`;
  });
  return [...head, ...body].join('\n');
}
