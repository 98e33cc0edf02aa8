/**
 * A user online, as a client keeps them: a socket that, whenever it closes, opens again with
 * `?after=<the newest id it received>` (pausing 250 ms, doubling to 2 s while it cannot get
 * in), on the next of the replica URLs it was given, as a load balancer would route it away
 * from a replica that is gone. Every notification frame is kept with the time it arrived.
 */
import WebSocket from 'ws';
import { sleep } from '../support/http.js';

export interface Frame {
  id: string;
  n: number;
  row: string;
  at: number;
}

export interface SocketFollower {
  frames: Frame[];
  /** Whether the socket is open now and got its `ready` frame. */
  live(): boolean;
  /** How many times the socket was opened again after a close. */
  reopens(): number;
  /** The close codes seen, in order. */
  closeCodes(): number[];
  stop(): Promise<void>;
}

/** `urls`: the notification replicas' /ws URLs; the follower starts on `urls[first]`. */
export function followSocket(urls: string[], token: string, first = 0): SocketFollower {
  const frames: Frame[] = [];
  const codes: number[] = [];
  let reopened = -1;
  let stopped = false;
  let current: WebSocket | undefined;
  let index = first;
  let isLive = false;

  const open = (): Promise<{ gotReady: boolean }> =>
    new Promise((resolve) => {
      reopened += 1;
      // The newest id received (ids of equal length compare as strings), even if frames came out of order.
      const last = frames.reduce<string | undefined>((max, f) => (max === undefined || f.id > max ? f.id : max), undefined);
      const url = urls[index % urls.length] as string;
      const ws = new WebSocket(`${url}?token=${encodeURIComponent(token)}${last ? `&after=${last}` : ''}`);
      current = ws;
      let gotReady = false;
      ws.on('message', (data) => {
        const frame = JSON.parse(data.toString()) as { type: string; notification?: { id: string; data?: { n?: number; row?: string } } };
        if (frame.type === 'ready') gotReady = isLive = true;
        if (frame.type === 'notification' && frame.notification) {
          const { id, data: d } = frame.notification;
          frames.push({ id, n: Number(d?.n), row: String(d?.row), at: Date.now() });
        }
      });
      ws.on('error', () => undefined);
      ws.on('close', (code) => {
        isLive = false;
        codes.push(code);
        resolve({ gotReady });
      });
    });

  const done = (async () => {
    let pause = 250;
    while (!stopped) {
      const { gotReady } = await open();
      if (stopped) return;
      // A replica that refused or dropped us: the next one (a balancer stops routing to a dead one).
      index += 1;
      pause = gotReady ? 250 : Math.min(pause * 2, 2000);
      await sleep(pause);
    }
  })();

  return {
    frames,
    live: () => isLive,
    reopens: () => reopened,
    closeCodes: () => codes,
    async stop() {
      stopped = true;
      current?.close();
      await done;
    },
  };
}
