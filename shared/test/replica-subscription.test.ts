/**
 * A replica's own subscription (ended sessions, live delivery) against the real broker: when the
 * broker cancels its consumer (the queue deleted under it) or closes its connection, it
 * subscribes again by itself, says so (`onResubscribed`), and `listeningSince()` moves to the new
 * subscription, so that caches keyed to it drop what they learned before the gap.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { after, afterEach, describe, it } from 'node:test';
import amqplib from 'amqplib';
import { z } from 'zod';
import { encode } from '@warren/shared/messaging/envelope';
import { ReplicaSubscription } from '@warren/shared/messaging/replica-subscription';
import { exchange as topicExchange } from '@warren/shared/messaging/topology';
import { waitFor, within } from './helpers.js';
import { cleanups, fixture, runCleanups } from './messaging-fixture.js';
import { RABBITMQ_URL } from '../../test/support/env.js';

const run = promisify(execFile);
afterEach(runCleanups);
after(runCleanups);

/** Queues bound to `exchange` (the subscription's server-named one), read from the broker. */
async function queuesBoundTo(exchange: string): Promise<string[]> {
  const { stdout } = await run('rabbitmqctl', ['-q', 'list_bindings', 'source_name', 'destination_name', 'destination_kind']);
  return stdout
    .split('\n')
    .map((l) => l.split('\t'))
    .filter(([source, , kind]) => source === exchange && kind === 'queue')
    .map(([, destination]) => destination as string);
}

describe('A replica subscription', () => {
  async function subscribed() {
    const f = await fixture();
    const exchange = topicExchange(`${f.ns}.replica-test`, 'topic');
    // Last of all (cleanups run newest first, this one is pushed before any), on a connection of
    // its own: deleteNamespace knows only the system map's exchanges, and a run left this one behind.
    cleanups.unshift(async () => {
      const conn = await amqplib.connect(RABBITMQ_URL);
      try {
        await (await conn.createChannel()).deleteExchange(exchange.name);
      } finally {
        await conn.close();
      }
    });
    const heard: string[] = [];
    let resubscribed = 0;
    const sub = new ReplicaSubscription({
      broker: f.broker('replica'),
      logger: f.logs.logger,
      name: 'replica-test',
      exchange,
      routingKey: 'said',
      schema: z.object({ text: z.string() }),
      onMessage: (m) => heard.push(m.text),
      onResubscribed: () => (resubscribed += 1),
      resubscribeBackoffMs: 50,
    });
    cleanups.push(() => sub.close());
    await within(sub.waitReady(), 5000, 'subscription ready');
    await waitFor(() => sub.listeningSince() !== undefined, 'subscribed');
    const say = (text: string) => f.ch.publish(exchange.name, 'said', encode({ text }), { messageId: randomUUID() });
    return { f, sub, exchange, heard, say, resubscribed: () => resubscribed };
  }

  it('When its queue is deleted under it, then it subscribes again on a new queue at once, and listeningSince moves on', { timeout: 20_000 }, async () => {
    // Arrange
    const { f, sub, exchange, heard, say, resubscribed } = await subscribed();
    say('before');
    await waitFor(() => heard.includes('before'), 'the first message');
    const since = sub.listeningSince() as number;
    const [queue] = await queuesBoundTo(exchange.name);
    assert.ok(queue, 'its queue is bound');

    // Act: as an operator would (an exclusive queue cannot be deleted from another connection)
    await run('rabbitmqctl', ['-q', 'delete_queue', queue as string]);

    // Assert
    await waitFor(() => resubscribed() === 1, 'resubscribed after the cancel', 5000);
    assert.ok((sub.listeningSince() as number) > since, 'listening since the new subscription');
    assert.deepEqual((await queuesBoundTo(exchange.name)).filter((q) => q === queue), [], 'on a new queue');
    say('after');
    await waitFor(() => heard.includes('after'), 'a message after the resubscription');
    assert.match(f.logs.text(), /replica subscription cancelled by the broker/);
  });

  it('When its connection is closed by the broker, then listeningSince moves to the subscription made on the new connection', { timeout: 30_000 }, async () => {
    // Arrange
    const { f, sub, heard, say, resubscribed } = await subscribed();
    const since = sub.listeningSince() as number;

    // Act: the broker closes this replica's connection (and only it: named for this test's namespace)
    const { stdout } = await run('rabbitmqctl', ['-q', 'list_connections', 'pid', 'client_properties']);
    const pids = stdout.split('\n').filter((l) => l.includes(`${f.ns}:replica`)).map((l) => l.split('\t')[0] as string);
    assert.equal(pids.length, 1, 'its one connection');
    await run('rabbitmqctl', ['-q', 'close_connection', pids[0] as string, 'test: a connection lost']);

    // Assert
    await waitFor(() => resubscribed() === 1, 'resubscribed on the new connection', 20_000);
    assert.ok((sub.listeningSince() as number) > since);
    say('after reconnect');
    await waitFor(() => heard.includes('after reconnect'), 'a message after the reconnect');
  });
});
