/**
 * One way to run background work every N ms (outbox relay, retention, purges, key reloads,
 * re-reads): a round never overlaps the previous one (the next is scheduled when it ends),
 * the wait is jittered so replicas started together do not hit the database in step, a
 * failed round is logged and the job goes on, and stop() waits for the round under way, so a
 * service's Closers stack never closes the pool under a running job.
 */
import type { Closers } from './lifecycle.js';
import type { Logger } from './logger.js';

export interface PeriodicJobOptions {
  /** Names the job in logs: a failure is logged as "<name> failed". */
  name: string;
  everyMs: number;
  /** One round; `signal` aborts when the job stops, so a long round can end between batches. */
  run: (signal: AbortSignal) => Promise<unknown>;
  logger: Logger;
  /** Wait before the first round; default `everyMs`. */
  firstRunInMs?: number;
  /** Fraction of the wait added or removed at random (0.1: ±10 %). */
  jitter?: number;
  /** Timers hold the process open unless unref'd; default false (stop() ends the job anyway). */
  unref?: boolean;
}

export class PeriodicJob {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;
  private readonly stopping = new AbortController();

  constructor(private readonly opts: PeriodicJobOptions) {}

  start(): this {
    this.stopped = false;
    this.schedule(this.opts.firstRunInMs ?? this.opts.everyMs);
    return this;
  }

  /** Runs a round now; a round already under way is joined rather than doubled. Never throws. */
  runNow(): Promise<void> {
    this.running ??= this.opts
      .run(this.stopping.signal)
      .then(
        () => undefined,
        (err: unknown) => {
          this.opts.logger.warn(`${this.opts.name} failed`, { job: this.opts.name, err: (err as Error)?.message ?? String(err) });
        },
      )
      .finally(() => (this.running = undefined));
    return this.running;
  }

  /** No new round starts; resolves once the one under way (if any) has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.stopping.abort();
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.runNow().then(() => this.schedule(this.opts.everyMs));
    }, jittered(ms, this.opts.jitter ?? 0.1));
    if (this.opts.unref) this.timer.unref();
  }
}

function jittered(ms: number, fraction: number): number {
  return Math.max(0, Math.round(ms * (1 + fraction * (2 * Math.random() - 1))));
}

/** Starts a job and registers its stop on the service's Closers stack (undone in reverse order). */
export function startPeriodicJob(closers: Closers, opts: PeriodicJobOptions): PeriodicJob {
  return closers.add(opts.name, new PeriodicJob(opts), (j) => j.stop()).start();
}
