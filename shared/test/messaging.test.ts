/**
 * Integration tests of the messaging layer against the real RabbitMQ broker. Every test gets
 * its own namespace (exchanges and queues), its own Broker(s), and cleans both up afterwards
 * (see messaging-fixture.ts).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, afterEach, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { z } from 'zod';
import { authRpc } from '@warren/shared/contracts/auth-rpc';
import { notificationRequestedSchema } from '@warren/shared/contracts/notifications';
import { ROUTING_KEYS } from '@warren/shared/contracts/topology';
import { AppError } from '@warren/shared/errors';
import { Broker } from '@warren/shared/messaging/broker';
import { Consumer, PermanentError, type MessageMeta } from '@warren/shared/messaging/consumer';
import { PublishError } from '@warren/shared/messaging/publisher';
import { DEADLINE_HEADER, DIRECT_REPLY_TO, type RpcMethod } from '@warren/shared/messaging/rpc-protocol';
import { route } from '@warren/shared/messaging/rpc-server';
import { currentRequestId, runWithRequestId } from '@warren/shared/request-context';
import { RABBITMQ_URL } from '../../test/support/env.js';
import { captureLogs } from '../../test/support/logs.js';
import { deferred, sleep, waitFor, within } from './helpers.js';
import { cleanups, counterValue, drain, fixture, notification, outcomeCount, runCleanups } from './messaging-fixture.js';
import amqplib from 'amqplib';

const execFileAsync = promisify(execFile);

const login = { email: 'a@example.com', password: 'wrong-password' };

afterEach(runCleanups);
after(runCleanups);

// ---------------------------------------------------------------------------------------------

describe('Publisher', () => {
  it('When a valid notification.requested is published, then the broker confirms it and it is in the queue', { timeout: 15_000 }, async () => {
    // Arrange
    const f = await fixture();
    const publisher = f.publisher(f.broker('pub'));
    const payload = notification();

    // Act
    const messageId = await publisher.publish(
      f.t.exchanges.events.name,
      ROUTING_KEYS.notificationRequested,
      notificationRequestedSchema,
      payload,
    );

    // Assert
    assert.equal(await f.messageCount(f.queue), 1);
    const [msg] = await drain(f.ch, f.queue);
    assert.ok(msg);
    assert.equal(msg.properties.messageId, messageId);
    assert.equal(msg.properties.contentType, 'application/json');
    assert.equal(msg.properties.deliveryMode, 2, 'persistent');
    const body = JSON.parse(msg.content.toString()) as Record<string, unknown>;
    assert.equal(body.notificationId, payload.notificationId);
    assert.equal(body.type, 'general', 'the producer sends the parsed (defaulted) body');
    assert.equal(
      await counterValue(f.metrics, 'messagesPublished', { routing_key: ROUTING_KEYS.notificationRequested }),
      1,
    );
  });

  it('When the routing key has no bound queue, then publish rejects with PublishError', { timeout: 15_000 }, async () => {
    // Arrange
    const f = await fixture();
    const publisher = f.publisher(f.broker('pub'));

    // Act + Assert
    await assert.rejects(
      publisher.publish(f.t.exchanges.events.name, 'nobody.listens.here', notificationRequestedSchema, notification()),
      (err: unknown) => err instanceof PublishError && /no queue is bound/.test(err.message),
    );
    assert.equal(await counterValue(f.metrics, 'messagesPublished', { routing_key: 'nobody.listens.here' }), 0);
  });

  it('When the payload fails the schema, then publish throws before anything is sent', { timeout: 15_000 }, async () => {
    // Arrange
    const f = await fixture();
    const publisher = f.publisher(f.broker('pub'));
    const invalid = notification({ recipients: {} });

    // Act
    await assert.rejects(
      publisher.publish(f.t.exchanges.events.name, ROUTING_KEYS.notificationRequested, notificationRequestedSchema, invalid),
      (err: unknown) => err instanceof z.ZodError,
    );
    // A valid publish on the same channel afterwards: anything sent before it would be ahead of it.
    const validId = await publisher.publish(
      f.t.exchanges.events.name,
      ROUTING_KEYS.notificationRequested,
      notificationRequestedSchema,
      notification(),
    );

    // Assert
    const messages = await drain(f.ch, f.queue);
    assert.deepEqual(
      messages.map((m) => m.properties.messageId),
      [validId],
    );
  });
});

describe('Consumer', () => {
  it('When the consumer dies while its handler runs, then the unacked message is redelivered, not lost', { timeout: 20_000 }, async () => {
    // Arrange
    const f = await fixture();
    const publisher = f.publisher(f.broker('pub'));
    const started = deferred();
    const release = deferred();
    const dyingBroker = new Broker({ url: RABBITMQ_URL, connectionName: `${f.ns}:dying`, logger: f.logs.logger });
    cleanups.push(() => dyingBroker.close());
    await f.consumer(dyingBroker, async () => {
      started.resolve();
      await release.promise; // a slow handler: its effect is not committed yet
    });
    const messageId = await publisher.publish(
      f.t.exchanges.events.name,
      ROUTING_KEYS.notificationRequested,
      notificationRequestedSchema,
      notification(),
    );
    await within(started.promise, 5000, 'the slow handler to start');
    assert.equal(await f.messageCount(f.queue), 0, 'the delivered message is not ready while unacked');

    // Act: the consumer's connection goes away abruptly, without waiting for the handler.
    await dyingBroker.close();
    release.resolve(); // the handler finishes afterwards; its ack has nowhere to go

    // Assert: the message is back in the queue and a new consumer gets it as a redelivery.
    await waitFor(async () => (await f.messageCount(f.queue)) === 1, 'the message to be requeued');
    const redelivered = deferred<MessageMeta>();
    await f.consumer(f.broker('second'), async (_payload, meta) => redelivered.resolve(meta));
    const meta = await within(redelivered.promise, 5000, 'the redelivery');
    assert.equal(meta.messageId, messageId);
    assert.equal(meta.deliveryAttempt, 2);
  });

  it('When the handler succeeds, then the message is acked: the queue is empty and it is not redelivered', { timeout: 20_000 }, async () => {
    // Arrange
    const f = await fixture();
    const publisher = f.publisher(f.broker('pub'));
    const handled: string[] = [];
    const consumer = await f.consumer(f.broker('sub'), async (payload) => {
      handled.push(payload.notificationId);
    });
    const payload = notification();

    // Act
    await publisher.publish(f.t.exchanges.events.name, ROUTING_KEYS.notificationRequested, notificationRequestedSchema, payload);
    await waitFor(() => handled.length === 1, 'the handler to run');
    await consumer.stop(2000); // closing the channel would requeue anything still unacked

    // Assert
    await sleep(200);
    assert.equal(await f.messageCount(f.queue), 0);
    assert.deepEqual(handled, [payload.notificationId]);
  });

  it('When the handler throws once, then the message is retried and acked on the second attempt', { timeout: 20_000 }, async () => {
    // Arrange
    const f = await fixture();
    const publisher = f.publisher(f.broker('pub'));
    const attempts: number[] = [];
    await f.consumer(
      f.broker('sub'),
      async (_payload, meta) => {
        attempts.push(meta.deliveryAttempt);
        if (attempts.length === 1) throw new Error('transient failure');
      },
      { maxAttempts: 3 },
    );

    // Act
    await publisher.publish(f.t.exchanges.events.name, ROUTING_KEYS.notificationRequested, notificationRequestedSchema, notification());

    // Assert
    await waitFor(() => attempts.length === 2, 'the retry');
    await sleep(200);
    assert.deepEqual(attempts, [1, 2]);
    assert.equal(await f.messageCount(f.queue), 0);
    assert.equal(await f.messageCount(f.dlq), 0);
  });

  it('When a batch handler rejects with something that is not an Error, then no message is acked unhandled', { timeout: 20_000 }, async () => {
    // Arrange: batches of up to 3; the first call rejects with `undefined`. Every later batch
    // is acked with one multiple-ack, so a message of the first batch left open would be acked
    // without ever being handled.
    const f = await fixture();
    const publisher = f.publisher(f.broker('pub'));
    const handled = new Set<string>();
    let calls = 0;
    const consumer = new Consumer({
      broker: f.broker('sub'),
      logger: f.logs.logger,
      metrics: f.metrics,
      name: 'batch-test',
      queue: f.t.queues.notificationRequests,
      schema: notificationRequestedSchema,
      prefetch: 10,
      batchSize: 3,
      maxWaitMs: 50,
      batchHandler: async (items) => {
        if (++calls === 1) throw undefined;
        for (const i of items) handled.add(i.payload.notificationId);
      },
    });
    cleanups.push(() => consumer.stop(2000));
    await consumer.waitReady();
    const sent = [notification(), notification(), notification(), notification(), notification(), notification()];

    // Act
    for (const n of sent.slice(0, 3)) await publisher.publish(f.t.exchanges.events.name, ROUTING_KEYS.notificationRequested, notificationRequestedSchema, n);
    await waitFor(() => calls >= 1, 'the first batch');
    for (const n of sent.slice(3)) await publisher.publish(f.t.exchanges.events.name, ROUTING_KEYS.notificationRequested, notificationRequestedSchema, n);

    // Assert
    await waitFor(() => handled.size === sent.length, 'every message handled');
    await consumer.stop(2000);
    assert.deepEqual([...handled].sort(), sent.map((n) => n.notificationId).sort());
    assert.equal(await f.messageCount(f.queue), 0);
    assert.equal(await f.messageCount(f.dlq), 0);
  });

  it('When poison messages (not JSON, failing the schema) arrive, then they go to the DLQ and the consumer keeps going', { timeout: 20_000 }, async () => {
    // Arrange
    const f = await fixture();
    const handled: (string | undefined)[] = [];
    await f.consumer(f.broker('sub'), async (_payload, meta) => {
      handled.push(meta.messageId);
    });
    const publishRaw = (body: Buffer, messageId: string) =>
      f.ch.publish(f.t.exchanges.events.name, ROUTING_KEYS.notificationRequested, body, {
        messageId,
        contentType: 'application/json',
        persistent: true,
      });

    // Act
    publishRaw(Buffer.from('{"this is": not json'), 'bad-json');
    publishRaw(Buffer.from(JSON.stringify({ hello: 'world' })), 'bad-schema');
    publishRaw(Buffer.from(JSON.stringify(notificationRequestedSchema.parse(notification()))), 'good');

    // Assert
    await waitFor(() => handled.includes('good'), 'the valid message to be handled');
    await waitFor(async () => (await f.messageCount(f.dlq)) === 2, 'two dead letters');
    assert.deepEqual(handled, ['good'], 'the handler never sees a poison message');
    const dead = await drain(f.ch, f.dlq);
    assert.deepEqual(dead.map((m) => m.properties.messageId).sort(), ['bad-json', 'bad-schema']);
    assert.equal(await f.messageCount(f.queue), 0);
    assert.equal(await counterValue(f.metrics, 'messagesDeadLettered', { queue: f.queue, reason: 'invalid_json' }), 1);
    assert.equal(
      await counterValue(f.metrics, 'messagesDeadLettered', { queue: f.queue, reason: 'validation_failed' }),
      1,
    );
    assert.match(await f.metrics.registry.metrics(), /amqp_messages_dead_lettered_total\{[^}]*reason="invalid_json"/);
  });

  it('When the handler throws a PermanentError, then the message is dead-lettered at once, without retries', { timeout: 20_000 }, async () => {
    // Arrange
    const f = await fixture();
    const publisher = f.publisher(f.broker('pub'));
    let calls = 0;
    await f.consumer(
      f.broker('sub'),
      async () => {
        calls++;
        throw new PermanentError('recipient role does not exist');
      },
      { maxAttempts: 5 },
    );

    // Act
    await publisher.publish(f.t.exchanges.events.name, ROUTING_KEYS.notificationRequested, notificationRequestedSchema, notification());

    // Assert
    await waitFor(async () => (await f.messageCount(f.dlq)) === 1, 'the dead letter');
    await sleep(200);
    assert.equal(calls, 1);
    assert.equal(await counterValue(f.metrics, 'messagesDeadLettered', { queue: f.queue, reason: 'permanent_error' }), 1);
  });

  it('When the handler always throws, then after maxAttempts the message is in the DLQ, not requeued forever', { timeout: 20_000 }, async () => {
    // Arrange
    const f = await fixture();
    const publisher = f.publisher(f.broker('pub'));
    const attempts: number[] = [];
    await f.consumer(
      f.broker('sub'),
      async (_payload, meta) => {
        attempts.push(meta.deliveryAttempt);
        throw new Error('always failing');
      },
      { maxAttempts: 3 },
    );

    // Act
    const messageId = await publisher.publish(
      f.t.exchanges.events.name,
      ROUTING_KEYS.notificationRequested,
      notificationRequestedSchema,
      notification(),
    );

    // Assert
    await waitFor(async () => (await f.messageCount(f.dlq)) === 1, 'the dead letter');
    await sleep(300); // no further attempts happen
    assert.deepEqual(attempts, [1, 2, 3]);
    assert.equal(await f.messageCount(f.queue), 0);
    const [dead] = await drain(f.ch, f.dlq);
    assert.equal(dead?.properties.messageId, messageId);
    assert.equal(await counterValue(f.metrics, 'messagesDeadLettered', { queue: f.queue, reason: 'max_attempts' }), 1);
  });
});

describe('RPC', () => {
  it('When a server answers jwks, then RpcClient.call returns its result', { timeout: 15_000 }, async () => {
    // Arrange
    const f = await fixture();
    await f.rpcServer(f.broker('server'), [route(authRpc.jwks, async () => ({ keys: [] }))]);
    const client = await f.rpcClient(f.broker('client'), 2000);

    // Act
    const result = await client.call(authRpc.jwks, {});

    // Assert
    assert.deepEqual(result, { keys: [] });
  });

  it('When the server route throws AppError.unauthorized, then the client rejects with that code and 401', { timeout: 15_000 }, async () => {
    // Arrange
    const f = await fixture();
    await f.rpcServer(f.broker('server'), [
      route(authRpc.login, async () => {
        throw AppError.unauthorized('invalid_credentials', 'Wrong email or password.');
      }),
    ]);
    const client = await f.rpcClient(f.broker('client'), 2000);

    // Act + Assert
    await assert.rejects(
      client.call(authRpc.login, login),
      (err: unknown) =>
        err instanceof AppError &&
        err.status === 401 &&
        err.code === 'invalid_credentials' &&
        err.detail === 'Wrong email or password.',
    );
  });

  it('When the server route throws a plain Error, then the client gets a generic 500 without its message', { timeout: 15_000 }, async () => {
    // Arrange
    const f = await fixture();
    await f.rpcServer(f.broker('server'), [
      route(authRpc.jwks, async () => {
        throw new Error('db password leaked here');
      }),
    ]);
    const client = await f.rpcClient(f.broker('client'), 2000);

    // Act + Assert
    await assert.rejects(client.call(authRpc.jwks, {}), (err: unknown) => {
      assert.ok(err instanceof AppError);
      assert.equal(err.status, 500);
      assert.equal(err.code, 'internal_error');
      assert.ok(!JSON.stringify({ ...err, message: err.message }).includes('leaked'));
      return true;
    });
  });

  it('When the server is slower than the client timeout, then the call rejects with 504 without waiting for the server', { timeout: 15_000 }, async () => {
    // Arrange: a server that answers only when the test lets it (after the client has given up)
    const f = await fixture();
    const release = deferred();
    let answered = false;
    await f.rpcServer(f.broker('server'), [
      route(authRpc.jwks, async () => {
        await release.promise;
        answered = true;
        return { keys: [] };
      }),
    ]);
    cleanups.push(async () => release.resolve());
    const client = await f.rpcClient(f.broker('client'), 300);
    const started = Date.now();

    // Act
    const outcome = await within(client.call(authRpc.jwks, {}).then(() => undefined, (err: unknown) => err), 10_000, 'the call');

    // Assert: the timeout answered while the server was still busy (no wall-clock upper bound:
    // a loaded machine may be late, but never early)
    assert.ok(outcome instanceof AppError, 'expected an AppError');
    assert.equal(outcome.status, 504);
    assert.equal(outcome.code, 'upstream_timeout');
    assert.equal(answered, false, 'the client did not wait for the server');
    assert.ok(Date.now() - started >= 250, `rejected after ${Date.now() - started} ms, before its 300 ms timeout`);
    release.resolve();
  });

  it('When no server consumes the queue, then the call times out with 504 and the request expires from the queue', { timeout: 15_000 }, async () => {
    // Arrange: the topology (and so the auth RPC queue) exists, but nothing consumes it.
    const f = await fixture();
    const client = await f.rpcClient(f.broker('client'), 300);

    // Act
    const outcome = await within(client.call(authRpc.jwks, {}).then(() => undefined, (err: unknown) => err), 3000, 'the call');

    // Assert
    assert.ok(outcome instanceof AppError, 'expected an AppError');
    assert.equal(outcome.status, 504);
    await waitFor(async () => (await f.messageCount(f.t.queues.authRpc.name)) === 0, 'the request to expire', 3000);
  });

  it('When no queue is bound for the method, then the call fails fast with 503', { timeout: 15_000 }, async () => {
    // Arrange
    const f = await fixture();
    // A timeout far beyond the test's own: only the broker's return can answer in time.
    const client = await f.rpcClient(f.broker('client'), 60_000);
    const unbound: RpcMethod<z.ZodObject<{}>, z.ZodObject<{}>> = {
      routingKey: 'auth.not-served',
      request: z.object({}),
      response: z.object({}),
    };

    // Act + Assert: 503 (a timeout would be 504, and only after 60 s)
    await assert.rejects(
      within(client.call(unbound, {}), 10_000, 'the call'),
      (err: unknown) => err instanceof AppError && err.status === 503 && err.code === 'service_unavailable',
    );
  });

  it('When the server has no route for the method, then the client rejects with 501 unknown_method', { timeout: 15_000 }, async () => {
    // Arrange
    const f = await fixture();
    await f.rpcServer(f.broker('server'), [route(authRpc.jwks, async () => ({ keys: [] }))]);
    const client = await f.rpcClient(f.broker('client'), 2000);

    // Act + Assert
    await assert.rejects(
      client.call(authRpc.login, login),
      (err: unknown) => err instanceof AppError && err.status === 501 && err.code === 'unknown_method',
    );
  });

  it('When a request has no reply address, then the server drops it unhandled and keeps no copy on the broker', { timeout: 15_000 }, async () => {
    // Arrange
    const f = await fixture();
    let calls = 0;
    await f.rpcServer(f.broker('server'), [
      route(authRpc.jwks, async () => {
        calls++;
        return { keys: [] };
      }),
    ]);

    // Act
    f.ch.publish(f.t.exchanges.rpc.name, authRpc.jwks.routingKey, Buffer.from('{}'), { contentType: 'application/json' });

    // Assert: counted as dropped; nothing in the RPC queue, and no dead-letter queue exists for it
    await waitFor(
      async () => (await outcomeCount(f.metrics, f.t.queues.authRpc.name, 'dropped_no_reply_to')) === 1,
      'the drop to be counted',
    );
    assert.equal(calls, 0);
    assert.equal(await f.messageCount(f.t.queues.authRpc.name), 0);
    await assert.rejects(queueExists(`${f.t.queues.authRpc.name}.dlq`), /NOT_FOUND/);
  });

  it('When a request arrives after its caller\'s deadline, then the server drops it without running the handler', { timeout: 15_000 }, async () => {
    // Arrange: a raw caller listening on direct reply-to
    const f = await fixture();
    let calls = 0;
    await f.rpcServer(f.broker('server'), [
      route(authRpc.jwks, async () => {
        calls++;
        return { keys: [] };
      }),
    ]);
    const replies: string[] = [];
    await f.ch.consume(DIRECT_REPLY_TO, (msg) => msg && replies.push(String(msg.properties.correlationId)), {
      noAck: true,
    });
    const send = (correlationId: string, deadline: number) =>
      f.ch.publish(f.t.exchanges.rpc.name, authRpc.jwks.routingKey, Buffer.from('{}'), {
        correlationId,
        replyTo: DIRECT_REPLY_TO,
        headers: { [DEADLINE_HEADER]: deadline },
      });

    // Act
    send('too-late', Date.now() - 1000);
    send('in-time', Date.now() + 5000);

    // Assert
    await waitFor(() => replies.includes('in-time'), 'the reply to the request in time');
    await sleep(100);
    assert.deepEqual(replies, ['in-time']);
    assert.equal(calls, 1);
    assert.equal(await f.messageCount(f.t.queues.authRpc.name), 0, 'the late request was acked, not left behind');
  });

  it('When a request body is not valid for the method, then the server answers 400 invalid_rpc_request', { timeout: 15_000 }, async () => {
    // Arrange
    const f = await fixture();
    let calls = 0;
    await f.rpcServer(f.broker('server'), [
      route(authRpc.login, async () => {
        calls++;
        throw AppError.unauthorized('invalid_credentials');
      }),
    ]);
    const reply = deferred<unknown>();
    await f.ch.consume(DIRECT_REPLY_TO, (msg) => msg && reply.resolve(JSON.parse(msg.content.toString())), {
      noAck: true,
    });

    // Act
    f.ch.publish(f.t.exchanges.rpc.name, authRpc.login.routingKey, Buffer.from('{"email": 42'), {
      correlationId: 'c-1',
      replyTo: DIRECT_REPLY_TO,
    });

    // Assert
    const body = (await within(reply.promise, 5000, 'the error reply')) as { ok: boolean; error: { status: number; code: string } };
    assert.equal(body.ok, false);
    assert.equal(body.error.status, 400);
    assert.equal(body.error.code, 'invalid_rpc_request');
    assert.equal(calls, 0);
  });
});

describe('Correlation id', () => {
  it('When a message is published inside runWithRequestId, then the consumer handler sees that request id', { timeout: 15_000 }, async () => {
    // Arrange
    const f = await fixture();
    const publisher = f.publisher(f.broker('pub'));
    const seen = deferred<string | undefined>();
    const consumerLogs = captureLogs('consumer');
    await f.consumer(
      f.broker('sub'),
      async () => {
        await sleep(1); // the id survives awaits inside the handler
        consumerLogs.logger.info('handling notification');
        seen.resolve(currentRequestId());
      },
      { logger: consumerLogs.logger },
    );

    // Act
    await runWithRequestId('corr-consumer-1', () =>
      publisher.publish(f.t.exchanges.events.name, ROUTING_KEYS.notificationRequested, notificationRequestedSchema, notification()),
    );

    // Assert
    assert.equal(await within(seen.promise, 5000, 'the handler'), 'corr-consumer-1');
    await waitFor(() => consumerLogs.lines.some((l) => l.message === 'handling notification'), 'the handler log');
    assert.equal(consumerLogs.lines.find((l) => l.message === 'handling notification')?.requestId, 'corr-consumer-1');
  });

  it('When an RPC call is made inside runWithRequestId, then the server handler and its log lines carry that id', { timeout: 15_000 }, async () => {
    // Arrange
    const f = await fixture();
    const serverLogs = captureLogs('rpc-server');
    let handlerRequestId: string | undefined;
    await f.rpcServer(
      f.broker('server'),
      [
        route(authRpc.jwks, async () => {
          handlerRequestId = currentRequestId();
          serverLogs.logger.info('serving jwks');
          return { keys: [] };
        }),
        route(authRpc.login, async () => {
          throw new Error('database unreachable');
        }),
      ],
      serverLogs.logger,
    );
    const client = await f.rpcClient(f.broker('client'), 2000);

    // Act
    await runWithRequestId('corr-rpc-1', () => client.call(authRpc.jwks, {}));
    await runWithRequestId('corr-rpc-2', () => client.call(authRpc.login, login)).catch(() => undefined);

    // Assert
    assert.equal(handlerRequestId, 'corr-rpc-1');
    await waitFor(() => serverLogs.lines.some((l) => l.message === 'rpc handler failed'), 'the failure log');
    assert.equal(serverLogs.lines.find((l) => l.message === 'serving jwks')?.requestId, 'corr-rpc-1');
    const failure = serverLogs.lines.find((l) => l.message === 'rpc handler failed');
    assert.equal(failure?.requestId, 'corr-rpc-2');
    assert.equal(failure?.service, 'rpc-server');
    assert.ok(!serverLogs.text().includes('wrong-password'), 'the login password is never logged');
  });
});

describe('Broker', () => {
  it('When the broker cannot be reached, then waitConnected rejects within its timeout instead of hanging', { timeout: 15_000 }, async () => {
    // Arrange: nothing listens on port 1
    const logs = captureLogs('broker-test');
    const broker = new Broker({ url: 'amqp://guest:guest@127.0.0.1:1', connectionName: 'warren-test-unreachable', logger: logs.logger });
    cleanups.push(() => broker.close());
    const started = Date.now();

    // Act
    const outcome = await within(broker.waitConnected(500).then(() => 'connected', (err: unknown) => err), 5000, 'waitConnected');

    // Assert
    assert.ok(outcome instanceof Error, 'expected a rejection');
    assert.ok(Date.now() - started < 3000);
    assert.equal(broker.isConnected(), false);
    await waitFor(() => logs.lines.some((l) => l.message === 'broker connection failed'), 'the failure to be logged');
    assert.ok(!logs.text().includes('guest:guest'), 'the URL password is never logged');
  });
});

describe('Reconnect', () => {
  /** The broker-side pid of the connection whose client-provided name is `name`. */
  async function connectionPid(name: string): Promise<string | undefined> {
    const { stdout } = await execFileAsync('rabbitmqctl', [
      'list_connections',
      'pid',
      'client_properties',
      '--quiet',
      '--no-table-headers',
    ]);
    // Tab-separated lines: <rabbit@host.N.M.0>	[{"connection_name","<name>"},...]
    const line = stdout.split('\n').find((l) => l.includes(`{"connection_name","${name}"}`));
    return line?.split('\t')[0]?.trim();
  }

  it('When the broker force-closes the connection, then it reconnects and every confirmed message is consumed', { timeout: 90_000 }, async () => {
    // Arrange
    const f = await fixture();
    const connectionName = `${f.ns}:reconnect`;
    const broker = new Broker({ url: RABBITMQ_URL, connectionName, logger: f.logs.logger });
    cleanups.push(() => broker.close());
    const publisher = f.publisher(broker);
    const received = new Set<string>();
    await f.consumer(
      broker,
      async (_payload, meta) => {
        if (meta.messageId) received.add(meta.messageId);
      },
      { prefetch: 10 },
    );
    const confirmedBefore = new Set<string>();
    const confirmedAround = new Set<string>();
    const confirmedAfter = new Set<string>();
    const failures: unknown[] = [];
    const failuresAfter: unknown[] = [];
    const publishOne = (into: Set<string>, failInto = failures) =>
      publisher
        .publish(f.t.exchanges.events.name, ROUTING_KEYS.notificationRequested, notificationRequestedSchema, notification())
        .then((id) => into.add(id), (err: unknown) => failInto.push(err));

    for (let i = 0; i < 10; i++) await publishOne(confirmedBefore);
    await waitFor(() => [...confirmedBefore].every((id) => received.has(id)), 'the first batch', 10_000);
    let oldPid: string | undefined;
    await waitFor(async () => (oldPid = await connectionPid(connectionName)) !== undefined, 'the connection to be listed', 15_000, 250);

    // Act: the broker closes the connection while publishes keep coming (some are in flight).
    // Publishes started before the new connection is up are counted apart: only those started
    // after it prove that publishing works again.
    const inFlight: Promise<unknown>[] = [];
    let publishing = true;
    let reconnected = false;
    const loop = (async () => {
      while (publishing) {
        inFlight.push(reconnected ? publishOne(confirmedAfter, failuresAfter) : publishOne(confirmedAround));
        await sleep(20);
      }
    })();
    try {
      await execFileAsync('rabbitmqctl', ['close_connection', oldPid as string, 'test: forced close']);
      await waitFor(async () => {
        const pid = await connectionPid(connectionName);
        return pid !== undefined && pid !== oldPid;
      }, 'the broker to reconnect under the same name', 30_000, 250);
      await waitFor(() => broker.isConnected(), 'the broker to report connected', 10_000);
      reconnected = true;
      await waitFor(() => confirmedAfter.size >= 5, 'publishes started after the reconnect to be confirmed', 20_000);
    } finally {
      publishing = false;
      await loop;
    }
    await within(Promise.all(inFlight), 20_000, 'the in-flight publishes');

    // Assert: a publish in flight when the channel died may fail, but only ever as a
    // PublishError (rejected, not lost silently); every publish started after the reconnect is
    // confirmed.
    for (const err of failures) assert.ok(err instanceof PublishError, `unexpected failure: ${String(err)}`);
    assert.deepEqual(failuresAfter.map(String), [], 'no publish started after the reconnect fails');
    assert.ok(confirmedAfter.size >= 5, 'publishes started after the reconnect are confirmed');
    await waitFor(
      () => [...confirmedBefore, ...confirmedAround, ...confirmedAfter].every((id) => received.has(id)),
      'every confirmed message to be consumed',
      30_000,
    );
    assert.ok(
      f.logs.lines.some((l) => l.message === 'broker disconnected'),
      'the disconnect is logged',
    );
  });
});

/** Resolves if the queue exists; rejects with the broker's NOT_FOUND otherwise (on its own connection). */
async function queueExists(queue: string): Promise<void> {
  const conn = await amqplib.connect(RABBITMQ_URL);
  try {
    const ch = await conn.createChannel();
    ch.on('error', () => undefined);
    await ch.checkQueue(queue);
  } finally {
    await conn.close().catch(() => undefined);
  }
}
