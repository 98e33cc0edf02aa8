/**
 * The fault tests' own broker node and PostgreSQL cluster behave like the real thing: durable
 * messages survive a node restart, data survives a cluster restart and a kill -9, and removal
 * leaves nothing running.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import amqplib from 'amqplib';
import pg from 'pg';
import { portOpen } from '../support/private-processes.js';
import { startPrivatePostgres } from '../support/private-postgres.js';
import { startPrivateRabbit } from '../support/private-rabbitmq.js';

test('when the private broker node restarts, then a persistent message in a quorum queue is still there', async () => {
  const node = await startPrivateRabbit();
  try {
    const conn = await amqplib.connect(node.url);
    const ch = await conn.createConfirmChannel();
    await ch.assertQueue('q', { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    ch.sendToQueue('q', Buffer.from('kept'), { persistent: true });
    await ch.waitForConfirms();
    await conn.close();

    await node.stop('SIGTERM');
    assert.equal(await portOpen(node.port), false);
    await node.start();

    const again = await amqplib.connect(node.url);
    const ch2 = await again.createChannel();
    const msg = await ch2.get('q', { noAck: true });
    assert.ok(msg, 'the message survived the restart');
    assert.equal(msg.content.toString(), 'kept');
    await again.close();
  } finally {
    await node.remove();
  }
  assert.equal(await portOpen(node.port), false);
});

test('when the private PostgreSQL cluster is stopped or killed, then its data is back after start', async () => {
  const cluster = await startPrivatePostgres();
  try {
    const query = async (sql: string) => {
      const client = new pg.Client({ connectionString: cluster.databaseUrl('postgres') });
      await client.connect();
      try {
        return (await client.query(sql)).rows;
      } finally {
        await client.end();
      }
    };
    await query('create table t (v text); insert into t values ($$kept$$)');
    await cluster.stop();
    await assert.rejects(query('select 1'));
    await cluster.start();
    assert.deepEqual(await query('select v from t'), [{ v: 'kept' }]);
    await cluster.kill9();
    await cluster.start();
    assert.deepEqual(await query('select v from t'), [{ v: 'kept' }]);
  } finally {
    await cluster.remove();
  }
  assert.equal(await portOpen(cluster.port), false);
});
