/**
 * One row of the fault table as measured, and what every row must read: 0 lost, 0 duplicated,
 * 0 out of order, every send accepted in the end (none refused), nothing dead-lettered, and
 * sends and deliveries back after the fault. The tests assert `problems` is empty; `npm run
 * chaos` prints it and exits 1 if any row has one.
 */
import type { Counts } from './tally.js';

export interface RowResult {
  id: string;
  fault: string;
  profile: 'short' | 'full';
  startedAt: string;
  counts: Counts;
  /** From the fault's end (the dependency back, or the restart begun) to… */
  recovery: {
    /** …the first 202. */
    acceptedMs?: number;
    /** …the first notification frame on any socket. */
    deliveredMs?: number;
    /** …every service answering /readyz 200. */
    readyMs?: number;
  };
  /** From the fault's start to its end. */
  faultMs: number;
  /** The slowest send answer (or failure) among the attempts made while the dependency was wholly away. */
  slowestAnswerWhileDownMs?: number;
  /** The send attempts that were not a 202, by status or connection failure (`503`, `refused`, `reset`…). */
  answers: Record<string, number>;
  sockets: { replica: number; reopens: number; closeCodes: number[] }[];
  /** Services that exited during the row without being told to (with the last lines they wrote). */
  crashes: { service: string; at: string; code: number | null; tail: string }[];
  observations: Record<string, unknown>;
  problems: string[];
}

export function commonProblems(row: Omit<RowResult, 'problems'>, sendsUnaffected: boolean): string[] {
  const c = row.counts;
  const problems: string[] = [];
  if (c.accepted === 0) problems.push('no send was accepted');
  for (const crash of row.crashes) problems.push(`${crash.service} exited by itself at ${crash.at} (code ${String(crash.code)})`);
  if (c.lost.inbox + c.lost.socket > 0) problems.push(`lost: ${c.lost.inbox} inbox rows, ${c.lost.socket} socket frames`);
  if (c.duplicated.inbox + c.duplicated.socket > 0) problems.push(`duplicated: ${c.duplicated.inbox} inbox rows, ${c.duplicated.socket} socket frames`);
  if (c.outOfOrder > 0) problems.push(`${c.outOfOrder} socket frames out of id order`);
  if (c.refused > 0) problems.push(`${c.refused} sends refused (not 202/503/504): ${JSON.stringify(row.answers)}`);
  if (c.neverAccepted > 0) problems.push(`${c.neverAccepted} sends never accepted: the service did not come back by itself`);
  if (c.deadLettered > 0) problems.push(`${c.deadLettered} messages dead-lettered`);
  if (row.recovery.acceptedMs === undefined) problems.push('no send accepted after the fault');
  if (row.recovery.deliveredMs === undefined && c.online > 0) problems.push('nothing delivered on a socket after the fault');
  if (row.recovery.readyMs === undefined) problems.push('a service never answered /readyz 200 again');
  if (sendsUnaffected && Object.keys(row.answers).length > 0) {
    problems.push(`the fault is off the send path, yet send attempts answered ${JSON.stringify(row.answers)}`);
  }
  return problems;
}
