/**
 * The sessions this process knows to have ended, each until the last instant an access token
 * of it could be valid. Access tokens are verified locally (no call to auth per request), so
 * this in-memory set, fed by `session.ended` announcements (and, in the notification service,
 * by its database on start), is what makes an ended session's tokens stop working at once.
 * A lookup is one Map read: cheap enough for every request and socket frame.
 */

export type SessionEndedListener = (sessionId: string) => void;

const PRUNE_EVERY_MS = 60_000;

export class EndedSessions {
  /** session id → epoch ms after which no token of it is valid (and it may be forgotten). */
  private readonly until = new Map<string, number>();
  private readonly listeners = new Set<SessionEndedListener>();
  private readonly pruner: NodeJS.Timeout;

  constructor() {
    this.pruner = setInterval(() => this.prune(), PRUNE_EVERY_MS);
    this.pruner.unref();
  }

  /** Records an ended session; listeners hear of it the first time only. */
  end(sessionId: string, untilMs: number): void {
    if (untilMs <= Date.now()) return;
    const known = this.until.get(sessionId);
    if (known !== undefined) {
      if (untilMs > known) this.until.set(sessionId, untilMs);
      return;
    }
    this.until.set(sessionId, untilMs);
    for (const listener of this.listeners) listener(sessionId);
  }

  isEnded(sessionId: string): boolean {
    const until = this.until.get(sessionId);
    return until !== undefined && until > Date.now();
  }

  /** Called with each newly ended session (e.g. to close its sockets). */
  onEnded(listener: SessionEndedListener): void {
    this.listeners.add(listener);
  }

  get size(): number {
    return this.until.size;
  }

  private prune(): void {
    const now = Date.now();
    for (const [sid, until] of this.until) if (until <= now) this.until.delete(sid);
  }

  stop(): void {
    clearInterval(this.pruner);
  }
}
