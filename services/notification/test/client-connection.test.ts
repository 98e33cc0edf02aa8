/**
 * A socket's frames of one live batch leave in one write (ClientConnection.together), over a
 * real ws server and client: every frame still arrives, in order, and a frame sent outside a
 * batch still goes out by itself.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { WebSocket, WebSocketServer } from 'ws';
import { captureLogs } from '../../../test/support/logs.js';
import { SocketFeed } from '../src/live/socket-feed.js';
import { ClientConnection } from '../src/ws/client-connection.js';
import type { OutboundFrame } from '../src/ws/outbound-frames.js';
import { waitFor } from '../../../shared/test/helpers.js';

describe('a live batch to one socket', () => {
  let server: Server;
  let conn: ClientConnection;
  let client: WebSocket;
  /** Writes that reached the server side's socket: one per frame unless they were held together. */
  let writes = 0;
  const received: string[] = [];
  const deps = {
    openFeed: (userId: string, sink: ConstructorParameters<typeof SocketFeed>[1]) => new SocketFeed(userId, sink, { latestSeq: async () => 0, readAfter: async () => [] }),
    logger: captureLogs('notification').logger,
    maxBufferedBytes: 1_000_000,
  };

  before(async () => {
    const wss = new WebSocketServer({ noServer: true });
    server = createServer();
    const connected = new Promise<void>((resolve) => {
      server.on('upgrade', (req, socket, head) => {
        const net = socket as Socket & { _write: Socket['_write']; _writev: NonNullable<Socket['_writev']> };
        const write = net._write.bind(net);
        const writev = net._writev.bind(net);
        net._write = (...args) => (writes++, write(...args));
        net._writev = (...args) => (writes++, writev(...args));
        wss.handleUpgrade(req, socket, head, (ws) => {
          conn = new ClientConnection(ws, socket, 'user-1', 'session-1', deps);
          resolve();
        });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`);
    client.on('message', (data) => received.push(String(data)));
    await connected;
    await new Promise<void>((resolve) => client.once('open', () => resolve()));
  });
  after(async () => {
    client.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const frame = (n: number) => ({ type: 'notification', notification: { id: String(n) } }) as unknown as OutboundFrame;

  it('When 50 frames are sent together, then they leave in one write and all arrive in order', async () => {
    // Arrange
    writes = 0;
    received.length = 0;

    // Act
    conn.together(() => {
      for (let i = 0; i < 50; i++) conn.send(frame(i));
    });
    await waitFor(() => received.length === 50, 'the 50 frames');

    // Assert
    assert.equal(writes, 1);
    assert.deepEqual(
      received.map((r) => (JSON.parse(r) as { notification: { id: string } }).notification.id),
      Array.from({ length: 50 }, (_, i) => String(i)),
    );
  });

  it('When a batch is larger than the unread-bytes limit but the client reads, then the socket is not closed as slow', async () => {
    // Arrange: 50 frames of ~70 bytes against a 1 000-byte limit.
    writes = 0;
    received.length = 0;
    deps.maxBufferedBytes = 1000;

    // Act
    let allSent = true;
    conn.together(() => {
      for (let i = 0; i < 50; i++) allSent &&= conn.send(frame(i));
    });
    await waitFor(() => received.length === 50, 'the 50 frames');
    deps.maxBufferedBytes = 1_000_000;

    // Assert
    assert.equal(allSent, true);
    assert.equal(conn.open, true);
    assert.equal(writes, 1);
  });

  it('When frames are sent one by one, then each leaves in its own write', async () => {
    // Arrange
    writes = 0;
    received.length = 0;

    // Act
    for (let i = 0; i < 3; i++) conn.send(frame(i));
    await waitFor(() => received.length === 3, 'the 3 frames');

    // Assert
    assert.equal(writes, 3);
  });

  it('When a send inside a batch throws, then the socket is not left holding the frames before it', async () => {
    // Arrange
    writes = 0;
    received.length = 0;

    // Act
    assert.throws(() =>
      conn.together(() => {
        conn.send(frame(1));
        throw new Error('boom');
      }),
    );
    await waitFor(() => received.length === 1, 'the frame sent before the error');

    // Assert
    assert.equal(writes, 1);
  });
});
