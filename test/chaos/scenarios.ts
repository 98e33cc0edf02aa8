/**
 * The rows of the fault table (issue 12): what each does to the stack while the load runs, when
 * its fault starts and ends (recovery is timed from the end: the dependency back, or the
 * service's restart begun), and what else the row must show beyond 0 lost, 0 duplicated and in
 * order (its `check`, run by the tests and by `npm run chaos` alike).
 */
import { sleep } from '../support/http.js';
import type { ChaosStack } from './chaos-stack.js';
import type { Profile } from './profiles.js';
import { watchReadiness } from './readiness.js';
import type { RowResult } from './row-result.js';
import type { RestartableService } from './restartable-service.js';

export interface FaultContext {
  stack: ChaosStack;
  profile: Profile;
  /** Keeps a finding for the row's notes and its check. */
  observe(key: string, value: unknown): void;
}

export interface FaultTimes {
  start: number;
  end: number;
  /** While the dependency was wholly away (the slowest answer in it is reported). */
  down?: { from: number; to: number };
}

export type ScenarioGroup = 'broker' | 'databases' | 'crashes' | 'sigterm';

export interface Scenario {
  id: string;
  group: ScenarioGroup;
  /** The row's name in the table (outages last as long as the profile says). */
  fault: (profile: Profile) => string;
  /** The fault is off the send path: every send attempt must answer 202 at once. */
  sendsUnaffected?: boolean;
  /** Runs the row with this many notification replicas (sockets spread over them). */
  notificationReplicas?: number;
  inject(ctx: FaultContext): Promise<FaultTimes>;
  /** Problems beyond the common ones (lost, duplicated, out of order, refused, dead-lettered). */
  check?(row: RowResult): string[];
}

/** A send answer slower than this while the broker is down counts as hanging. */
export const HANG_MS = 10_000;
/** Sends are accepted again within this of the broker's return (reconnect pauses are capped at 3 s). */
export const BROKER_RECOVERY_MS = 15_000;

function backWithin(row: RowResult, ms: number): string[] {
  const took = row.recovery.acceptedMs;
  return took !== undefined && took > ms ? [`sends accepted again ${took} ms after the fault ended, not within ${ms} ms`] : [];
}

async function brokerOutage({ stack }: FaultContext, signal: 'SIGTERM' | 'SIGKILL', downMs: number, whileDown?: () => Promise<void>): Promise<FaultTimes> {
  const start = Date.now();
  await stack.rabbit.stop(signal);
  const from = Date.now();
  if (whileDown) await whileDown();
  else await sleep(downMs);
  const to = Date.now();
  await stack.rabbit.start();
  return { start, end: Date.now(), down: { from, to } };
}

async function databaseOutage({ stack, profile }: FaultContext, which: 'auth' | 'notification'): Promise<FaultTimes> {
  const db = stack.databases[which];
  const start = Date.now();
  await db.stop('fast');
  const from = Date.now();
  await sleep(profile.databaseDownMs);
  const to = Date.now();
  await db.start();
  return { start, end: Date.now(), down: { from, to } };
}

/** Signals a service, waits for its exit, keeps it down for a while, then starts it again. */
async function serviceOutage(ctx: FaultContext, service: RestartableService, signal: 'SIGKILL' | 'SIGTERM'): Promise<FaultTimes> {
  const start = Date.now();
  const exit = await service.signal(signal);
  ctx.observe('exitCode', exit.code);
  ctx.observe('exitMs', exit.tookMs);
  const from = Date.now();
  await sleep(ctx.profile.serviceDownMs);
  const to = Date.now();
  service.start();
  return { start, end: Date.now(), down: { from, to } };
}

/**
 * A drain that finished within the shutdown timeout: exit 0 (a drain cut off by the timeout
 * exits 1, dropping what was in flight). A send sent on a kept-alive connection just as the
 * drain closed it idle may still fail (`connection reset`, retried like any): not asserted,
 * the table's notes show it.
 */
function drained(row: RowResult): string[] {
  const problems: string[] = [];
  if (row.observations.exitCode !== 0) problems.push(`exited with ${String(row.observations.exitCode)} after SIGTERM, not 0`);
  return problems;
}

export const SCENARIOS: Scenario[] = [
  {
    id: 'broker-restart',
    group: 'broker',
    fault: () => 'broker restarted (clean stop, then start)',
    inject: (ctx) => brokerOutage(ctx, 'SIGTERM', 0),
    check: (row) => backWithin(row, BROKER_RECOVERY_MS),
  },
  {
    id: 'broker-killed',
    group: 'broker',
    fault: (p) => `broker killed (SIGKILL), started ${p.brokerKilledMs / 1000} s later`,
    inject: (ctx) => brokerOutage(ctx, 'SIGKILL', ctx.profile.brokerKilledMs),
    check: (row) => backWithin(row, BROKER_RECOVERY_MS),
  },
  {
    id: 'broker-down',
    group: 'broker',
    fault: (p) => `broker down ${p.brokerDownMs / 1000} s`,
    inject: (ctx) =>
      brokerOutage(ctx, 'SIGTERM', ctx.profile.brokerDownMs, async () => {
        ctx.observe('readyz', await watchReadiness(ctx.stack.services(), ctx.profile.brokerDownMs));
      }),
    check(row) {
      const problems = backWithin(row, BROKER_RECOVERY_MS);
      const readyz = row.observations.readyz as Record<string, { first503Ms?: number; last: number }>;
      for (const [service, seen] of Object.entries(readyz)) {
        if (seen.last !== 503) problems.push(`${service} /readyz answered ${seen.last} at the end of the outage, not 503`);
      }
      const slowest = row.slowestAnswerWhileDownMs;
      if (slowest === undefined) problems.push('no send was attempted while the broker was down');
      else if (slowest > HANG_MS) problems.push(`a send took ${slowest} ms to answer while the broker was down`);
      return problems;
    },
  },
  {
    id: 'notification-db-down',
    group: 'databases',
    fault: (p) => `notification database down ${p.databaseDownMs / 1000} s`,
    sendsUnaffected: true,
    async inject(ctx) {
      const retried = () =>
        ctx.stack.notifications.flatMap((n) => n.logLines()).filter((l) => l.message === 'a dependency is unavailable; messages retried later').length;
      const before = retried();
      const times = await databaseOutage(ctx, 'notification');
      ctx.observe('consumerRetried', retried() > before);
      return times;
    },
    check(row) {
      const problems: string[] = [];
      // The outage reached the consumer (else the row proves nothing): its messages waited in the delay queues...
      if (!row.observations.consumerRetried) problems.push('the notification consumer never met the outage');
      // ...and none is left there: each send was published once (none answered 503), and each is stored.
      if (row.counts.waitingRetries > 0) problems.push(`${row.counts.waitingRetries} notification requests still in the delay queues`);
      return problems;
    },
  },
  {
    id: 'auth-db-down',
    group: 'databases',
    fault: (p) => `auth database down ${p.databaseDownMs / 1000} s`,
    inject: (ctx) => databaseOutage(ctx, 'auth'),
  },
  {
    id: 'kill-auth',
    group: 'crashes',
    fault: (p) => `auth killed (kill -9) mid-stream, restarted ${p.serviceDownMs / 1000} s later`,
    inject: (ctx) => serviceOutage(ctx, ctx.stack.auth, 'SIGKILL'),
  },
  {
    id: 'kill-main-backend',
    group: 'crashes',
    fault: (p) => `main-backend killed (kill -9) mid-stream, restarted ${p.serviceDownMs / 1000} s later`,
    inject: (ctx) => serviceOutage(ctx, ctx.stack.main, 'SIGKILL'),
  },
  {
    id: 'kill-notification',
    group: 'crashes',
    fault: (p) => `notification killed (kill -9) mid-stream, restarted ${p.serviceDownMs / 1000} s later`,
    sendsUnaffected: true,
    inject: (ctx) => serviceOutage(ctx, ctx.stack.notifications[0] as RestartableService, 'SIGKILL'),
  },
  {
    id: 'replica-killed',
    group: 'crashes',
    fault: () => 'one of two notification replicas killed (kill -9)',
    sendsUnaffected: true,
    notificationReplicas: 2,
    async inject(ctx) {
      const victim = ctx.stack.notifications[1] as RestartableService;
      const start = Date.now();
      await victim.signal('SIGKILL');
      ctx.stack.dropNotificationReplica(victim);
      // Not restarted: its sockets must find the other replica.
      return { start, end: Date.now() };
    },
    check(row) {
      // Sockets start on replica 1, 2, 1, 2…: those on the killed one must have moved (and, as every row, lost nothing).
      const onVictim = row.sockets.filter((s) => s.replica === 1);
      if (onVictim.length === 0) return ['no socket was on the killed replica'];
      return onVictim.every((s) => s.reopens > 0) ? [] : ['a socket of the killed replica never reopened'];
    },
  },
  {
    id: 'sigterm-auth',
    group: 'sigterm',
    fault: (p) => `auth stopped (SIGTERM), restarted ${p.serviceDownMs / 1000} s later`,
    inject: (ctx) => serviceOutage(ctx, ctx.stack.auth, 'SIGTERM'),
    check: drained,
  },
  {
    id: 'sigterm-main-backend',
    group: 'sigterm',
    fault: (p) => `main-backend stopped (SIGTERM), restarted ${p.serviceDownMs / 1000} s later`,
    inject: (ctx) => serviceOutage(ctx, ctx.stack.main, 'SIGTERM'),
    check: drained,
  },
  {
    id: 'sigterm-notification',
    group: 'sigterm',
    fault: (p) => `notification stopped (SIGTERM), restarted ${p.serviceDownMs / 1000} s later`,
    sendsUnaffected: true,
    inject: (ctx) => serviceOutage(ctx, ctx.stack.notifications[0] as RestartableService, 'SIGTERM'),
    check: drained,
  },
];

export function scenariosOf(group: ScenarioGroup): Scenario[] {
  return SCENARIOS.filter((s) => s.group === group);
}
