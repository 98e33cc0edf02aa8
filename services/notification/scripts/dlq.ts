/**
 * Operator command for the dead-letter queues of the notification service's work queues:
 * `npm run dlq -- list|replay ...` (or `npm run dlq -w services/notification -- ...`). It lists
 * what died and why, and replays messages to where they came from once the cause is fixed
 * (consumers are idempotent by message id, so replaying is safe). Bodies are printed only with
 * --bodies: they may hold one-time codes. Uses the services' variables (APP_ENV,
 * BROKER_NAMESPACE, RABBITMQ_URL). The work is in shared/src/messaging/dead-letters.ts.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import dotenv from 'dotenv';
import amqplib, { type ChannelModel } from 'amqplib';
import { z } from 'zod';
import { brokerVariables, loadVariables } from '@warren/shared/config';
import { defaultNamespace, topology } from '@warren/shared/contracts/topology';
import { maskUrl } from '@warren/shared/logger';
import { listDeadLetters, replayDeadLetters, type DeadLetter } from '@warren/shared/messaging/dead-letters';
import type { WorkQueue } from '@warren/shared/messaging/topology';

const USAGE = `Usage: npm run dlq -- <command> [options]

Commands:
  list                          how many dead letters each work queue has
  list <queue> [--limit N]      the first N (default 100) dead letters of <queue>, left in place:
                                message id, routing key, where a replay sends it, reason,
                                attempt it died at, deaths, replays, time of death, size
       [--bodies]               also print each message body (may contain one-time codes)
  replay <queue> [--limit N]    publish dead letters again to the exchange and routing key they
                                came from (all that were waiting, or the first N), each acked
                                only after the broker confirmed the copy
         [--message-id ID]      only the message with this id

Options:
  --json                        machine-readable output
  -h, --help                    this text

<queue> is a work queue without its namespace: notification.requests, notification.users,
email.requests or notification.sessions (the full name, with or without .dlq, works too).
Environment: APP_ENV (dev), BROKER_NAMESPACE (warren.<APP_ENV>), RABBITMQ_URL, as for the services.
Exit status: 0 done, 1 bad usage or broker unreachable, 2 some messages could not be replayed.`;

class UsageError extends Error {}

/** The services' broker variables, validated the same way (a bad one is named, nothing else runs). */
function loadSettings() {
  // Like the services: a .env where npm was started fills in what the environment does not set.
  dotenv.config({ quiet: true, path: join(process.env.INIT_CWD ?? process.cwd(), '.env') });
  const vars = loadVariables(process.env, (appEnv) => z.object(brokerVariables(defaultNamespace(appEnv))));
  const config = { brokerNamespace: vars.BROKER_NAMESPACE, rabbitmqUrls: vars.RABBITMQ_URL };
  // The work queues this service consumes, from the system map.
  const workQueues = Object.values(topology(config.brokerNamespace).queues).filter(
    (q): q is WorkQueue => q.kind === 'work-queue' && q.owner === 'notification',
  );
  return { config, workQueues };
}
let settings: ReturnType<typeof loadSettings>;

/** `email.requests`, `warren.dev.email.requests` or `warren.dev.email.requests.dlq` → the DLQ's name. */
function deadLetterQueueNamed(name: string | undefined): string {
  const { config, workQueues } = settings;
  if (!name) throw new UsageError('name a queue');
  const bare = name.endsWith('.dlq') ? name.slice(0, -'.dlq'.length) : name;
  const queue = workQueues.find((q) => q.name === bare || q.name === `${config.brokerNamespace}.${bare}`);
  if (!queue) {
    const known = workQueues.map((q) => q.name.slice(config.brokerNamespace.length + 1)).join(', ');
    throw new UsageError(`unknown queue "${name}" (known: ${known})`);
  }
  return queue.deadLetterQueue;
}

function positive(value: string | undefined, option: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${option} must be a positive whole number`);
  return n;
}

/** RABBITMQ_URL may list the nodes of one cluster: the first that answers is used. */
async function connect(): Promise<ChannelModel> {
  const { config } = settings;
  let last: unknown;
  for (const url of config.rabbitmqUrls) {
    try {
      const conn = await amqplib.connect(url, { clientProperties: { connection_name: `${config.brokerNamespace}:dlq-command` } });
      conn.on('error', () => undefined);
      return conn;
    } catch (err) {
      last = new Error(`cannot connect to ${maskUrl(url)}: ${(err as Error).message}`);
    }
  }
  throw last;
}

/** Messages in `queue`, or null when it does not exist (a passive check closes its channel then). */
async function countOf(conn: ChannelModel, queue: string): Promise<number | null> {
  const ch = await conn.createChannel();
  ch.on('error', () => undefined);
  try {
    return (await ch.checkQueue(queue)).messageCount;
  } catch (err) {
    if ((err as { code?: unknown }).code === 404) return null;
    throw err;
  } finally {
    await ch.close().catch(() => undefined);
  }
}

function line(d: DeadLetter, extra = ''): string {
  const at = d.deadLetteredAt?.toISOString() ?? '-';
  const route = `→ ${d.exchange || '(default exchange)'} ${d.routingKey ?? '-'}`;
  return `${d.messageId ?? '(no id)'}  ${d.publishedAs ?? '-'} ${route}  reason=${d.reason ?? '-'} attempts=${d.attempts} deaths=${d.deaths} replays=${d.replays}  ${at}  ${d.bytes} B${extra}`;
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      limit: { type: 'string' },
      'message-id': { type: 'string' },
      bodies: { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, queueName, ...rest] = positionals;
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`);
  const limit = positive(values.limit, '--limit');
  settings = loadSettings();
  const { workQueues } = settings;
  const out = (human: string, json: unknown) => process.stdout.write(values.json ? `${JSON.stringify(json)}\n` : `${human}\n`);

  if (command === 'list' && queueName === undefined) {
    if (values.bodies || limit !== undefined || values['message-id']) throw new UsageError('options need a queue');
    const conn = await connect();
    try {
      const counts: { queue: string; deadLetters: number | null }[] = [];
      for (const q of workQueues) {
        const dlq = q.deadLetterQueue;
        counts.push({ queue: dlq, deadLetters: await countOf(conn, dlq) });
      }
      out(counts.map((c) => `${c.queue}  ${c.deadLetters ?? 'not declared (no service has started in this namespace)'}`).join('\n'), counts);
    } finally {
      await conn.close().catch(() => undefined);
    }
    return 0;
  }
  if (command === 'list') {
    if (values['message-id']) throw new UsageError('--message-id is for replay');
    const dlq = deadLetterQueueNamed(queueName);
    const conn = await connect();
    try {
      const listing = await listDeadLetters(conn, dlq, { limit: limit ?? 100, withBodies: values.bodies ?? false });
      const human = [
        `${dlq}: ${listing.total} dead letter${listing.total === 1 ? '' : 's'}${listing.items.length < listing.total ? `, first ${listing.items.length} shown` : ''}`,
        ...listing.items.map((d) => line(d, d.body !== undefined ? `\n    ${d.body}` : '')),
      ].join('\n');
      out(human, { queue: dlq, ...listing });
    } finally {
      await conn.close().catch(() => undefined);
    }
    return 0;
  }
  if (command === 'replay') {
    if (values.bodies) throw new UsageError('--bodies is for list');
    const dlq = deadLetterQueueNamed(queueName);
    const conn = await connect();
    try {
      const result = await replayDeadLetters(conn, dlq, { limit, messageId: values['message-id'] });
      const human = [
        `${dlq}: replayed ${result.replayed.length}, kept ${result.kept.length}`,
        ...result.replayed.map((d) => `replayed  ${line(d)}`),
        ...result.kept.map((d) => `kept      ${line(d)}  (${d.why})`),
      ].join('\n');
      out(human, { queue: dlq, ...result });
      return result.kept.length > 0 ? 2 : 0;
    } finally {
      await conn.close().catch(() => undefined);
    }
  }
  throw new UsageError(command ? `unknown command "${command}"` : 'name a command');
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  if (err instanceof UsageError || String((err as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS')) {
    process.stderr.write(`dlq: ${(err as Error).message}\n\n${USAGE}\n`);
  } else {
    process.stderr.write(`dlq: ${(err as Error).message}\n`);
  }
  process.exitCode = 1;
}
