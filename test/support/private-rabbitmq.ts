/**
 * A RabbitMQ node of the test's own: its own node name, AMQP and distribution ports, data and
 * log folders, no plugins, started as a child process in its own process group. A fault test
 * stops it (SIGTERM: a clean broker shutdown), kills it (SIGKILL) and starts it again on the same
 * data, so durable queues and their messages survive as they would on a real broker restart.
 * The machine's own broker is never touched. Nodes whose owner process is gone are stopped at
 * the next start (their pid is kept in their folder).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, onExit, pidAlive, portOpen, privateFolder, run, waitFor } from './private-processes.js';

export interface PrivateRabbit {
  /** `amqp://guest:guest@127.0.0.1:<port>` */
  url: string;
  port: number;
  nodeName: string;
  /** SIGTERM (a clean shutdown, as in a broker restart), or SIGKILL (a crash). */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  start(): Promise<void>;
  /** Stops the node and deletes its folder. */
  remove(): Promise<void>;
  /**
   * `rabbitmqctl -n <this node> ...` with the node's own cookie (users, permissions, listings);
   * its stdout. Never reaches the machine's broker: the node name and HOME are this node's.
   */
  ctl(...args: string[]): Promise<string>;
  /** What runs rabbitmqctl against this node from elsewhere (a script): the command, with `-n <node>`, and its environment. */
  ctlCommand: { command: string; env: Record<string, string> };
}

const SERVER = '/usr/lib/rabbitmq/bin/rabbitmq-server';
const CTL = '/usr/lib/rabbitmq/bin/rabbitmqctl';

/** Stops nodes that earlier test processes started and could not stop (they were killed). */
export function stopOrphans(): void {
  for (const entry of readdirSync(tmpdir())) {
    const match = /^warren-rabbit-(\d+)-/.exec(entry);
    if (!match || pidAlive(Number(match[1]))) continue;
    const folder = join(tmpdir(), entry);
    try {
      const group = Number(readFileSync(join(folder, 'group.pid'), 'utf8'));
      if (group > 0 && pidAlive(group)) process.kill(-group, 'SIGKILL');
    } catch {
      // no node was running there
    }
    rmSync(folder, { recursive: true, force: true });
  }
}

export async function startPrivateRabbit(): Promise<PrivateRabbit> {
  stopOrphans();
  const node = await privateRabbitNode();
  await node.start();
  return node;
}

export interface NodeOptions {
  /** The node's HOME: where its Erlang cookie is (the nodes of one cluster share one cookie). */
  home?: string;
  /** More rabbitmq.conf lines (cluster formation). */
  config?: string;
  /** The node name (default `warren-t-<pid>-<port>@localhost`). */
  nodeName?: string;
}

/** A node of the test's own, set up but not started; orphans of killed runs are the caller's to stop. */
export async function privateRabbitNode(opts: NodeOptions = {}): Promise<PrivateRabbit> {
  const folder = privateFolder('rabbit');
  const [port, distPort] = [await freePort(), await freePort()];
  const nodeName = opts.nodeName ?? `warren-t-${process.pid}-${port}@localhost`;
  for (const dir of ['mnesia', 'log', 'home']) mkdirSync(join(folder, dir));
  writeFileSync(
    join(folder, 'rabbitmq.conf'),
    `listeners.tcp.local = 127.0.0.1:${port}\nloopback_users = none\n${opts.config ?? ''}`,
  );
  writeFileSync(join(folder, 'enabled_plugins'), '[].\n');
  const env = {
    ...process.env,
    // HOME holds the node's Erlang cookie, so it never reads or writes the shared broker's.
    HOME: opts.home ?? join(folder, 'home'),
    RABBITMQ_NODENAME: nodeName,
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_MNESIA_BASE: join(folder, 'mnesia'),
    RABBITMQ_LOG_BASE: join(folder, 'log'),
    RABBITMQ_CONFIG_FILE: join(folder, 'rabbitmq.conf'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(folder, 'enabled_plugins'),
    // Not the machine's rabbitmq-env.conf: it names the shared node.
    RABBITMQ_CONF_ENV_FILE: join(folder, 'rabbitmq-env.conf'),
    RABBITMQ_PID_FILE: join(folder, 'node.pid'),
  };
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  /** Signals the whole group (the start script, the Erlang VM and its helpers). */
  const killGroup = (signal: NodeJS.Signals) => {
    if (!child?.pid) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
  };
  const cleanup = onExit(() => {
    killGroup('SIGKILL');
    rmSync(folder, { recursive: true, force: true });
  });

  const self: PrivateRabbit = {
    url: `amqp://guest:guest@127.0.0.1:${port}`,
    port,
    nodeName,
    async start() {
      const out = openSync(join(folder, 'log', 'console.log'), 'a');
      // Its own process group, so stop() reaches the Erlang VM and its helpers, and nothing else.
      child = spawn(SERVER, [], { env, cwd: folder, detached: true, stdio: ['ignore', out, out] });
      writeFileSync(join(folder, 'group.pid'), String(child.pid));
      const current = child;
      exited = new Promise((resolve) => current.once('exit', () => resolve()));
      await waitFor(`RabbitMQ node ${nodeName} listening`, async () => {
        if (current.exitCode !== null) throw new Error(`RabbitMQ node ${nodeName} exited with ${current.exitCode}`);
        return portOpen(port);
      }, 60_000);
    },
    async stop(signal = 'SIGTERM') {
      // SIGTERM goes to the start script alone: it traps it and shuts the VM down cleanly.
      if (signal === 'SIGTERM' && child?.pid) process.kill(child.pid, 'SIGTERM');
      else killGroup('SIGKILL');
      await exited;
      // The VM's helpers (erl_child_setup, inet_gethost) share the group: make sure none is left.
      killGroup('SIGKILL');
      await waitFor(`RabbitMQ node ${nodeName} closed`, async () => !(await portOpen(port)), 30_000);
    },
    async remove() {
      await self.stop('SIGKILL').catch(() => undefined);
      rmSync(folder, { recursive: true, force: true });
      cleanup.remove();
    },
    async ctl(...args) {
      const { stdout } = await run(CTL, ['-n', nodeName, ...args], { env: { ...process.env, ...self.ctlCommand.env }, timeout: 60_000 });
      return stdout;
    },
    ctlCommand: { command: `${CTL} -n ${nodeName}`, env: { HOME: env.HOME, RABBITMQ_CONF_ENV_FILE: env.RABBITMQ_CONF_ENV_FILE } },
  };
  return self;
}
