/**
 * One Warren service as operators run it: a real process (`node --import tsx src/main.ts`, as
 * `npm start -w` does) in a process group of its own, on a fixed port, so a fault can SIGKILL
 * or SIGTERM it and start it again where clients look for it. Only this group is ever
 * signalled; a process still running when the test process exits is killed then.
 * Its JSON log lines go to a file in the run's folder, read back when a test needs them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { openSync, readFileSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { onExit, waitFor } from '../support/private-processes.js';

const root = join(fileURLToPath(import.meta.url), '..', '..', '..');

export type ServiceName = 'auth' | 'main-backend' | 'notification';

export interface ServiceProcess {
  /** `auth`, `main-backend`, `notification`, `notification-2`… */
  readonly label: string;
  readonly port: number;
  readonly url: string;
  /** Spawns the process (it listens within seconds; see waitReady). */
  start(): void;
  /** Sends `signal` to the group and waits until the process exited; its exit code (null when killed). */
  signal(signal: 'SIGKILL' | 'SIGTERM'): Promise<{ code: number | null; tookMs: number }>;
  running(): boolean;
  /** Waits until GET /readyz answers 200. */
  waitReady(timeoutMs?: number): Promise<void>;
  /** The log lines written so far (every start of this service, in order). */
  logLines(): Record<string, unknown>[];
}

export function serviceProcess(
  service: ServiceName,
  label: string,
  port: number,
  env: Record<string, string>,
  logFile: string,
): ServiceProcess {
  let child: ChildProcess | undefined;
  let exited: Promise<unknown> = Promise.resolve();
  const killGroup = (signal: NodeJS.Signals) => {
    if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
  };
  onExit(() => killGroup('SIGKILL'));
  const url = `http://127.0.0.1:${port}`;
  return {
    label,
    port,
    url,
    start() {
      if (child && child.exitCode === null && child.signalCode === null) throw new Error(`${label} is already running`);
      const out = openSync(logFile, 'a');
      child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
        cwd: join(root, 'services', service),
        // Only what the service needs: no variable of the test process leaks in (nor a .env: INIT_CWD is the service's folder).
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', INIT_CWD: join(root, 'services', service), ...env },
        detached: true,
        stdio: ['ignore', out, out],
      });
      closeSync(out);
      exited = once(child, 'exit');
    },
    async signal(signal) {
      const started = Date.now();
      const current = child;
      if (!current || current.exitCode !== null || current.signalCode !== null) return { code: current?.exitCode ?? null, tookMs: 0 };
      killGroup(signal);
      await exited;
      return { code: current.exitCode, tookMs: Date.now() - started };
    },
    running: () => !!child && child.exitCode === null && child.signalCode === null,
    async waitReady(timeoutMs = 60_000) {
      await waitFor(`${label} ready`, async () => {
        if (!child || child.exitCode !== null) throw new Error(`${label} exited with ${child?.exitCode}:\n${tail(logFile)}`);
        const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2000) }).catch(() => undefined);
        return res?.status === 200;
      }, timeoutMs);
    },
    logLines() {
      return readFileSync(logFile, 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    },
  };
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-20).join('\n');
  } catch {
    return '';
  }
}
