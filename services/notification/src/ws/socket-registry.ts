/** The connections this replica holds, by user: where live notifications and read changes go. */
import type { ClientConnection } from './client-connection.js';

export class SocketRegistry {
  private readonly byUser = new Map<string, Set<ClientConnection>>();
  private total = 0;

  add(conn: ClientConnection): void {
    let set = this.byUser.get(conn.userId);
    if (!set) this.byUser.set(conn.userId, (set = new Set()));
    if (!set.has(conn)) this.total += 1;
    set.add(conn);
  }

  remove(conn: ClientConnection): void {
    const set = this.byUser.get(conn.userId);
    if (!set?.delete(conn)) return;
    this.total -= 1;
    if (set.size === 0) this.byUser.delete(conn.userId);
  }

  of(userId: string): ReadonlySet<ClientConnection> {
    return this.byUser.get(userId) ?? new Set();
  }

  all(): ClientConnection[] {
    return [...this.byUser.values()].flatMap((s) => [...s]);
  }

  get size(): number {
    return this.total;
  }
}
