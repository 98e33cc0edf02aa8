/**
 * What a socket that has not authenticated may cost. Each one is counted against its client
 * address from the upgrade until it authenticates or is gone; past `maxPerAddress` the upgrade
 * is refused with 429 before any WebSocket exists (a legitimate client authenticates within
 * milliseconds, so only a flood meets the cap). One that has not authenticated within
 * AUTH_TIMEOUT_MS (the contract's 10 s) is closed with 4001, and a socket refused before it
 * authenticated is terminated if the peer does not answer the close within CLOSE_GRACE_MS,
 * instead of the ws library's 30 s wait for the closing handshake.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { CLOSE } from './close-codes.js';

export const AUTH_TIMEOUT_MS = 10_000;
export const CLOSE_GRACE_MS = 2_000;

/** A pending socket's handle: `authenticated()` stops counting it; `refuse()` closes it for good. */
export interface PendingSocket {
  attach(ws: WebSocket): void;
  authenticated(): void;
  refuse(code: number, reason: string): void;
}

export class UnauthenticatedSockets {
  private readonly byAddress = new Map<string, number>();

  constructor(private readonly opts: { maxPerAddress: number; trustProxy: number; authTimeoutMs?: number; closeGraceMs?: number }) {}

  /** Sockets of `address` not yet authenticated (for tests and metrics). */
  pending(address: string): number {
    return this.byAddress.get(address) ?? 0;
  }

  /**
   * Admits an upgrade request, or answers it 429 and returns undefined. The count is released
   * when the socket authenticates or its connection closes, whichever comes first.
   */
  admit(req: IncomingMessage, socket: Duplex): PendingSocket | undefined {
    const address = clientAddress(req, this.opts.trustProxy);
    const held = this.byAddress.get(address) ?? 0;
    if (held >= this.opts.maxPerAddress) {
      socket.end('HTTP/1.1 429 Too Many Requests\r\nRetry-After: 10\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return undefined;
    }
    this.byAddress.set(address, held + 1);
    let counted = true;
    let timer: NodeJS.Timeout | undefined;
    let ws: WebSocket | undefined;
    const release = () => {
      clearTimeout(timer);
      if (!counted) return;
      counted = false;
      const n = (this.byAddress.get(address) ?? 1) - 1;
      if (n > 0) this.byAddress.set(address, n);
      else this.byAddress.delete(address);
    };
    socket.once('close', release);
    const graceMs = this.opts.closeGraceMs ?? CLOSE_GRACE_MS;
    const refuse = (code: number, reason: string) => {
      if (!ws) return void socket.destroy();
      ws.resume();
      ws.close(code, reason);
      // A peer that never answers the close frame is not waited for.
      const w = ws;
      setTimeout(() => w.terminate(), graceMs).unref();
    };
    return {
      attach: (w) => {
        ws = w;
        timer = setTimeout(() => refuse(CLOSE.unauthorized, 'authentication timeout'), this.opts.authTimeoutMs ?? AUTH_TIMEOUT_MS);
        timer.unref();
      },
      authenticated: release,
      refuse,
    };
  }
}

/**
 * The client's address: the socket's peer, or, behind `trustProxy` trusted proxies, the
 * X-Forwarded-For entry the outermost of them added (as the HTTP side's TRUST_PROXY reads it).
 */
export function clientAddress(req: IncomingMessage, trustProxy: number): string {
  const peer = req.socket.remoteAddress ?? 'unknown';
  if (trustProxy <= 0) return peer;
  const header = req.headers['x-forwarded-for'];
  const forwarded = (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const chain = [peer, ...forwarded.reverse()];
  return chain[Math.min(trustProxy, chain.length - 1)] as string;
}
