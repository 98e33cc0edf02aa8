/**
 * "Is this session still live?", asked of auth and remembered per session id. An answer is
 * fresh for `freshMs` (SESSION_CHECK_CACHE_SECONDS): within it, auth is not asked again.
 *
 * While auth cannot answer (a 503 or 504 from the call: frozen, killed, its database down), a
 * "live" answer up to `staleMs` old (SESSION_CHECK_STALE_SECONDS) is used instead of turning
 * the request away (decision 0026). That is safe enough because an ended session does not wait
 * for this check: auth announces every end on the broker, and the guard before this one refuses
 * it within about a second. What a cached answer could miss is an end this replica did not hear:
 * one announced while its subscription was down, so an answer is used only while the replica is
 * subscribed and only if it was taken since that subscription began (`heardSince`: a broker
 * blip, a reconnect or a cancelled consumer makes every earlier answer be asked afresh, and
 * while there is no subscription every request asks); or one auth committed but had not yet
 * announced when it stopped (its outbox goes out, and the session is refused, as soon as auth
 * is back).
 *
 * Once a call has failed that way, auth is taken as unreachable: a request with a usable stale
 * answer no longer waits out the RPC deadline; one call at a time goes on in the background
 * to find out when auth answers again. A request with no usable answer still asks (and gets
 * the 503/504 if auth cannot say). A "not live" answer is never overridden.
 */
import { AppError } from '@warren/shared/errors';
import type { Logger } from '@warren/shared/logger';

const MAX_ENTRIES = 50_000;

interface Answer {
  active: boolean;
  at: number;
}

export interface SessionLivenessOptions {
  ask: (sessionId: string) => Promise<boolean>;
  freshMs: number;
  /** 0: never use an answer past freshMs (every request waits for auth once it is stale). */
  staleMs: number;
  /**
   * Since when every announced end reaches this replica (its session-ended subscription's
   * `listeningSince()`), or undefined while it is not subscribed: answers taken before are not used.
   */
  heardSince: () => number | undefined;
  logger: Logger;
  now?: () => number;
}

export class SessionLiveness {
  private readonly answers = new Map<string, Answer>();
  private unreachable = false;
  private probe: Promise<void> | undefined;
  private readonly now: () => number;

  constructor(private readonly opts: SessionLivenessOptions) {
    this.now = opts.now ?? Date.now;
  }

  async isLive(sessionId: string): Promise<boolean> {
    const answer = this.trusted(sessionId);
    const age = answer ? this.now() - answer.at : Infinity;
    if (answer && age < this.opts.freshMs) return answer.active;
    const usable = answer?.active === true && age <= this.opts.staleMs;
    if (usable && this.unreachable) {
      this.probe ??= this.ask(sessionId)
        .then(
          () => undefined,
          () => undefined,
        )
        .finally(() => (this.probe = undefined));
      return true;
    }
    try {
      return await this.ask(sessionId);
    } catch (err) {
      if (usable && unreachable(err)) return true;
      throw err;
    }
  }

  /** The answer kept for a session, if no announced end can have passed this replica by since. */
  private trusted(sessionId: string): Answer | undefined {
    const answer = this.answers.get(sessionId);
    if (!answer) return undefined;
    const since = this.opts.heardSince();
    if (since !== undefined && answer.at >= since) return answer;
    this.answers.delete(sessionId);
    return undefined;
  }

  private async ask(sessionId: string): Promise<boolean> {
    let active: boolean;
    try {
      active = await this.opts.ask(sessionId);
    } catch (err) {
      if (unreachable(err) && !this.unreachable) {
        this.unreachable = true;
        this.opts.logger.warn('auth cannot say whether sessions are live: recent "live" answers are used meanwhile', {
          errorCode: (err as AppError).code,
          staleSeconds: Math.round(this.opts.staleMs / 1000),
        });
      }
      throw err;
    }
    if (this.unreachable) {
      this.unreachable = false;
      this.opts.logger.info('auth answers session checks again');
    }
    // Re-inserted, so the Map's insertion order is oldest answer first.
    this.answers.delete(sessionId);
    this.answers.set(sessionId, { active, at: this.now() });
    while (this.answers.size > MAX_ENTRIES) this.answers.delete(this.answers.keys().next().value as string);
    return active;
  }
}

/** Auth could not be asked, or could not answer: not an answer about the session. */
function unreachable(err: unknown): boolean {
  return err instanceof AppError && (err.status === 503 || err.status === 504);
}
