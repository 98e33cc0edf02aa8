/**
 * Process lifecycle shared by the three services: load config (one message naming every bad
 * variable on failure), start, and on SIGTERM/SIGINT stop in reverse order within the
 * shutdown timeout, then print one line ("stopped", with the signal and how long the drain
 * took) and exit 0: a Ctrl-C is a normal way to stop, not a crash. A stop that hangs is cut
 * off and exits 1.
 */
import { join } from 'node:path';
import dotenv from 'dotenv';
import { ConfigError } from './config.js';
import type { Logger } from './logger.js';

export interface Service {
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * What a service opened, closed in reverse order: each start step registers how to undo
 * itself right after it succeeds, so stop() never misses one and a failed start undoes
 * exactly what was done. A closer that fails is logged and the others still run.
 */
export class Closers {
  private readonly stack: { name: string; close: () => Promise<unknown> | unknown }[] = [];

  constructor(private readonly logger: Logger) {}

  add<T>(name: string, resource: T, close: (r: T) => Promise<unknown> | unknown): T {
    this.stack.push({ name, close: () => close(resource) });
    return resource;
  }

  async closeAll(): Promise<void> {
    while (this.stack.length > 0) {
      const { name, close } = this.stack.pop() as (typeof this.stack)[number];
      try {
        await close();
      } catch (err) {
        this.logger.error('close failed', { resource: name, err: (err as Error).message });
      }
    }
  }
}

/** A service as its composition root returns it: tests read the port it listens on (port 0). */
export interface RunningService extends Service {
  readonly logger: Logger;
  port(): number;
}

/** Work a process does after its service stopped and before it exits (flushing telemetry). */
const exitHooks: (() => Promise<unknown>)[] = [];

export function beforeProcessExit(hook: () => Promise<unknown>): void {
  exitHooks.push(hook);
}

export async function runMain(
  name: string,
  build: () => { service: Service; shutdownTimeoutMs: number; log: (msg: string, meta?: object) => void },
): Promise<void> {
  // A .env file where npm was started from (the repo root for `npm start`) fills in variables
  // the environment does not set; real environment variables always win.
  dotenv.config({ quiet: true, path: join(process.env.INIT_CWD ?? process.cwd(), '.env') });
  let built: ReturnType<typeof build>;
  try {
    built = build();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${name}: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const { service, shutdownTimeoutMs, log } = built;

  let stopping = false;
  const shutdown = (signal: string) => {
    // A second signal (npm start's Ctrl-C reaches a service both from the terminal and through
    // concurrently) must not kill a drain in progress: the shutdown timeout bounds it anyway.
    if (stopping) return;
    stopping = true;
    const began = Date.now();
    const timer = setTimeout(() => {
      log('shutdown timed out, exiting', { signal, timeoutMs: shutdownTimeoutMs });
      process.exit(1);
    }, shutdownTimeoutMs);
    timer.unref();
    service.stop().then(
      async () => {
        log('stopped', { signal, drainedMs: Date.now() - began });
        await Promise.allSettled(exitHooks.map((hook) => hook()));
        process.exit(0);
      },
      (err: unknown) => {
        log('stop failed', { signal, err: (err as Error).message });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));

  try {
    await service.start();
  } catch (err) {
    log('start failed', { err: (err as Error).message });
    await service.stop().catch(() => undefined);
    process.exit(1);
  }
}
