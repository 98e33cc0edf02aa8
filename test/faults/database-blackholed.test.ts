/**
 * A database that stops answering without closing anything: packets dropped by a network
 * partition, or a failover that moves the address to a new primary while the old one's
 * connections stay half-open. New connections work again at once; the old ones never answer
 * (the kernel gives up on them after ~15 minutes of retransmissions). The notification service
 * must not wait on a connection for ever: its batch would hold the queue, and every user's
 * notifications with it, long after the database is reachable again. Modelled with a TCP proxy
 * in front of PostgreSQL that turns the connections open at that moment into black holes.
 */
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { waitUntilKnown } from '../support/directory.js';
import { dropDatabase, testDatabaseUrl } from '../support/env.js';
import { call } from '../support/http.js';
import { login, startStack, type Stack } from '../support/stack.js';
import { until } from '../support/wait.js';

/** Forwards to `target`; `blackholeOpen()` makes every connection open now swallow all bytes, both ways. */
async function startProxy(target: { host: string; port: number }): Promise<{ port: number; blackholeOpen(): number; close(): Promise<void> }> {
  const pairs = new Set<{ client: Socket; upstream: Socket; holed: boolean }>();
  const server: Server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    const pair = { client, upstream, holed: false };
    pairs.add(pair);
    client.on('data', (d) => void (pair.holed || upstream.write(d)));
    upstream.on('data', (d) => void (pair.holed || client.write(d)));
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    blackholeOpen() {
      for (const p of pairs) p.holed = true;
      return pairs.size;
    },
    async close() {
      for (const p of pairs) {
        p.client.destroy();
        p.upstream.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('notification database connections black-holed', () => {
  let proxy: Awaited<ReturnType<typeof startProxy>>;
  let stack: Stack;
  let db: pg.Client;
  let admin: Awaited<ReturnType<typeof login>>;
  let directUrl: string;

  before(async () => {
    // The machine's PostgreSQL, reached through the proxy (nothing about the server itself changes).
    const direct = new URL(testDatabaseUrl('notification'));
    directUrl = direct.href;
    proxy = await startProxy({ host: direct.hostname, port: Number(direct.port || 5432) });
    const proxied = new URL(direct.href);
    proxied.port = String(proxy.port);
    stack = await startStack({ NOTIFICATION_DATABASE_URL: proxied.href });
    admin = await login(stack);
    await waitUntilKnown(stack.env, [admin.user.id]);
    db = new pg.Client({ connectionString: direct.href });
    await db.connect();
  });
  after(async () => {
    await db?.end().catch(() => undefined);
    // Destroying the proxied sockets fails whatever query still hangs, so the services can stop.
    await proxy?.close();
    await stack?.stop();
    // The stack's own cleanup went through the proxy, which is gone.
    if (directUrl) await dropDatabase(directUrl);
  });

  const send = async (title: string) => {
    const res = await call<{ id: string }>(`${stack.mainUrl}/notifications`, { token: admin.accessToken, body: { recipients: { userIds: [admin.user.id] }, title, body: 'b' } });
    assert.equal(res.status, 202);
    return res.body.id;
  };
  const stored = async (id: string) => Boolean((await db.query('SELECT 1 FROM inbox_items WHERE notification_id = $1', [id])).rowCount);

  it('when the open database connections stop answering but new ones work, then new notifications are still stored within 60 s', { timeout: 180_000 }, async () => {
    const first = await send('before the partition');
    await until(() => stored(first), 'the first notification stored', 15_000);

    const holed = proxy.blackholeOpen();
    assert.ok(holed > 0, 'the service had connections open');
    const second = await send('after the partition');
    await until(() => stored(second), 'the notification sent after the partition stored (new connections work)', 60_000, 500);
  });
});
