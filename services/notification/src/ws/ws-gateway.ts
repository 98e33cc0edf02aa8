/**
 * The WebSocket endpoint `GET /ws`. The access token comes as `?token=` or a Bearer header.
 * The upgrade always completes, so that a refusal reaches browsers as close code 4001 (an HTTP
 * 401 on the upgrade would be invisible to them). After authentication the server sends
 * `{"type":"ready","unreadCount":N}`, then pushes notifications as they are stored. A socket
 * is closed with 4001 when its token expires. Pings detect dead peers.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { bearerToken, type AccessTokenVerifier, type VerifiedAccessToken } from '@warren/shared/auth/access-token-verifier';
import type { Logger } from '@warren/shared/logger';
import { runWithRequestId, sanitizeRequestId } from '@warren/shared/request-context';
import { CLOSE } from './close-codes.js';
import type { SocketRegistry } from './socket-registry.js';

export interface WsGatewayDeps {
  verifier: AccessTokenVerifier;
  registry: SocketRegistry;
  unreadCount: (userId: string) => Promise<number>;
  logger: Logger;
  maxPayloadBytes: number;
  heartbeatMs: number;
}

const alive = new WeakMap<WebSocket, boolean>();

export class WsGateway {
  private readonly wss: WebSocketServer;
  private readonly heartbeat: NodeJS.Timeout;

  constructor(private readonly deps: WsGatewayDeps) {
    this.wss = new WebSocketServer({ noServer: true, maxPayload: deps.maxPayloadBytes, clientTracking: true });
    this.heartbeat = setInterval(() => this.ping(), deps.heartbeatMs);
    this.heartbeat.unref();
  }

  attach(server: Server): void {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname !== '/ws') {
        socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      const token = url.searchParams.get('token') ?? bearerToken(req.headers.authorization);
      const requestId = sanitizeRequestId(req.headers['x-request-id']);
      socket.on('error', () => socket.destroy());
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        void runWithRequestId(requestId, () => this.onConnection(ws, token ?? undefined));
      });
    });
  }

  private async onConnection(ws: WebSocket, token: string | undefined): Promise<void> {
    ws.on('error', (err) => this.deps.logger.warn('socket error', { err: err.message }));
    let auth: VerifiedAccessToken;
    try {
      if (!token) throw new Error('missing token');
      auth = await this.deps.verifier.verify(token);
    } catch {
      ws.close(CLOSE.unauthorized, 'unauthorized');
      return;
    }
    const userId = auth.sub;
    alive.set(ws, true);
    ws.on('pong', () => alive.set(ws, true));
    this.deps.registry.add(userId, ws);
    const expiry = setTimeout(() => ws.close(CLOSE.unauthorized, 'token expired'), Math.max(0, auth.exp * 1000 - Date.now()));
    ws.on('close', () => {
      clearTimeout(expiry);
      this.deps.registry.remove(userId, ws);
    });
    // Inbound frames are not part of this version's protocol yet; they are ignored.
    ws.on('message', () => undefined);
    try {
      const unreadCount = await this.deps.unreadCount(userId);
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ type: 'ready', unreadCount }));
    } catch (err) {
      this.deps.logger.error('socket setup failed', { err: (err as Error).message });
      ws.close(CLOSE.internalError, 'internal error');
    }
  }

  private ping(): void {
    for (const ws of this.wss.clients) {
      if (alive.get(ws) === false) {
        ws.terminate();
        continue;
      }
      alive.set(ws, false);
      ws.ping();
    }
  }

  /** Closes every socket with 1001 so clients reconnect elsewhere, then stops the server. */
  async close(): Promise<void> {
    clearInterval(this.heartbeat);
    for (const ws of this.wss.clients) ws.close(CLOSE.goingAway, 'server shutting down');
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    for (const ws of this.wss.clients) ws.terminate();
  }
}
