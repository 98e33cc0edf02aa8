/**
 * Recovery after a broker outage: the pause between reconnect attempts is capped at 3 s
 * (jittered), so once the broker is back a service's connection, and with it publishing, is
 * back within seconds rather than after a backoff grown to half a minute. The broker is a
 * private node the test starts, stops and removes itself.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { notificationRequestedSchema } from '@warren/shared/contracts/notifications';
import { ROUTING_KEYS, topology } from '@warren/shared/contracts/topology';
import { Broker } from '@warren/shared/messaging/broker';
import { Publisher } from '@warren/shared/messaging/publisher';
import { routeResources } from '@warren/shared/messaging/topology';
import { uniqueNamespace } from '../support/env.js';
import { sleep } from '../support/http.js';
import { captureLogs } from '../support/logs.js';
import { startPrivateRabbit } from '../support/private-rabbitmq.js';

const OUTAGE_MS = 30_000;

async function until(check: () => boolean, what: string, timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
  return Date.now() - started;
}

test('when the broker is down for 30 s and comes back, then the connection and publishing are back within seconds', { timeout: 180_000 }, async () => {
  // Arrange: a service-like connection with a publisher on a private node.
  const node = await startPrivateRabbit();
  const logs = captureLogs('broker-fault');
  const ns = uniqueNamespace();
  const broker = new Broker({ url: node.url, connectionName: `${ns}:backoff`, logger: logs.logger });
  const publisher = new Publisher({ broker, logger: logs.logger, declares: routeResources(topology(ns).events.notificationRequested), timeoutMs: 5_000 });
  const publish = () =>
    publisher.publish(topology(ns).exchanges.events.name, ROUTING_KEYS.notificationRequested, notificationRequestedSchema, {
      notificationId: '7b0c9a4e-35a4-4a8e-8f61-0d6f8f1c2a11',
      title: 'after the outage',
      body: 'b',
      recipients: { roles: ['employee'] },
      requestedAt: new Date().toISOString(),
    });
  try {
    await broker.waitConnected(15_000);
    await publish();

    // Act: the node goes away for 30 s, then comes back.
    await node.stop('SIGTERM');
    await until(() => !broker.isConnected(), 'the disconnect to be noticed', 15_000);
    await sleep(OUTAGE_MS);
    await node.start();

    // Assert: reconnected within a few seconds of the node listening again, and a publish is
    // confirmed; no pause between attempts was ever longer than 3 s.
    const tookMs = await until(() => broker.isConnected(), 'the reconnect', 60_000);
    assert.ok(tookMs < 8_000, `reconnected ${tookMs} ms after the broker was back`);
    await publish();
    const pauses = logs.lines.filter((l) => l.message === 'broker connection failed').map((l) => Number(l.retryInSeconds));
    assert.ok(pauses.length >= 8, `attempts kept coming during the outage: ${pauses.length}`);
    assert.ok(
      pauses.every((p) => p > 0 && p <= 3),
      `pauses between attempts: ${pauses.join(', ')}`,
    );
  } finally {
    await publisher.close().catch(() => undefined);
    await broker.close().catch(() => undefined);
    await node.remove();
  }
});
