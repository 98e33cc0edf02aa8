/** The sockets this replica holds, by user: where live notifications are pushed. */
import type { WebSocket } from 'ws';

export class SocketRegistry {
  private readonly byUser = new Map<string, Set<WebSocket>>();

  add(userId: string, ws: WebSocket): void {
    let set = this.byUser.get(userId);
    if (!set) this.byUser.set(userId, (set = new Set()));
    set.add(ws);
  }

  remove(userId: string, ws: WebSocket): void {
    const set = this.byUser.get(userId);
    if (!set) return;
    set.delete(ws);
    if (set.size === 0) this.byUser.delete(userId);
  }

  socketsOf(userId: string): ReadonlySet<WebSocket> {
    return this.byUser.get(userId) ?? new Set();
  }

  /** Sends one JSON frame to every open socket of the user. */
  sendToUser(userId: string, frame: unknown): void {
    const sockets = this.byUser.get(userId);
    if (!sockets) return;
    const data = JSON.stringify(frame);
    for (const ws of sockets) if (ws.readyState === ws.OPEN) ws.send(data);
  }

  all(): WebSocket[] {
    return [...this.byUser.values()].flatMap((s) => [...s]);
  }

  get size(): number {
    let n = 0;
    for (const s of this.byUser.values()) n += s.size;
    return n;
  }
}
