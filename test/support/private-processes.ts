/**
 * Bookkeeping shared by the private broker node and the private PostgreSQL clusters that fault
 * tests start: free ports, a folder per run, and a last-chance cleanup when the test process
 * exits (so a failed test never leaves a node or cluster running). Names carry the owner's pid,
 * so a later run can remove what a killed run left behind without touching anything else.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

export const run = promisify(execFile);

/** A port nobody listens on right now (the kernel's pick). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export function privateFolder(kind: string): string {
  return mkdtempSync(join(tmpdir(), `warren-${kind}-${process.pid}-`));
}

/** Whether a TCP connection to 127.0.0.1:port is accepted now. */
export function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.connect(port, '127.0.0.1');
  });
}

export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} did not happen within ${timeoutMs} ms`);
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const exitHooks = new Set<() => void>();
let hooked = false;

/** Runs `hook` (synchronously) if the process exits before `remove` is called. */
export function onExit(hook: () => void): { remove(): void } {
  exitHooks.add(hook);
  if (!hooked) {
    hooked = true;
    process.once('exit', () => {
      for (const h of exitHooks) {
        try {
          h();
        } catch {
          // best effort: the process is going away
        }
      }
    });
  }
  return { remove: () => exitHooks.delete(hook) };
}
