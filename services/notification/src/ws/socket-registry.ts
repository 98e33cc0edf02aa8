/**
 * The connections this replica holds, by user (where live notifications and read changes go)
 * and by session (which sockets to close when a session ends).
 */
import type { ClientConnection } from './client-connection.js';

export class SocketRegistry {
  private readonly byUser = new Map<string, Set<ClientConnection>>();
  private readonly bySession = new Map<string, Set<ClientConnection>>();
  private total = 0;

  add(conn: ClientConnection): void {
    let set = this.byUser.get(conn.userId);
    if (!set) this.byUser.set(conn.userId, (set = new Set()));
    if (!set.has(conn)) this.total += 1;
    set.add(conn);
    addTo(this.bySession, conn.sessionId, conn);
  }

  remove(conn: ClientConnection): void {
    removeFrom(this.bySession, conn.sessionId, conn);
    const set = this.byUser.get(conn.userId);
    if (!set?.delete(conn)) return;
    this.total -= 1;
    if (set.size === 0) this.byUser.delete(conn.userId);
  }

  /** A renewal with a token of another session of the same user: the socket now lives on that one. */
  moveToSession(conn: ClientConnection, sessionId: string): void {
    if (conn.sessionId === sessionId) return;
    removeFrom(this.bySession, conn.sessionId, conn);
    conn.sessionId = sessionId;
    if (this.byUser.get(conn.userId)?.has(conn)) addTo(this.bySession, sessionId, conn);
  }

  of(userId: string): ReadonlySet<ClientConnection> {
    return this.byUser.get(userId) ?? new Set();
  }

  ofSession(sessionId: string): ClientConnection[] {
    return [...(this.bySession.get(sessionId) ?? [])];
  }

  all(): ClientConnection[] {
    return [...this.byUser.values()].flatMap((s) => [...s]);
  }

  get size(): number {
    return this.total;
  }
}

function addTo(map: Map<string, Set<ClientConnection>>, key: string, conn: ClientConnection): void {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  set.add(conn);
}

function removeFrom(map: Map<string, Set<ClientConnection>>, key: string, conn: ClientConnection): void {
  const set = map.get(key);
  if (!set?.delete(conn)) return;
  if (set.size === 0) map.delete(key);
}
