/**
 * A WebSocket client for the benchmark: resolves `ready` on the server's ready frame and hands
 * every notification frame to a callback with the time it arrived. No frame is queued: the
 * phases count and time frames as they come.
 */
import WebSocket from 'ws';
import { nowMs } from './stats.js';

export interface NotificationFrame {
  id: string;
  title: string;
  data: Record<string, unknown>;
}

export interface BenchSocket {
  ws: WebSocket;
  /** Resolves with the unread count once `{"type":"ready"}` arrives; rejects on close, error or timeout. */
  ready: Promise<number>;
  closed: Promise<{ code: number; reason: string }>;
  close(timeoutMs?: number): Promise<void>;
}

export function openSocket(
  wsUrl: string,
  token: string,
  opts: { after?: string; readyTimeoutMs?: number; onNotification?: (n: NotificationFrame, receivedAt: number) => void } = {},
): BenchSocket {
  const url = new URL(wsUrl);
  url.searchParams.set('token', token);
  if (opts.after) url.searchParams.set('after', opts.after);
  // No compression: the server does not offer it, and it would cost the client CPU.
  const ws = new WebSocket(url, { perMessageDeflate: false });
  let onReady: (count: number) => void = () => undefined;
  let onFail: (err: Error) => void = () => undefined;
  const ready = new Promise<number>((resolve, reject) => {
    onReady = resolve;
    onFail = reject;
  });
  ready.catch(() => undefined);
  const timer = setTimeout(() => onFail(new Error('no ready frame in time')), opts.readyTimeoutMs ?? 15_000);
  ws.on('message', (data) => {
    const receivedAt = nowMs();
    const frame = JSON.parse(data.toString()) as { type: string; unreadCount?: number; notification?: NotificationFrame };
    if (frame.type === 'notification' && frame.notification) opts.onNotification?.(frame.notification, receivedAt);
    else if (frame.type === 'ready') {
      clearTimeout(timer);
      onReady(frame.unreadCount ?? 0);
    }
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => {
      clearTimeout(timer);
      onFail(new Error(`closed before ready: ${code} ${reason.toString()}`));
      resolve({ code, reason: reason.toString() });
    }),
  );
  ws.on('error', (err) => onFail(err));
  return {
    ws,
    ready,
    closed,
    async close(timeoutMs = 3000) {
      if (ws.readyState === ws.CLOSED) return;
      ws.close();
      const t = setTimeout(() => ws.terminate(), timeoutMs);
      await closed;
      clearTimeout(t);
    },
  };
}
