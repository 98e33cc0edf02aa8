/**
 * The partition's gateway, for real: Debian's nginx running deploy/nginx/<env>.conf as it is,
 * with only what Docker supplies swapped for local values (the listen port, the two upstream
 * addresses, the logs' paths). Its own prefix folder and process group; stopped and
 * removed afterwards, and killed if the test process exits first.
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, onExit, pidAlive, portOpen, privateFolder, waitFor } from './private-processes.js';

const REPO_ROOT = join(import.meta.dirname, '..', '..');

/** Where nginx is (Debian installs it in /usr/sbin, which a user's PATH may not hold). */
export const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => existsSync(p));

export interface PrivateGateway {
  url: string;
  /** The access log as written so far. */
  accessLog(): string;
  /** nginx's error log (warnings and up) as written so far: for a failing assertion's message. */
  errorLog(): string;
  stop(): Promise<void>;
}

/** deploy/nginx/<env>.conf with the upstreams, port and log path of this machine. */
export function renderGatewayConf(env: 'dev' | 'qa', values: { port: number; mainUrl: string; notificationUrl: string; folder: string }): string {
  let conf = readFileSync(join(REPO_ROOT, 'deploy/nginx', `${env}.conf`), 'utf8');
  const swap = (pattern: RegExp, value: string) => {
    if (!pattern.test(conf)) throw new Error(`deploy/nginx/${env}.conf no longer has ${pattern}: update test/support/private-gateway.ts`);
    conf = conf.replace(pattern, value);
  };
  swap(/listen 80;/, `listen 127.0.0.1:${values.port};`);
  swap(/set \$main_backend http:\/\/[^;]+;/, `set $main_backend ${values.mainUrl};`);
  swap(/set \$notification http:\/\/[^;]+;/, `set $notification ${values.notificationUrl};`);
  swap(/access_log \/var\/log\/nginx\/access\.log /, `access_log ${join(values.folder, 'access.log')} `);
  swap(/error_log \/var\/log\/nginx\/error\.log /g, `error_log ${join(values.folder, 'error.log')} `);
  return conf;
}

export async function startGateway(env: 'dev' | 'qa', upstreams: { mainUrl: string; notificationUrl: string }): Promise<PrivateGateway> {
  if (!NGINX) throw new Error('nginx is not installed (scripts/ensure-system-tools.sh installs it)');
  const folder = privateFolder('gateway');
  // nginx's workers run as an unprivileged user when the master is root: they must reach the
  // folder and write request bodies they buffer into its temp folder.
  chmodSync(folder, 0o755);
  const temp = join(folder, 'temp');
  mkdirSync(temp, { mode: 0o777 });
  chmodSync(temp, 0o777);
  const port = await freePort();
  writeFileSync(join(folder, 'gateway.conf'), renderGatewayConf(env, { port, ...upstreams, folder }));
  writeFileSync(
    join(folder, 'nginx.conf'),
    [
      'daemon off;',
      'worker_processes 1;',
      `pid ${join(folder, 'nginx.pid')};`,
      `error_log ${join(folder, 'error.log')} warn;`,
      'events { worker_connections 512; }',
      'http {',
      ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((k) => `  ${k}_temp_path ${join(temp, k)};`),
      `  include ${join(folder, 'gateway.conf')};`,
      '}',
      '',
    ].join('\n'),
  );
  const child = spawn(NGINX, ['-p', folder, '-c', join(folder, 'nginx.conf'), '-e', join(folder, 'error.log')], {
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const pid = child.pid as number;
  const kill = () => {
    if (pidAlive(pid)) process.kill(-pid, 'SIGKILL');
  };
  const hook = onExit(() => {
    kill();
    rmSync(folder, { recursive: true, force: true });
  });
  try {
    await waitFor('the gateway listening', async () => {
      if (child.exitCode !== null) throw new Error(`nginx exited ${child.exitCode}: ${stderr}${readIfThere(join(folder, 'error.log'))}`);
      return portOpen(port);
    }, 15_000);
  } catch (err) {
    kill();
    hook.remove();
    rmSync(folder, { recursive: true, force: true });
    throw err;
  }
  return {
    url: `http://127.0.0.1:${port}`,
    accessLog: () => readIfThere(join(folder, 'access.log')),
    errorLog: () => readIfThere(join(folder, 'error.log')),
    async stop() {
      // SIGQUIT: nginx's graceful shutdown; the group is killed if it takes too long.
      if (pidAlive(pid)) process.kill(pid, 'SIGQUIT');
      await waitFor('the gateway stopped', async () => child.exitCode !== null || child.signalCode !== null, 10_000).catch(kill);
      hook.remove();
      rmSync(folder, { recursive: true, force: true });
    },
  };
}

function readIfThere(path: string): string {
  return existsSync(path) ? readFileSync(path, 'utf8') : '';
}
