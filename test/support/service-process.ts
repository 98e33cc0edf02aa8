/**
 * A Warren service as a process of its own, started the way `npm start -w services/<name>` runs
 * it (node with tsx, its own environment). Tests that need what an in-process service cannot
 * give use it: a process to freeze (SIGSTOP, as a stalled host or a long GC pause does) and
 * thaw, or to kill outright, while the other services keep running; or a replica that shares
 * nothing in memory with the test's other replicas. Only the pid this helper started is ever
 * signalled, and a process still running when the test process exits is killed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { onExit } from './private-processes.js';

const root = join(fileURLToPath(import.meta.url), '..', '..', '..');

export type ServiceName = 'auth' | 'main-backend' | 'notification';

const STARTED: Record<ServiceName, string> = {
  auth: 'auth service started',
  'main-backend': 'main backend started',
  notification: 'notification service started',
};

export interface ServiceProcess {
  readonly pid: number;
  /** The HTTP port it listens on (read from its "started" log line). */
  readonly port: number;
  readonly url: string;
  /** Everything it wrote so far (JSON log lines). */
  output(): string;
  /** Resolves with its exit code (null if a signal ended it) once it has exited, whoever ended it. */
  readonly exited: Promise<number | null>;
  /** SIGSTOP: the process stays, holds its connections, and answers nothing. */
  pause(): void;
  /** SIGCONT. */
  resume(): void;
  /** SIGKILL, resolved once it has exited. */
  kill(): Promise<void>;
  /** SIGTERM (after SIGCONT if paused), SIGKILL if it has not exited within `timeoutMs`; its exit code (null if killed). */
  stop(timeoutMs?: number): Promise<number | null>;
}

export async function startServiceProcess(service: ServiceName, env: Record<string, string>, timeoutMs = 60_000): Promise<ServiceProcess> {
  const cwd = join(root, 'services', service);
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', INIT_CWD: cwd, LOG_FORMAT: 'json', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pid = child.pid as number;
  let out = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (out += d));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  let running = true;
  void exited.then(() => (running = false));
  // A thawed-then-killed process, so that a frozen one never outlives the test.
  const hook = onExit(() => {
    if (!running) return;
    process.kill(pid, 'SIGCONT');
    process.kill(pid, 'SIGKILL');
  });
  void exited.then(() => hook.remove());

  const port = await new Promise<number>((resolve, reject) => {
    const deadline = setTimeout(() => fail(new Error(`${service} did not start within ${timeoutMs} ms:\n${out}`)), timeoutMs);
    const onData = () => {
      for (const line of out.split('\n')) {
        if (!line.includes(STARTED[service])) continue;
        try {
          const port = (JSON.parse(line) as { port?: number }).port;
          if (port) return done(port);
        } catch {
          // not a JSON line: keep reading
        }
      }
    };
    const onExitEarly = () => fail(new Error(`${service} exited before it started:\n${out}`));
    function done(port: number) {
      clearTimeout(deadline);
      child.stdout?.off('data', onData);
      child.off('exit', onExitEarly);
      resolve(port);
    }
    function fail(err: Error) {
      clearTimeout(deadline);
      child.stdout?.off('data', onData);
      child.off('exit', onExitEarly);
      if (running) child.kill('SIGKILL');
      reject(err);
    }
    child.stdout?.on('data', onData);
    child.once('exit', onExitEarly);
  });

  return {
    pid,
    port,
    url: `http://127.0.0.1:${port}`,
    output: () => out,
    exited,
    pause: () => void process.kill(pid, 'SIGSTOP'),
    resume: () => void process.kill(pid, 'SIGCONT'),
    async kill() {
      if (running) process.kill(pid, 'SIGKILL');
      await exited;
    },
    async stop(stopTimeoutMs = 15_000) {
      if (!running) return exited;
      process.kill(pid, 'SIGCONT');
      process.kill(pid, 'SIGTERM');
      const timer = setTimeout(() => running && process.kill(pid, 'SIGKILL'), stopTimeoutMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
