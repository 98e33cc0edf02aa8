/**
 * Topology as data: Warren's system map (shared/src/contracts/topology.ts) and the kit that
 * declares exactly the resources each party is given (shared/src/messaging/topology.ts). The
 * broker tests run in fresh namespaces where nothing else was declared.
 */
import assert from 'node:assert/strict';
import { after, afterEach, describe, it } from 'node:test';
import amqplib, { type ChannelModel } from 'amqplib';
import { AUTH_RPC_ROUTING_KEYS, authRpc } from '@warren/shared/contracts/auth-rpc';
import { emailRequestedSchema } from '@warren/shared/contracts/email';
import { notificationRequestedSchema } from '@warren/shared/contracts/notifications';
import { sessionEndedSchema } from '@warren/shared/contracts/sessions';
import { allResources, namespaceResources, retiredExchanges, retiredQueues, RETRY_DELAYS_MS, ROUTING_KEYS, topology } from '@warren/shared/contracts/topology';
import { userUpsertedSchema } from '@warren/shared/contracts/users';
import { AppError } from '@warren/shared/errors';
import { Broker } from '@warren/shared/messaging/broker';
import { tierBefore } from '@warren/shared/messaging/delayed-retry';
import { Publisher, PublishError } from '@warren/shared/messaging/publisher';
import { RpcClient } from '@warren/shared/messaging/rpc-client';
import { ownedQueues } from '@warren/shared/messaging/queue-depth';
import { arrivedAsBound, bindingMatches, consumedQueuesOf, declareTopology, exchange, resourceNames, routeResources, workQueue, type Resource } from '@warren/shared/messaging/topology';
import { deleteNamespace, RABBITMQ_URL, uniqueNamespace } from '../../test/support/env.js';
import { captureLogs } from '../../test/support/logs.js';
import { within } from './helpers.js';
import { cleanups, runCleanups } from './messaging-fixture.js';

afterEach(runCleanups);
after(runCleanups);

describe('Warren system map', () => {
  const t = topology('ns');

  it('When an event is published, then its route names the one durable queue bound for it, found from the bindings', () => {
    assert.deepEqual(
      Object.values(t.events).map((e) => [e.exchange.name, e.routingKey, e.deliversTo.map((q) => q.name)]),
      [
        ['ns.events', ROUTING_KEYS.notificationRequested, ['ns.notification.requests']],
        ['ns.events', ROUTING_KEYS.notificationBatchRequested, ['ns.notification.requests']],
        ['ns.events', ROUTING_KEYS.emailRequested, ['ns.email.requests']],
        ['ns.events', ROUTING_KEYS.userUpserted, ['ns.notification.users']],
        ['ns.events', ROUTING_KEYS.sessionEnded, ['ns.notification.sessions']],
      ],
    );
  });

  it('When the queues are read, then each has its owner, and every work queue its dead-letter queue and delay tiers', () => {
    assert.deepEqual(
      Object.values(t.queues).map((q) => [q.name, q.owner, q.kind]),
      [
        ['ns.notification.requests', 'notification', 'work-queue'],
        ['ns.notification.users', 'notification', 'work-queue'],
        ['ns.email.requests', 'notification', 'work-queue'],
        ['ns.notification.sessions', 'notification', 'work-queue'],
        ['ns.auth.rpc.requests', 'auth', 'request-queue'],
      ],
    );
    const q = t.queues.notificationRequests;
    assert.equal(q.deadLetterQueue, 'ns.notification.requests.dlq');
    assert.equal(q.deadLetterExchange, t.exchanges.deadLetters);
    assert.equal(q.retryLane, undefined);
    assert.deepEqual(q.retryTiers, [
      { delayMs: 1000, queue: 'ns.notification.requests.retry.1s', returnsTo: 'ns.notification.requests' },
      { delayMs: 5000, queue: 'ns.notification.requests.retry.5s', returnsTo: 'ns.notification.requests' },
      { delayMs: 15000, queue: 'ns.notification.requests.retry.15s', returnsTo: 'ns.notification.requests' },
    ]);
  });

  it('When the email queue is read, then its retried emails wait in delay queues of their own lane and come back to that lane', () => {
    const q = t.queues.emailRequests;
    assert.equal(q.retryLane, 'ns.email.requests.retries');
    assert.equal(q.deadLetterQueue, 'ns.email.requests.dlq', 'one dead-letter queue for both lanes');
    assert.deepEqual(q.retryTiers, [
      { delayMs: 1000, queue: 'ns.email.requests.retries.retry.1s', returnsTo: 'ns.email.requests.retries' },
      { delayMs: 5000, queue: 'ns.email.requests.retries.retry.5s', returnsTo: 'ns.email.requests.retries' },
      { delayMs: 15000, queue: 'ns.email.requests.retries.retry.15s', returnsTo: 'ns.email.requests.retries' },
    ]);
    assert.deepEqual(consumedQueuesOf(q), ['ns.email.requests', 'ns.email.requests.retries']);
    assert.deepEqual(ownedQueues(Object.values(t.queues), 'notification').filter((n) => n.startsWith('ns.email.')), ['ns.email.requests', 'ns.email.requests.retries', 'ns.email.requests.dlq']);
  });

  it('When the RPC queue is read, then it binds every auth method on the rpc exchange (topic, so the broker can tell callers\' methods apart) and has no dead-letter queue', () => {
    const rpc = t.queues.authRpc;
    assert.equal(t.exchanges.rpc.type, 'topic');
    assert.deepEqual(rpc.bindings.map((b) => [b.exchange.name, b.routingKey]), AUTH_RPC_ROUTING_KEYS.map((k) => ['ns.rpc.methods', k]));
    assert.ok(AUTH_RPC_ROUTING_KEYS.includes(authRpc.login.routingKey));
    assert.ok(!('deadLetterQueue' in rpc));
  });

  it('When a namespace is cleaned up, then namespaceResources lists every queue and exchange, once', () => {
    const { queues, exchanges } = namespaceResources('ns');
    // With the RPC exchange of earlier versions (direct), retired.
    assert.deepEqual(exchanges.sort(), ['ns.dlx', 'ns.events', 'ns.live', 'ns.rpc', 'ns.rpc.methods']);
    assert.deepEqual(retiredExchanges('ns'), ['ns.rpc']);
    // 4 work queues, each with its dead-letter queue and 3 delay queues, the email queue's retry
    // lane, the RPC queue, and what earlier versions declared (retired: an operator deletes them):
    // the durable RPC queue and the email queue's delay queues from before its lane
    assert.equal(queues.length, 4 * (2 + RETRY_DELAYS_MS.length) + 1 + 1 + 1 + RETRY_DELAYS_MS.length);
    assert.equal(new Set(queues).size, queues.length);
    assert.ok(queues.includes('ns.notification.sessions.retry.15s') && queues.includes('ns.auth.rpc.requests'));
    assert.ok(queues.includes('ns.email.requests.retries') && queues.includes('ns.email.requests.retries.retry.15s'));
    assert.deepEqual(retiredQueues('ns'), ['ns.auth.rpc', 'ns.email.requests.retry.1s', 'ns.email.requests.retry.5s', 'ns.email.requests.retry.15s']);
    assert.ok(queues.includes('ns.auth.rpc') && queues.includes('ns.email.requests.retry.1s'));
  });
});

describe('topology kit', () => {
  const events = exchange('x.events', 'topic');
  const dlx = exchange('x.dlx', 'direct');

  it('When a work queue is built, then its tiers are sorted and an empty list of delays is refused', () => {
    const q = workQueue({ name: 'x.q', owner: 'o', bindings: [], deadLetterExchange: dlx, retryDelaysMs: [15_000, 500, 1_000] });
    assert.deepEqual(q.retryTiers.map((r) => r.queue), ['x.q.retry.0.5s', 'x.q.retry.1s', 'x.q.retry.15s']);
    assert.throws(() => workQueue({ name: 'x.q', owner: 'o', bindings: [], deadLetterExchange: dlx, retryDelaysMs: [] }), /at least one retry delay/);
  });

  it('When a work queue opts into a retry lane, then its tiers are the lane\'s and return to it, and the lane is among its resources', () => {
    const q = workQueue({ name: 'x.q', owner: 'o', bindings: [], deadLetterExchange: dlx, retryDelaysMs: [1_000], retryLane: true });
    assert.equal(q.retryLane, 'x.q.retries');
    assert.deepEqual(q.retryTiers, [{ delayMs: 1_000, queue: 'x.q.retries.retry.1s', returnsTo: 'x.q.retries' }]);
    assert.deepEqual(resourceNames([q]).queues, ['x.q', 'x.q.dlq', 'x.q.retries', 'x.q.retries.retry.1s']);
  });

  it('When a retry is scheduled, then attempt 2 waits in the shortest tier, 3 in the next, and later ones in the longest', () => {
    const q = workQueue({ name: 'x.q', owner: 'o', bindings: [], deadLetterExchange: dlx, retryDelaysMs: [1_000, 5_000, 15_000] });
    assert.deepEqual([0, 1, 2, 3, 4, 50, Number.MAX_SAFE_INTEGER].map((n) => tierBefore(n, q.retryTiers).delayMs), [1_000, 1_000, 1_000, 5_000, 15_000, 15_000, 15_000]);
  });

  it('When resources repeat or share exchanges, then their names are listed once', () => {
    const q = workQueue({ name: 'x.q', owner: 'o', bindings: [{ exchange: events, routingKey: 'a' }], deadLetterExchange: dlx, retryDelaysMs: [1_000] });
    const names = resourceNames([events, q, q, ...routeResources({ exchange: events, routingKey: 'a', deliversTo: [q] })]);
    assert.deepEqual(names, { queues: ['x.q', 'x.q.dlq', 'x.q.retry.1s'], exchanges: ['x.events', 'x.dlx'] });
  });

  it('When a publisher\'s route is read, then it brings its queue as a destination: with its dead-letter queue, without its delay queues and retry lane', () => {
    const q = workQueue({ name: 'x.q', owner: 'o', bindings: [{ exchange: events, routingKey: 'a' }], deadLetterExchange: dlx, retryDelaysMs: [1_000], retryLane: true });
    const route = routeResources({ exchange: events, routingKey: 'a', deliversTo: [q] });
    assert.deepEqual(route, [events, { kind: 'destination', queue: q }]);
    assert.deepEqual(resourceNames(route), { queues: ['x.q', 'x.q.dlq'], exchanges: ['x.events', 'x.dlx'] });
  });

  it('When a delivery\'s route is checked, then only a binding of the queue or the default exchange lets it in (topic patterns included)', () => {
    const q = workQueue({ name: 'x.q', owner: 'o', bindings: [{ exchange: events, routingKey: 'a.*' }, { exchange: events, routingKey: 'b.#' }], deadLetterExchange: dlx, retryDelaysMs: [1_000] });
    assert.ok(arrivedAsBound(q, 'x.events', 'a.one'));
    assert.ok(arrivedAsBound(q, 'x.events', 'b') && arrivedAsBound(q, 'x.events', 'b.c.d'));
    assert.ok(arrivedAsBound(q, '', 'x.q'), 'back from a delay queue');
    assert.ok(!arrivedAsBound(q, 'x.events', 'a'), 'a.* needs one more word');
    assert.ok(!arrivedAsBound(q, 'x.events', 'a.one.two'));
    assert.ok(!arrivedAsBound(q, 'x.events', 'session.ended'), 'a CC/BCC key');
    assert.ok(!arrivedAsBound(q, 'x.other', 'a.one'), 'another exchange');
    const death = { 'x-death': [{ queue: 'amq.gen-abc', reason: 'expired', exchange: 'x.events', 'routing-keys': ['b'] }] };
    assert.ok(!arrivedAsBound(q, 'x.events', 'a.one', death), 'dead-lettered into the exchange under a bound key by a queue of the publisher\'s');
    assert.ok(arrivedAsBound(q, '', 'x.q', death), 'a delay queue\'s copy, back by the default exchange');
    assert.ok(bindingMatches('fanout', '', 'anything') && bindingMatches('direct', 'a.*', 'a.*') && !bindingMatches('direct', 'a.*', 'a.b'));
  });
});

describe('declaring only what is used (broker)', () => {
  async function connection(): Promise<ChannelModel> {
    const conn = await amqplib.connect(RABBITMQ_URL);
    conn.on('error', () => undefined);
    cleanups.push(() => conn.close());
    return conn;
  }

  /** Whether a queue or exchange exists (a passive check closes its channel when it does not). */
  async function exists(conn: ChannelModel, kind: 'queue' | 'exchange', name: string): Promise<boolean> {
    const ch = await conn.createChannel();
    ch.on('error', () => undefined);
    try {
      if (kind === 'queue') await ch.checkQueue(name);
      else await ch.checkExchange(name);
      await ch.close();
      return true;
    } catch {
      return false;
    }
  }

  function namespace() {
    const ns = uniqueNamespace();
    // Deletes whatever a test declared (deleting what does not exist is harmless).
    cleanups.push(() => deleteNamespace(ns));
    return { ns, t: topology(ns) };
  }

  function broker(ns: string) {
    const b = new Broker({ url: RABBITMQ_URL, connectionName: `${ns}:topology-test`, logger: captureLogs('topology').logger });
    cleanups.push(() => b.close());
    return b;
  }

  it('When one work queue is declared, then it comes with its exchanges, dead-letter and delay queues, and nothing else', async () => {
    // Arrange
    const { ns, t } = namespace();
    const conn = await connection();
    const ch = await conn.createChannel();

    // Act
    await declareTopology(ch, [t.queues.emailRequests]);
    await ch.close();

    // Assert
    const declared = resourceNames([t.queues.emailRequests]);
    for (const q of declared.queues) assert.ok(await exists(conn, 'queue', q), `${q} exists`);
    for (const x of declared.exchanges) assert.ok(await exists(conn, 'exchange', x), `${x} exists`);
    const { queues, exchanges } = resourceNames(allResources(t));
    for (const q of queues.filter((name) => !declared.queues.includes(name))) assert.ok(!(await exists(conn, 'queue', q)), `${q} was not declared`);
    for (const x of exchanges.filter((name) => !declared.exchanges.includes(name))) assert.ok(!(await exists(conn, 'exchange', x)), `${x} was not declared`);
    assert.ok(!(await exists(conn, 'queue', `${ns}.auth.rpc`)));
  });

  it('When auth and main-backend publish before any notification replica ever started, then every event lands in its durable queue', async () => {
    // Arrange: the publishers as the services make them, in a namespace where nothing else ran
    const { ns, t } = namespace();
    const b = broker(ns);
    const logger = captureLogs('publisher').logger;
    const auth = new Publisher({ broker: b, logger, declares: routeResources(t.events.userUpserted, t.events.sessionEnded, t.events.emailRequested) });
    const main = new Publisher({ broker: b, logger, declares: routeResources(t.events.notificationRequested) });
    cleanups.push(() => auth.close(), () => main.close());
    const at = new Date().toISOString();
    const userId = '7b0c9a4e-35a4-4a8e-8f61-0d6f8f1c2a11';
    const events = t.exchanges.events.name;

    // Act
    await within(
      Promise.all([
        auth.publish(events, ROUTING_KEYS.userUpserted, userUpsertedSchema, { userId, role: 'employee', version: 1, occurredAt: at }),
        auth.publish(events, ROUTING_KEYS.sessionEnded, sessionEndedSchema, { sessionId: userId, userId, endedAt: at, expiresAt: at }),
        auth.publish(events, ROUTING_KEYS.emailRequested, emailRequestedSchema, { to: 'a@example.com', template: 'password_reset', variables: { code: '123456' }, requestedAt: at }),
        main.publish(events, ROUTING_KEYS.notificationRequested, notificationRequestedSchema, { notificationId: userId, title: 't', body: 'b', recipients: { roles: ['employee'] }, requestedAt: at }),
      ]),
      10_000,
      'the publishes',
    );

    // Assert
    const conn = await connection();
    const ch = await conn.createChannel();
    for (const q of [t.queues.notificationUsers, t.queues.notificationSessions, t.queues.emailRequests, t.queues.notificationRequests]) {
      assert.equal((await ch.checkQueue(q.name)).messageCount, 1, `one message in ${q.name}`);
      assert.ok(await exists(conn, 'queue', q.deadLetterQueue), `${q.deadLetterQueue}: a publisher declares where its messages may die`);
      // A delay queue needs write access to the default exchange: only the consumer declares them (decision 0032).
      for (const delay of [...q.retryTiers.map((r) => r.queue), ...(q.retryLane ? [q.retryLane] : [])]) {
        assert.ok(!(await exists(conn, 'queue', delay)), `${delay}: not declared by a publisher`);
      }
    }
    await ch.close();
  });

  it('When a publisher did not declare an event\'s queue and nothing else did, then publishing it fails as unroutable', async () => {
    // Arrange: declares only the exchange, not the queue the event must reach
    const { ns, t } = namespace();
    const publisher = new Publisher({ broker: broker(ns), logger: captureLogs('publisher').logger, declares: [t.exchanges.events] });
    cleanups.push(() => publisher.close());

    // Act + Assert
    await assert.rejects(
      publisher.publish(t.exchanges.events.name, ROUTING_KEYS.sessionEnded, sessionEndedSchema, {
        sessionId: '7b0c9a4e-35a4-4a8e-8f61-0d6f8f1c2a11',
        userId: '7b0c9a4e-35a4-4a8e-8f61-0d6f8f1c2a11',
        endedAt: new Date().toISOString(),
        expiresAt: new Date().toISOString(),
      }),
      (err: unknown) => err instanceof PublishError && /no queue is bound/.test(err.message),
    );
  });

  it('When an RPC client calls before any server ever declared its queue, then it gets 503 at once, not a timeout', async () => {
    // Arrange
    const { ns, t } = namespace();
    const client = new RpcClient({ broker: broker(ns), exchange: t.exchanges.rpc, timeoutMs: 60_000, logger: captureLogs('rpc').logger });
    cleanups.push(() => client.close());
    await client.waitReady();

    // Act + Assert
    await assert.rejects(
      within(client.call(authRpc.jwks, {}), 10_000, 'the call'),
      (err: unknown) => err instanceof AppError && err.status === 503 && err.code === 'service_unavailable',
    );
  });

  it('When resources are declared twice (a reconnect), then the second declaration changes nothing and does not fail', async () => {
    // Arrange
    const { t } = namespace();
    const conn = await connection();
    const ch = await conn.createChannel();
    const all: Resource[] = allResources(t);

    // Act + Assert
    await declareTopology(ch, all);
    await declareTopology(ch, all);
    await ch.close();
  });
});
