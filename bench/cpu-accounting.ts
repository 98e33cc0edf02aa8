/**
 * Where the CPU goes during a phase: CPU seconds used by each process of the path (the three
 * services, this benchmark, RabbitMQ, PostgreSQL), read from /proc (Linux). Divided by the
 * notifications handled it gives a cost per notification that does not depend on how busy the
 * machine was, and that says which process a faster pipeline has to get cheaper.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export type CpuSnapshot = Map<string, number>;

let ticksPerSecond: number | undefined;
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** utime + stime of one process in seconds (undefined if it is gone or /proc is missing). */
function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / clockTicks();
  } catch {
    return undefined;
  }
}

function commOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

function cmdlineOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

/**
 * CPU seconds so far, keyed `label:pid`: the given processes, RabbitMQ (beam.smp), and the
 * PostgreSQL backends serving databases whose name contains `databaseFilter` (the bench's own).
 */
export function cpuSnapshot(named: Record<string, number | undefined>, databaseFilter?: string): CpuSnapshot {
  const snap: CpuSnapshot = new Map();
  for (const [label, pid] of Object.entries(named)) {
    const s = pid === undefined ? undefined : cpuSeconds(pid);
    if (s !== undefined) snap.set(`${label}:${pid}`, s);
  }
  let pids: number[] = [];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number);
  } catch {
    return snap;
  }
  for (const pid of pids) {
    const comm = commOf(pid);
    let label: string | undefined;
    if (comm === 'beam.smp') label = 'rabbitmq';
    else if (comm === 'postgres' && databaseFilter && cmdlineOf(pid).includes(databaseFilter)) label = 'postgres';
    const s = label ? cpuSeconds(pid) : undefined;
    if (label && s !== undefined) snap.set(`${label}:${pid}`, s);
  }
  return snap;
}

/**
 * CPU milliseconds per unit of work between two snapshots, by label, plus the total. A process
 * that appeared in between (a new database connection) counts from zero.
 */
export function cpuMsPer(before: CpuSnapshot, after: CpuSnapshot, units: number): Record<string, number> {
  const byLabel = new Map<string, number>();
  for (const [key, end] of after) {
    const seconds = end - (before.get(key) ?? 0);
    const label = key.slice(0, key.lastIndexOf(':'));
    byLabel.set(label, (byLabel.get(label) ?? 0) + seconds);
  }
  const out: Record<string, number> = {};
  let total = 0;
  for (const [label, seconds] of byLabel) {
    const ms = (seconds * 1000) / units;
    out[label] = Math.round(ms * 1000) / 1000;
    total += ms;
  }
  out.total = Math.round(total * 1000) / 1000;
  return out;
}
