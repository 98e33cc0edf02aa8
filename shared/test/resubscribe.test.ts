/**
 * A consumer the broker cancels while the connection stays up (its queue deleted; in a cluster,
 * a non-durable queue gone with its node) subscribes again by itself, without a reconnection:
 * the RPC server's request queue and a work queue's consumer, against the real broker.
 */
import assert from 'node:assert/strict';
import { after, afterEach, describe, it } from 'node:test';
import amqplib, { type Channel } from 'amqplib';
import { authRpc } from '@warren/shared/contracts/auth-rpc';
import { ROUTING_KEYS } from '@warren/shared/contracts/topology';
import { notificationRequestedSchema } from '@warren/shared/contracts/notifications';
import { AppError } from '@warren/shared/errors';
import { route } from '@warren/shared/messaging/rpc-server';
import { RABBITMQ_URL } from '../../test/support/env.js';
import { waitFor, within } from './helpers.js';
import { cleanups, fixture, notification, runCleanups } from './messaging-fixture.js';

afterEach(runCleanups);
after(runCleanups);

/** A channel of a connection of the test's own, which a refused declaration may close. */
async function rawChannel(): Promise<Channel> {
  const conn = await amqplib.connect(RABBITMQ_URL);
  conn.on('error', () => undefined);
  cleanups.push(() => conn.close().catch(() => undefined));
  const ch = await conn.createChannel();
  ch.on('error', () => undefined);
  return ch;
}

/** The status of a call: 200, or the AppError's status. */
async function statusOf(call: Promise<unknown>): Promise<number> {
  return call.then(
    () => 200,
    (err: unknown) => (err instanceof AppError ? err.status : 0),
  );
}

describe('Resubscribing after the broker cancels a consumer', () => {
  it('When the RPC request queue is declared, then it is a non-durable classic queue', { timeout: 15_000 }, async () => {
    // Arrange: a server declares its queue
    const f = await fixture();
    await f.rpcServer(f.broker('server'), [route(authRpc.jwks, async () => ({ keys: [] }))]);
    const name = f.t.queues.authRpc.name;

    // Act + Assert: the same declaration is accepted; a durable one, or a quorum one, is refused
    // (a queue's properties must match), so the queue is exactly non-durable classic.
    await (await rawChannel()).assertQueue(name, { durable: false, arguments: { 'x-queue-type': 'classic' } });
    await assert.rejects((await rawChannel()).assertQueue(name, { durable: true, arguments: { 'x-queue-type': 'classic' } }), /PRECONDITION_FAILED/);
    await assert.rejects((await rawChannel()).assertQueue(name, { durable: true, arguments: { 'x-queue-type': 'quorum' } }), /PRECONDITION_FAILED/);
  });

  it('When the RPC request queue is deleted under a running server, then the server declares it again and answers within a second', { timeout: 20_000 }, async () => {
    // Arrange
    const f = await fixture();
    await f.rpcServer(f.broker('server'), [route(authRpc.jwks, async () => ({ keys: [] }))]);
    const client = await f.rpcClient(f.broker('client'), 2000);
    assert.equal(await statusOf(client.call(authRpc.jwks, {})), 200);

    // Act: delete it three times in a row, as a flapping node would
    for (let i = 0; i < 3; i++) {
      await f.ch.deleteQueue(f.t.queues.authRpc.name);
      await waitFor(() => f.logs.lines.filter((l) => l.message === 'consumer resubscribed').length > i, `resubscription ${i + 1}`, 3000);
    }
    const deletedAt = Date.now();

    // Assert: served again, by one consumer, with no reconnection
    await waitFor(async () => (await statusOf(client.call(authRpc.jwks, {}))) === 200, 'a call to succeed', 1000, 20);
    assert.ok(Date.now() - deletedAt < 1000);
    assert.equal((await f.ch.checkQueue(f.t.queues.authRpc.name)).consumerCount, 1);
    assert.equal(f.logs.lines.filter((l) => l.message === 'broker disconnected').length, 0);
  });

  it('When re-declaring the queue is refused, then the server retries on fresh channels, readiness names it meanwhile, and it serves once it is allowed', { timeout: 30_000 }, async () => {
    // Arrange
    const f = await fixture();
    const serverBroker = f.broker('server');
    await f.rpcServer(serverBroker, [route(authRpc.jwks, async () => ({ keys: [] }))]);
    assert.deepEqual(serverBroker.idleConsumers(), []);
    const client = await f.rpcClient(f.broker('client'), 2000);
    const name = f.t.queues.authRpc.name;

    // Act: replace the queue with a durable one of the same name, which the server's
    // declaration (non-durable) is refused for. The server may re-declare between the two
    // steps (then our declaration is the refused one): try again until ours is in place.
    let squatter: Channel | undefined;
    for (let attempt = 0; attempt < 10 && !squatter; attempt++) {
      const ch = await rawChannel();
      const deleted = ch.deleteQueue(name);
      const declared = ch.assertQueue(name, { durable: true, arguments: { 'x-queue-type': 'classic' } });
      await deleted;
      if (await declared.then(() => true, () => false)) squatter = ch;
    }
    assert.ok(squatter, 'a conflicting queue was put in place');
    await waitFor(() => f.logs.lines.some((l) => l.message === 'resubscribe failed; retrying'), 'a refused resubscription', 3000);
    // Connected but deaf: readiness names the consumer
    assert.ok(serverBroker.isConnected());
    assert.deepEqual(serverBroker.idleConsumers(), [`rpc-server:${name}`]);
    // Nothing is bound for the methods: a call is answered 503 at once
    assert.equal(await statusOf(client.call(authRpc.jwks, {})), 503);
    await waitFor(() => f.logs.lines.filter((l) => l.message === 'resubscribe failed; retrying').length >= 2, 'a second attempt', 3000);

    // Assert: once the conflict is gone, served within the longest backoff (5 s)
    await squatter.deleteQueue(name);
    const freedAt = Date.now();
    await waitFor(async () => (await statusOf(client.call(authRpc.jwks, {}))) === 200, 'a call to succeed', 7000, 50);
    assert.ok(Date.now() - freedAt < 7000);
    const failed = f.logs.lines.filter((l) => l.message === 'resubscribe failed; retrying');
    assert.ok(failed.every((l) => /PRECONDITION_FAILED|inequivalent/.test(String(l.err))), `refusals: ${failed.map((l) => l.err).join('; ')}`);
    assert.equal((await f.ch.checkQueue(name)).consumerCount, 1);
    assert.deepEqual(serverBroker.idleConsumers(), []);
    assert.equal(f.logs.lines.filter((l) => l.message === 'broker disconnected').length, 0);
  });

  it('When a work queue is deleted under its consumer, then the consumer declares it again and consumes what is published next', { timeout: 20_000 }, async () => {
    // Arrange
    const f = await fixture();
    const seen: string[] = [];
    await f.consumer(f.broker('consumer'), async (payload) => {
      seen.push(payload.notificationId);
    });

    // Act
    await f.ch.deleteQueue(f.queue);
    await waitFor(() => f.logs.lines.some((l) => l.message === 'consumer resubscribed'), 'the resubscription', 3000);
    // The publisher starts only now: its declaration of the queue, racing the deletion, can leave
    // RabbitMQ 3.10 with the old consumer still listed on a queue that delivers nothing to it and
    // no cancel sent (seen with Nagle off, when the publisher connects in time): the broker's
    // race, not the consumer's, and not what this test is about.
    const publisher = f.publisher(f.broker('pub'));
    const sent = notification();
    await within(publisher.publish(f.t.exchanges.events.name, ROUTING_KEYS.notificationRequested, notificationRequestedSchema, sent), 5000, 'the publish');

    // Assert
    await waitFor(() => seen.includes(sent.notificationId), 'the message to be consumed', 5000);
    assert.equal((await f.ch.checkQueue(f.queue)).consumerCount, 1);
  });

  it('When a server is stopped, then a later deletion of its queue does not bring it back', { timeout: 15_000 }, async () => {
    // Arrange
    const f = await fixture();
    const server = await f.rpcServer(f.broker('server'), [route(authRpc.jwks, async () => ({ keys: [] }))]);
    await server.stop(1000);

    // Act
    await f.ch.deleteQueue(f.t.queues.authRpc.name);
    await new Promise((r) => setTimeout(r, 500));

    // Assert: no consumer came back to declare it
    await assert.rejects((await rawChannel()).checkQueue(f.t.queues.authRpc.name), /NOT_FOUND/);
    assert.equal(f.logs.lines.filter((l) => l.message === 'consumer resubscribed').length, 0);
  });
});
