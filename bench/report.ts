/**
 * The benchmark's report: each figure against its target (issue 4), printed as a table and
 * written as JSON with the machine it ran on. A missed target is reported, not an error.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import type { IdleSocketsResult } from './idle-sockets.js';
import type { LatencyResult } from './latency.js';
import type { PipelineResult } from './pipeline.js';
import type { RawBrokerResult } from './raw-broker.js';
import type { ReplayResult } from './replay.js';
import { round } from './stats.js';

export interface Figures {
  rawBroker?: RawBrokerResult;
  pipeline?: PipelineResult & { ratioToRaw?: number };
  /** The same pipeline through POST /notifications/batch. */
  batchPipeline?: PipelineResult & { ratioToRaw?: number };
  latency?: LatencyResult;
  replay?: ReplayResult;
  idleSockets?: IdleSocketsResult;
}

export interface Check {
  name: string;
  value: string;
  target: string;
  pass: boolean;
  /** A reference figure (the raw broker): no target of its own. */
  reference?: boolean;
  note?: string;
}

export interface Report {
  generatedAt: string;
  git: { sha: string; dirty: boolean };
  machine: { cpus: number; cpuModel: string; memoryGB: number; node: string; platform: string; loadAverage: { atStart: number; atEnd: number } };
  mode: 'spawned' | 'external';
  stack: Record<string, string>;
  figures: Figures;
  checks: Check[];
  errors: Record<string, string>;
}

/** Issue 4: replay and memory; issue 10: the single-send floor (0.10 × raw); issue 11: batches (0.30 × raw) and p99 ≤ 50 ms. */
export const TARGETS = { pipelineRatio: 0.1, batchRatio: 0.3, p99Ms: 50, replaySeconds: 2, kbPerSocket: 16 } as const;

/** "main-backend 0.61 · notification 0.2 · … = 1.4 ms" (largest first, total last). */
function cpuLine(cpu: Record<string, number> | undefined): string {
  if (!cpu) return '';
  const parts = Object.entries(cpu)
    .filter(([k]) => k !== 'total')
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${round(v, 3)}`);
  return `; CPU ms each: ${parts.join(' · ')} = ${round(cpu.total ?? 0, 3)}`;
}

export function checks(f: Figures, errors: Record<string, string>): Check[] {
  const out: Check[] = [];
  const failed = (name: string, target: string, phase: string) => out.push({ name, value: 'not measured', target, pass: false, note: errors[phase] });
  const pipelineCheck = (name: string, p: (PipelineResult & { ratioToRaw?: number }) | undefined, target: number, phase: string) => {
    if (!p) return failed(name, `≥ ${target} × raw`, phase);
    const ratio = p.ratioToRaw;
    const per = p.perRequest > 1 ? `${p.perRequest} per request, ${p.concurrency} requests in flight` : `${p.concurrency} sends in flight`;
    out.push({
      name,
      value: `${Math.round(p.perSecond)} notif/s = ${ratio === undefined ? '?' : round(ratio, 3)} × raw`,
      target: `≥ ${target} × raw, every delivery made`,
      pass: ratio !== undefined && ratio >= target && p.allDelivered,
      note:
        (p.repetitions && p.repetitions.length > 1 ? `median of ${p.repetitions.join(', ')} notif/s; ` : '') +
        (p.allDelivered ? `${p.delivered}/${p.sent} delivered once each` : `${p.accepted} accepted, ${p.delivered}/${p.sent} delivered, ${p.duplicates} duplicates`) +
        `, ${per}, accepted at ${Math.round(p.acceptedPerSecond)} notif/s${cpuLine(p.cpuMsPerNotification)}`,
    });
  };
  if (f.rawBroker) {
    const r = f.rawBroker;
    out.push({
      name: 'raw broker ceiling',
      value: `${Math.round(r.perSecond)} msg/s`,
      target: '(reference)',
      pass: true,
      reference: true,
      note: `median of ${r.repetitions?.join(', ') ?? '?'} msg/s; ${r.messages} × ${r.messageBytes} B, publish side ${Math.round(r.publishPerSecond)} msg/s${cpuLine(r.cpuMsPerMessage)}`,
    });
  }
  else failed('raw broker ceiling', '(reference)', 'rawBroker');
  pipelineCheck('pipeline throughput', f.pipeline, TARGETS.pipelineRatio, 'pipeline');
  pipelineCheck('batch pipeline throughput', f.batchPipeline, TARGETS.batchRatio, 'batchPipeline');
  const l = f.latency;
  if (l) {
    out.push({
      name: `send→socket latency at ${l.ratePerSecond}/s`,
      value: `p50 ${round(l.p50Ms)} · p95 ${round(l.p95Ms)} · p99 ${round(l.p99Ms)} ms`,
      target: `p99 ≤ ${TARGETS.p99Ms} ms`,
      pass: l.p99Ms <= TARGETS.p99Ms && l.delivered === l.sent,
      note: `${l.delivered}/${l.sent} delivered, max ${round(l.maxMs)} ms; send → 202 p50 ${round(l.acceptP50Ms)} · p99 ${round(l.acceptP99Ms)} ms${l.lateSends ? `; ${l.lateSends} sends left > 5 ms late` : ''}`,
    });
  } else failed('send→socket latency', `p99 ≤ ${TARGETS.p99Ms} ms`, 'latency');
  const r = f.replay;
  if (r) {
    out.push({
      name: `replay of ${r.missed} missed`,
      value: `${round(r.seconds, 3)} s`,
      target: `≤ ${TARGETS.replaySeconds} s, in order, complete`,
      pass: r.seconds <= TARGETS.replaySeconds && r.inOrderAndComplete,
      note: `${r.replayed}/${r.missed} replayed, ${r.outOfOrder} out of order, ${r.duplicates} duplicates; ready after ${round(r.readySeconds * 1000)} ms`,
    });
  } else failed('replay of missed notifications', `≤ ${TARGETS.replaySeconds} s`, 'replay');
  const s = f.idleSockets;
  if (s) {
    out.push({
      name: `RSS per idle socket (${s.ready} open)`,
      value: `${round(s.kbPerSocket, 2)} KB`,
      target: `≤ ${TARGETS.kbPerSocket} KB with ${s.requested} open`,
      pass: s.kbPerSocket <= TARGETS.kbPerSocket && s.ready === s.requested,
      note:
        `RSS ${round(s.rssBeforeMB)} → ${round(s.rssAfterMB)} MB; JS heap ${round(s.heapKbPerSocket, 2)} KB/socket; ${s.users} users` +
        (Object.keys(s.refused).length ? `; not ready: ${Object.entries(s.refused).map(([why, n]) => `${n} × ${why}`).join(', ')}` : ''),
    });
  } else failed('RSS per idle socket', `≤ ${TARGETS.kbPerSocket} KB`, 'idleSockets');
  return out;
}

function git(root: string): { sha: string; dirty: boolean } {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root }).toString().trim();
    const dirty = execFileSync('git', ['status', '--porcelain'], { cwd: root }).toString().trim() !== '';
    return { sha, dirty };
  } catch {
    return { sha: 'unknown', dirty: false };
  }
}

export function buildReport(
  root: string,
  mode: Report['mode'],
  stack: Record<string, string>,
  figures: Figures,
  errors: Record<string, string>,
  loadAtStart: number,
): Report {
  return {
    generatedAt: new Date().toISOString(),
    git: git(root),
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      memoryGB: round(os.totalmem() / 2 ** 30, 1),
      node: process.version,
      platform: `${os.platform()} ${os.release()}`,
      // Other work on the machine skews every figure: the 1-minute load average says how much there was.
      loadAverage: { atStart: round(loadAtStart, 2), atEnd: round(os.loadavg()[0] ?? 0, 2) },
    },
    mode,
    stack,
    figures,
    checks: checks(figures, errors),
    errors,
  };
}

export function printReport(report: Report): void {
  const rows = [['figure', 'value', 'target', 'result'], ...report.checks.map((c) => [c.name, c.value, c.target, c.reference ? '—' : c.pass ? 'PASS' : 'MISS'])];
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((r) => (r[col] as string).length)));
  const line = (r: string[]) => r.map((cell, col) => cell.padEnd(widths[col] as number)).join('  ');
  console.log(`\nWarren benchmark · ${report.machine.cpus} × ${report.machine.cpuModel} · node ${report.machine.node} · ${report.git.sha}${report.git.dirty ? '+dirty' : ''}\n`);
  console.log(line(rows[0]!));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows.slice(1)) console.log(line(r));
  console.log('');
  for (const c of report.checks) if (c.note) console.log(`  ${c.name}: ${c.note}`);
  // Only the load before the run says something about other work: at the end it is mostly ours.
  const { atStart } = report.machine.loadAverage;
  if (atStart > report.machine.cpus / 2) {
    console.log(`\n  Note: the machine was busy before the run (1-min load ${atStart}, ${report.machine.cpus} CPUs): figures are pessimistic.`);
  }
  const missed = report.checks.filter((c) => !c.pass);
  console.log(missed.length === 0 ? '\nEvery target met.' : `\nMissed: ${missed.map((c) => c.name).join('; ')}.`);
}

export function writeReport(report: Report, path: string): void {
  writeFileSync(path, `${JSON.stringify(report, null, 2)}\n`);
}
