/**
 * One Warren service of a chaos stack: a process (test/support/service-process.ts) on a fixed
 * port, which a row can SIGKILL or SIGTERM and start again where its clients look for it (each
 * start a new process with the same environment). What every incarnation logged is kept.
 */
import { waitFor } from '../support/private-processes.js';
import { startServiceProcess, type ServiceName, type ServiceProcess } from '../support/service-process.js';

export interface RestartableService {
  /** `auth`, `main-backend`, `notification`, `notification-2`… */
  readonly label: string;
  readonly url: string;
  /** Starts a new process (it is up once waitReady resolves). */
  start(): void;
  /** Kills it (SIGKILL) or stops it (SIGTERM, its own drain) and waits for its exit: the exit code, null if killed, and how long it took. */
  signal(signal: 'SIGKILL' | 'SIGTERM'): Promise<{ code: number | null; tookMs: number }>;
  /** Waits until it started and answers GET /readyz 200. */
  waitReady(timeoutMs?: number): Promise<void>;
  /** Everything every incarnation wrote so far, in order (JSON log lines, and anything else: a crash's stack). */
  output(): string;
  /** The JSON log lines of output(). */
  logLines(): Record<string, unknown>[];
  /** Exits nobody asked for (a crash), with when, the exit code and the last lines written. */
  readonly crashes: { at: string; code: number | null; tail: string }[];
}

export function restartableService(service: ServiceName, label: string, port: number, env: Record<string, string>): RestartableService {
  const url = `http://127.0.0.1:${port}`;
  /** What the processes that exited wrote. */
  const earlier: string[] = [];
  let current: Promise<ServiceProcess> | undefined;
  /** The running process once it started. */
  let live: ServiceProcess | undefined;
  /** Processes a row signalled: their exit is no crash. */
  const asked = new WeakSet<ServiceProcess>();
  const self: RestartableService = {
    label,
    url,
    crashes: [],
    start() {
      current = startServiceProcess(service, env, 120_000);
      current.then(
        (p) => {
          live = p;
          void p.exited.then((code) => {
            earlier.push(p.output());
            if (live === p) live = undefined;
            if (!asked.has(p)) self.crashes.push({ at: new Date().toISOString(), code, tail: p.output().split('\n').slice(-15).join('\n') });
          });
        },
        // A boot that fails is reported by waitReady; until then the rejection is held, not unhandled.
        () => undefined,
      );
    },
    async signal(signal) {
      const proc = await current?.catch(() => undefined);
      current = undefined;
      if (!proc) return { code: null, tookMs: 0 };
      asked.add(proc);
      const started = Date.now();
      let code: number | null = null;
      if (signal === 'SIGKILL') await proc.kill();
      // Longer than the service's own shutdown timeout, so that its own verdict (exit 0, or 1 when cut off) is what is seen.
      else code = await proc.stop(30_000);
      return { code, tookMs: Date.now() - started };
    },
    async waitReady(timeoutMs = 60_000) {
      if (!current) throw new Error(`${label} is not running`);
      await current;
      await waitFor(`${label} ready`, async () => {
        const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2000) }).catch(() => undefined);
        return res?.status === 200;
      }, timeoutMs);
    },
    output: () => [...earlier, live?.output() ?? ''].join('\n'),
    logLines() {
      return self
        .output()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    },
  };
  return self;
}
