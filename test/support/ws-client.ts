/** A WebSocket test client that queues frames, so a test can await "the next frame" without races. */
import WebSocket from 'ws';

export interface TestSocket {
  ws: WebSocket;
  next(timeoutMs?: number): Promise<Record<string, unknown>>;
  closed: Promise<{ code: number; reason: string }>;
  close(): void;
}

/** `options` reach the ws client as they are (e.g. `autoPong: false` for a peer that never answers pings). */
export function openSocket(url: string, headers: Record<string, string> = {}, options: WebSocket.ClientOptions = {}): TestSocket {
  const ws = new WebSocket(url, { ...options, headers });
  const frames: Record<string, unknown>[] = [];
  const waiters: ((f: Record<string, unknown>) => void)[] = [];
  ws.on('message', (data) => {
    const frame = JSON.parse(data.toString()) as Record<string, unknown>;
    const w = waiters.shift();
    if (w) w(frame);
    else frames.push(frame);
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  ws.on('error', () => undefined);
  return {
    ws,
    closed,
    next(timeoutMs = 5000) {
      const f = frames.shift();
      if (f) return Promise.resolve(f);
      return new Promise((resolve, reject) => {
        const waiter = (frame: Record<string, unknown>) => {
          clearTimeout(timer);
          resolve(frame);
        };
        // A waiter that timed out leaves the queue, or it would swallow the next frame.
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          reject(new Error(`no frame within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.push(waiter);
      });
    },
    close: () => ws.close(),
  };
}
