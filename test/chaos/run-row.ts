/**
 * Runs one row of the fault table on a chaos stack: fresh users (some online with a following
 * socket, some offline), the steady send load, the row's fault in the middle of it, every
 * service ready again, a little more load, then the count (tally.ts) and the recovery times.
 * The tests (short profile) and `npm run chaos` (full profile) both run rows through here.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { announceUsers } from '../support/directory.js';
import { activeSigningKey, decodePayload, signWith } from '../support/forge.js';
import { sleep } from '../support/http.js';
import { login } from '../support/stack.js';
import { until } from '../support/wait.js';
import type { ChaosStack } from './chaos-stack.js';
import type { Profile } from './profiles.js';
import { commonProblems, type RowResult } from './row-result.js';
import type { FaultTimes, Scenario } from './scenarios.js';
import { startSendLoad, type Send } from './send-load.js';
import { followSocket } from './socket-followers.js';
import { tally, type Recipient } from './tally.js';

export async function runRow(stack: ChaosStack, scenario: Scenario, profile: Profile): Promise<RowResult> {
  const startedAt = new Date().toISOString();
  await stack.waitAllReady(120_000);
  while (stack.notifications.length < (scenario.notificationReplicas ?? 1)) await stack.addNotificationReplica();
  const crashesBefore = new Map(stack.services().map((s) => [s, s.crashes.length]));

  // Recipients: fresh ids the directory knows, tokens signed with auth's key (as auth would).
  let admin: Awaited<ReturnType<typeof login>> | undefined;
  await until(async () => !!(admin = await login(stack).catch(() => undefined)), 'the admin to log in', 30_000, 500);
  const sender = admin as NonNullable<typeof admin>;
  const key = await activeSigningKey(stack);
  const claims = decodePayload(sender.accessToken);
  const mint = (sub: string) => {
    const now = Math.floor(Date.now() / 1000);
    return signWith(key, { ...claims, sub, jti: randomUUID(), iat: now, exp: now + 900 });
  };
  const userIds = Array.from({ length: profile.online + profile.offline }, () => randomUUID());
  await announceUsers(stack.env, userIds);
  const wsUrls = stack.notifications.map((n) => `${n.url.replace('http:', 'ws:')}/ws`);
  const recipients: Recipient[] = userIds.map((userId, i) => {
    const token = mint(userId);
    return { userId, token, ...(i < profile.online ? { socket: followSocket(wsUrls, token, i % wsUrls.length) } : {}) };
  });
  const sockets = recipients.flatMap((r) => (r.socket ? [r.socket] : []));

  // Online means the socket heard `ready`: only notifications stored after it are due on it.
  await until(() => sockets.every((s) => s.live()), 'every socket open', 30_000).catch(async (err: Error) => {
    await Promise.all(sockets.map((s) => s.stop()));
    throw err;
  });
  const row = `${scenario.id}-${randomBytes(3).toString('hex')}`;
  const load = startSendLoad({ mainUrl: stack.mainUrl, token: () => sender.accessToken, recipients: userIds, rate: profile.rate, row });
  const observations: Record<string, unknown> = {};
  let times: FaultTimes;
  let readyMs: number | undefined;
  try {
    await sleep(profile.warmupMs);
    await until(() => load.sends.some((s) => s.acceptedAt !== undefined), 'a send accepted before the fault', 30_000);
    times = await scenario.inject({ stack, profile, observe: (k, v) => (observations[k] = v) });
    observations.faultFrom = new Date(times.start).toISOString();
    observations.faultTo = new Date(times.end).toISOString();
    await stack.waitAllReady(120_000).then(() => (readyMs = Date.now() - times.end), () => undefined);
    await sleep(profile.tailMs);
  } finally {
    await load.stop(profile.settleMs);
  }

  const counts = await tally({
    row,
    sends: load.sends,
    recipients,
    notificationUrl: (stack.notifications[0] as { url: string }).url,
    rabbitUrl: stack.rabbit.url,
    namespace: stack.env.BROKER_NAMESPACE as string,
    settleMs: profile.settleMs,
  });
  await Promise.all(sockets.map((s) => s.stop()));

  const after = (at: number[]) => {
    const later = at.filter((t) => t >= times.end);
    return later.length ? Math.min(...later) - times.end : undefined;
  };
  const attempts = load.sends.flatMap((s) => s.attempts);
  const whileDown = times.down ? attempts.filter((a) => a.at >= (times.down as { from: number }).from && a.at <= (times.down as { to: number }).to) : [];
  const result: Omit<RowResult, 'problems'> = {
    id: scenario.id,
    fault: scenario.fault(profile),
    profile: profile.name,
    startedAt,
    counts,
    recovery: {
      acceptedMs: after(load.sends.flatMap((s) => (s.acceptedAt === undefined ? [] : [s.acceptedAt]))),
      deliveredMs: after(sockets.flatMap((s) => s.frames.map((f) => f.at))),
      readyMs,
    },
    faultMs: times.end - times.start,
    slowestAnswerWhileDownMs: whileDown.length ? Math.max(...whileDown.map((a) => a.ms)) : undefined,
    answers: answersOf(load.sends),
    sockets: sockets.map((s, i) => ({ replica: i % wsUrls.length, reopens: s.reopens(), closeCodes: s.closeCodes() })),
    crashes: [...crashesBefore].flatMap(([s, before]) => s.crashes.slice(before).map((c) => ({ service: s.label, ...c }))),
    observations,
  };
  return { ...result, problems: [...commonProblems(result, !!scenario.sendsUnaffected), ...(scenario.check?.({ ...result, problems: [] }) ?? [])] };
}

/** Non-202 attempts by what they got: a status, or how the connection failed. */
function answersOf(sends: Send[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const a of sends.flatMap((s) => s.attempts)) {
    if (a.status === 202) continue;
    const what = a.status === 0 ? String(a.error) : `${a.status}${a.code ? ` ${a.code}` : ''}`;
    out[what] = (out[what] ?? 0) + 1;
  }
  return out;
}
