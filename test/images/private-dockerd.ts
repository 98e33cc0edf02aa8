/**
 * A Docker daemon of the test's own: `dockerd` with overlay2, no bridge and no iptables rules
 * (containers and builds use --network host), its own socket, exec root and pid file under a
 * fresh /tmp folder, and a data root that persists between runs (.cache/images/docker) so the
 * layer cache makes a warm run fast. Never the machine's daemon: every docker command gets
 * DOCKER_HOST=unix://<socket>. stop() ends it by its pid (its managed containerd with it).
 */
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface PrivateDockerd {
  /** the environment for docker commands: DOCKER_HOST set, BuildKit off (no buildx here) */
  env: NodeJS.ProcessEnv;
  docker(args: string[], options?: { timeoutMs?: number; input?: string }): SpawnSyncReturns<string>;
  stop(): Promise<void>;
}

function onPath(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).status === 0;
}

/** Why a private daemon cannot run here, or undefined when it can be tried. */
export function dockerdUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'dockerd and debootstrap need root';
  for (const tool of ['dockerd', 'docker', 'debootstrap']) {
    if (!onPath(tool)) return `${tool} is not installed (scripts/ensure-system-tools.sh installs it with WARREN_IMAGE_TEST=1)`;
  }
  if (!readFileSync('/proc/filesystems', 'utf8').includes('overlay')) return 'the kernel has no overlay file system';
  return undefined;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

interface Lock {
  /** the test process using the data root */
  owner: number;
  /** its dockerd, and the folder of its socket and exec root */
  dockerd?: number;
  run?: string;
}

/** Unmounts what dockerd leaves mounted under its exec root (its default network namespace). */
function unmountUnder(dir: string): void {
  const mounts = readFileSync('/proc/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1] ?? '');
  for (const mount of mounts.filter((m) => m.startsWith(`${dir}/`)).reverse()) spawnSync('umount', [mount]);
}

/**
 * A run that was killed (a test timeout, Ctrl-C) leaves its dockerd running: end it, by the pid
 * its lock recorded and only if that process is still a dockerd on this data root.
 */
async function clearStaleRun(dataRoot: string, lock: Lock): Promise<void> {
  const pid = lock.dockerd;
  if (pid && alive(pid)) {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    if (cmdline[0]?.endsWith('dockerd') && cmdline.includes(dataRoot)) {
      process.kill(pid, 'SIGTERM');
      for (let i = 0; i < 60 && alive(pid); i++) await new Promise((r) => setTimeout(r, 500));
      if (alive(pid)) process.kill(-pid, 'SIGKILL');
    }
  }
  if (lock.run?.startsWith('/tmp/wd-')) {
    unmountUnder(lock.run);
    rmSync(lock.run, { recursive: true, force: true });
  }
}

/**
 * Starts the daemon on dataRoot. One run at a time per data root: a lock file holds the pid of
 * the test process using it (and of its dockerd); a second run finds it taken and is told so.
 */
export async function startDockerd(dataRoot: string): Promise<PrivateDockerd> {
  mkdirSync(dataRoot, { recursive: true });
  const lockFile = `${dataRoot}.lock`;
  if (existsSync(lockFile)) {
    let held: Lock = { owner: 0 };
    try {
      held = JSON.parse(readFileSync(lockFile, 'utf8')) as Lock;
    } catch {
      // unreadable: treated as stale
    }
    if (held.owner && alive(held.owner)) throw new Error(`${dataRoot} is in use by process ${held.owner}`);
    await clearStaleRun(dataRoot, held);
    rmSync(lockFile, { force: true });
  }
  writeFileSync(lockFile, JSON.stringify({ owner: process.pid } satisfies Lock), { flag: 'wx' });

  // Short: a unix socket path must stay under 108 bytes.
  const run = mkdtempSync('/tmp/wd-');
  const socket = join(run, 'docker.sock');
  writeFileSync(join(run, 'daemon.json'), '{}\n');
  const logFd = openSync(join(run, 'dockerd.log'), 'a');
  const child = spawn(
    'dockerd',
    [
      '--config-file', join(run, 'daemon.json'),
      '--data-root', dataRoot,
      '--exec-root', join(run, 'exec'),
      '--pidfile', join(run, 'dockerd.pid'),
      '--host', `unix://${socket}`,
      '--storage-driver', 'overlay2',
      '--bridge=none',
      '--iptables=false',
      '--ip-masq=false',
      '--userland-proxy=false',
      '--log-level', 'warn',
    ],
    // Its own process group, so stop() can end containerd and shims with it if they linger.
    { detached: true, stdio: ['ignore', logFd, logFd] },
  );
  closeSync(logFd);
  writeFileSync(lockFile, JSON.stringify({ owner: process.pid, dockerd: child.pid, run } satisfies Lock));
  const env: NodeJS.ProcessEnv = { ...process.env, DOCKER_HOST: `unix://${socket}`, DOCKER_BUILDKIT: '0', DOCKER_CLI_HINTS: 'false' };
  const docker: PrivateDockerd['docker'] = (args, options = {}) =>
    spawnSync('docker', args, { env, encoding: 'utf8', timeout: options.timeoutMs ?? 120_000, input: options.input, maxBuffer: 64 * 1024 * 1024 });

  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));
  const stop = async () => {
    if (!exited && child.pid) {
      process.kill(child.pid, 'SIGTERM');
      const timer = setTimeout(() => child.pid && !exited && process.kill(-child.pid, 'SIGKILL'), 30_000);
      await exit;
      clearTimeout(timer);
    }
    unmountUnder(run);
    rmSync(run, { recursive: true, force: true });
    rmSync(lockFile, { force: true });
  };

  const deadline = Date.now() + 60_000;
  while (docker(['version', '--format', '{{.Server.Version}}'], { timeoutMs: 10_000 }).status !== 0) {
    if (exited || Date.now() > deadline) {
      const log = existsSync(join(run, 'dockerd.log')) ? readFileSync(join(run, 'dockerd.log'), 'utf8').slice(-3000) : '';
      await stop();
      throw new Error(`dockerd did not start:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  return { env, docker, stop };
}
