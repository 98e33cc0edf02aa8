/**
 * The WebSocket endpoint `GET /ws`. The access token comes as `?token=` or a Bearer header.
 * The upgrade always completes, so that every refusal reaches browsers as a close code (an
 * HTTP error on the upgrade would be invisible to them). After authentication: limits are
 * checked, `{"type":"ready","unreadCount":N}` is sent, then the catch-up (`?after=<id>`) and
 * live delivery (the socket's feed from live/; ClientConnection is its ws end). The socket
 * closes with 4001 when its token expires unless the client renewed it with
 * `{"type":"auth","token"}`, and at once (4001 too) when its session ends (logout, password
 * reset, demotion...: `ended` hears of it from the auth service); a token of an ended session
 * is refused like an invalid one. Inbound frames are validated and rate-limited; pings detect
 * dead peers.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { bearerToken, type AccessTokenVerifier, type VerifiedAccessToken } from '@warren/shared/auth/access-token-verifier';
import type { EndedSessions } from '@warren/shared/auth/ended-sessions';
import { isDatabaseUnavailable } from '@warren/shared/db/unavailable';
import { AppError } from '@warren/shared/errors';
import { toAppError } from '@warren/shared/http/problem';
import type { Logger } from '@warren/shared/logger';
import type { Metrics } from '@warren/shared/metrics';
import { runWithRequestId, sanitizeRequestId } from '@warren/shared/request-context';
import { parsePublicId } from '../domain/notification-id.js';
import type { LiveGatewayHook } from '../live/live-delivery.js';
import { ClientConnection } from './client-connection.js';
import { CLOSE } from './close-codes.js';
import { parseFrame, type InboundFrame } from './inbound-frames.js';
import type { OutboundFrame } from './outbound-frames.js';
import { SocketRegistry } from './socket-registry.js';
import { closeCodeLabel, createSocketMetrics, type SocketMetrics } from './socket-metrics.js';
import { UnauthenticatedSockets, type PendingSocket } from './unauthenticated-limits.js';

export interface WsLimits {
  maxPayloadBytes: number;
  maxBufferedBytes: number;
  maxConnections: number;
  maxConnectionsPerUser: number;
  heartbeatMs: number;
  /** Sockets one client address may hold before they authenticate (see unauthenticated-limits.ts). */
  maxUnauthenticatedPerAddress: number;
  /** Proxies in front trusted to set X-Forwarded-For (0: none), for the client address. */
  trustProxy: number;
}

export interface WsGatewayDeps {
  verifier: AccessTokenVerifier;
  /** Sessions known to have ended: their tokens are refused and their sockets closed. */
  ended: EndedSessions;
  unreadCount: (userId: string) => Promise<number>;
  /** Live delivery: it is served this gateway's sockets and gives each socket its feed. */
  live: LiveGatewayHook;
  markRead: (userId: string, ids: string[]) => Promise<void>;
  markAllRead: (userId: string) => Promise<void>;
  logger: Logger;
  /** Where the socket gauges, counters and latency histogram are registered (socket-metrics.ts). */
  metrics?: Metrics;
  limits: WsLimits;
}

/** Inbound frames allowed per connection per window, and junk frames tolerated in all. */
const FRAME_WINDOW_MS = 10_000;
const MAX_FRAMES_PER_WINDOW = 100;
const MAX_INVALID_FRAMES = 10;

export class WsGateway {
  private readonly wss: WebSocketServer;
  private readonly heartbeat: NodeJS.Timeout;
  private readonly alive = new WeakMap<WebSocket, boolean>();
  readonly registry = new SocketRegistry();
  private readonly unauthenticated: UnauthenticatedSockets;
  private readonly metrics: SocketMetrics | undefined;

  constructor(private readonly deps: WsGatewayDeps) {
    this.metrics = deps.metrics && createSocketMetrics(deps.metrics, () => this.registry.size);
    this.wss = new WebSocketServer({ noServer: true, maxPayload: deps.limits.maxPayloadBytes, clientTracking: true });
    this.unauthenticated = new UnauthenticatedSockets({ maxPerAddress: deps.limits.maxUnauthenticatedPerAddress, trustProxy: deps.limits.trustProxy });
    this.heartbeat = setInterval(() => this.ping(), deps.limits.heartbeatMs);
    this.heartbeat.unref();
    deps.ended.onEnded((sessionId) => this.endSession(sessionId));
    deps.live.serve(this.registry);
  }

  attach(server: Server): void {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname !== '/ws') {
        socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      const token = url.searchParams.get('token') ?? bearerToken(req.headers.authorization);
      const after = url.searchParams.get('after');
      const requestId = sanitizeRequestId(req.headers['x-request-id']);
      socket.on('error', () => socket.destroy());
      const pending = this.unauthenticated.admit(req, socket);
      if (!pending) return;
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        pending.attach(ws);
        // Every socket's end is counted, refused ones too: a wave of 4001 or 1013 is news.
        ws.once('close', (code: number) => this.metrics?.closed.inc({ code: closeCodeLabel(code) }));
        void runWithRequestId(requestId, () =>
          this.onConnection(ws, socket, pending, token ?? undefined, after).catch((err: Error) => {
            ws.resume();
            // A database that is down is not our bug: "try again later", as REST answers 503.
            if (isDatabaseUnavailable(err)) {
              this.deps.logger.warn('socket setup failed: database unavailable', { err: err.message });
              return ws.close(CLOSE.tryAgainLater, 'database unavailable');
            }
            this.deps.logger.error('socket setup failed', { err: err.message });
            ws.close(CLOSE.internalError, 'internal error');
          }),
        );
      });
    });
  }

  /** A session ended: its sockets close with 4001 (the client must log in again). */
  endSession(sessionId: string): void {
    for (const conn of this.registry.ofSession(sessionId)) {
      conn.ws.resume();
      conn.ws.close(CLOSE.unauthorized, 'session ended');
    }
  }

  private async onConnection(ws: WebSocket, socket: Duplex, pending: PendingSocket, token: string | undefined, after: string | null): Promise<void> {
    ws.on('error', (err) => this.deps.logger.warn('socket error', { err: err.message }));
    // Frames the client sends while the token is checked wait in the socket until the
    // message handler is in place (verification may need a JWKS fetch).
    ws.pause();
    // A refused socket reads again, so that the close handshake can complete (not waited for long).
    const refuse = (code: number, reason: string) => pending.refuse(code, reason);
    const auth = await this.verify(token);
    // Closed meanwhile (the client left, or the authentication deadline passed).
    if (ws.readyState !== ws.OPEN) return;
    if (auth === 'unavailable') return refuse(CLOSE.tryAgainLater, 'try again later');
    if (!auth) return refuse(CLOSE.unauthorized, 'unauthorized');
    const { limits } = this.deps;
    if (this.registry.size >= limits.maxConnections) return refuse(CLOSE.tryAgainLater, 'server full');
    if (this.registry.of(auth.sub).size >= limits.maxConnectionsPerUser) return refuse(CLOSE.tooManyConnections, 'too many connections');
    const afterSeq = after === null ? undefined : parsePublicId(after);
    if (after !== null && afterSeq === undefined) return refuse(CLOSE.policyViolation, 'invalid after');

    // Checked right before the socket is registered (no await in between), so a session that
    // ends while the token was being verified is either refused here or closed by endSession.
    if (this.deps.ended.isEnded(auth.sid)) return refuse(CLOSE.unauthorized, 'session ended');
    const conn = new ClientConnection(ws, socket, auth.sub, auth.sid, {
      openFeed: (userId, sink) => this.deps.live.openFeed(userId, sink),
      logger: this.deps.logger,
      metrics: this.metrics,
      maxBufferedBytes: limits.maxBufferedBytes,
    });
    this.registry.add(conn);
    this.metrics?.opened.inc();
    const connectedAt = Date.now();
    this.deps.logger.info('socket connected', { userId: auth.sub, sockets: this.registry.size });
    pending.authenticated();
    this.alive.set(ws, true);
    ws.on('pong', () => this.alive.set(ws, true));
    let expiry = this.expireAt(ws, auth.exp);
    ws.on('close', (code: number, reason: Buffer) => {
      clearTimeout(expiry);
      this.registry.remove(conn);
      // The reason is the peer's text: bounded before it reaches a log line.
      this.deps.logger.info('socket closed', { userId: auth.sub, closeCode: code, reason: reason.toString('utf8').slice(0, 123), seconds: Math.round((Date.now() - connectedAt) / 1000) });
    });

    let windowStart = Date.now();
    let framesInWindow = 0;
    let invalidFrames = 0;
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (Date.now() - windowStart > FRAME_WINDOW_MS) {
        windowStart = Date.now();
        framesInWindow = 0;
      }
      if (++framesInWindow > MAX_FRAMES_PER_WINDOW) return ws.close(CLOSE.policyViolation, 'too many frames');
      const frame = isBinary ? undefined : parseFrame(data.toString());
      if (!frame) {
        if (++invalidFrames > MAX_INVALID_FRAMES) return ws.close(CLOSE.policyViolation, 'too many invalid frames');
        conn.send({ type: 'error', code: 'invalid_frame', message: 'Frames are JSON: auth, read or ping.' });
        return;
      }
      void this.onFrame(conn, frame, auth.sub, (exp) => {
        clearTimeout(expiry);
        expiry = this.expireAt(ws, exp);
      });
    });
    ws.resume();

    // Anchored before `ready`: everything stored after the client hears it comes on the socket.
    await conn.feed.anchor(afterSeq === undefined ? undefined : Number(afterSeq));
    const unreadCount = await this.deps.unreadCount(auth.sub);
    if (!conn.send({ type: 'ready', unreadCount })) return;
    await conn.feed.start();
  }

  private async onFrame(conn: ClientConnection, frame: InboundFrame, userId: string, renewed: (exp: number) => void): Promise<void> {
    switch (frame.type) {
      case 'ping':
        conn.send({ type: 'pong' });
        return;
      case 'auth': {
        const auth = await this.verify(frame.token);
        // The current token still holds until it expires: the client may renew again later.
        if (auth === 'unavailable') return void conn.send({ type: 'error', code: 'service_unavailable', message: 'The token cannot be checked right now; try again.' });
        if (!auth || auth.sub !== userId) return conn.ws.close(CLOSE.unauthorized, 'invalid token');
        if (this.deps.ended.isEnded(auth.sid)) return conn.ws.close(CLOSE.unauthorized, 'session ended');
        this.registry.moveToSession(conn, auth.sid);
        renewed(auth.exp);
        conn.send({ type: 'auth_ok', expiresAt: new Date(auth.exp * 1000).toISOString() });
        return;
      }
      case 'read':
        try {
          if ('all' in frame) await this.deps.markAllRead(userId);
          else await this.deps.markRead(userId, frame.ids);
        } catch (err) {
          const e = toAppError(err);
          conn.send({ type: 'error', code: e.code, message: e.detail ?? e.title });
        }
    }
  }

  /**
   * The token's claims; undefined for a bad token (4001); 'unavailable' when it cannot be
   * judged now (keys unreachable: an unknown kid during a broker outage), which is no reason
   * for a client to log its user out.
   */
  private async verify(token: string | undefined): Promise<VerifiedAccessToken | undefined | 'unavailable'> {
    if (!token) return undefined;
    try {
      return await this.deps.verifier.verify(token);
    } catch (err) {
      return err instanceof AppError && err.status === 401 ? undefined : 'unavailable';
    }
  }

  private expireAt(ws: WebSocket, exp: number): NodeJS.Timeout {
    const timer = setTimeout(() => ws.close(CLOSE.unauthorized, 'token expired'), Math.max(0, exp * 1000 - Date.now()));
    timer.unref();
    return timer;
  }

  private ping(): void {
    for (const ws of this.wss.clients) {
      if (this.alive.get(ws) === false) {
        ws.terminate();
        continue;
      }
      this.alive.set(ws, false);
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
