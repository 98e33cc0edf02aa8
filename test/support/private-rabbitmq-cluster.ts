/**
 * A three-node RabbitMQ cluster of the test's own, made of private nodes (private-rabbitmq.ts):
 * own node names, ports, data and log folders, process groups. The nodes share an Erlang cookie
 * of their own (one HOME), never the machine's, and form the cluster on their first boot from
 * their config (classic peer discovery): the first node starts alone, the others then join it.
 * Only epmd (port 4369) is shared with the machine's broker, which it is built to be.
 * The machine's own broker and its node are never touched.
 */
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { onExit, privateFolder, run } from './private-processes.js';
import { privateRabbitNode, stopOrphans, type PrivateRabbit } from './private-rabbitmq.js';

export interface PrivateRabbitCluster {
  nodes: PrivateRabbit[];
  /** The nodes' URLs, comma-separated: what RABBITMQ_URL takes for a cluster. */
  url: string;
  /** The node a URL (as logged, password masked or not) points at. */
  nodeOf(url: string): PrivateRabbit;
  /** `rabbitmqctl -n <node> ...` with the cluster's cookie; its stdout. */
  ctl(node: PrivateRabbit, ...args: string[]): Promise<string>;
  /** The nodes the cluster counts as running, seen from `node`. */
  runningNodes(node: PrivateRabbit): Promise<string[]>;
  remove(): Promise<void>;
}

const CTL = '/usr/lib/rabbitmq/bin/rabbitmqctl';

export async function startPrivateRabbitCluster(size = 3): Promise<PrivateRabbitCluster> {
  stopOrphans();
  // No group.pid in it: a killed run's cookie folder is removed with its nodes' folders.
  const home = privateFolder('rabbit');
  writeFileSync(join(home, '.erlang.cookie'), randomBytes(24).toString('hex'), { mode: 0o400 });
  const cleanup = onExit(() => rmSync(home, { recursive: true, force: true }));
  const tag = randomBytes(3).toString('hex');
  const names = Array.from({ length: size }, (_, i) => `warren-c-${process.pid}-${tag}-${i + 1}@localhost`);
  const formation = [
    'cluster_formation.peer_discovery_backend = rabbit_peer_discovery_classic_config',
    ...names.map((name, i) => `cluster_formation.classic_config.nodes.${i + 1} = ${name}`),
    '',
  ].join('\n');
  const nodes: PrivateRabbit[] = [];
  for (const nodeName of names) nodes.push(await privateRabbitNode({ home, nodeName, config: formation }));

  const ctlEnv = {
    ...process.env,
    HOME: home,
    // Not the machine's rabbitmq-env.conf: it names the shared node.
    RABBITMQ_CONF_ENV_FILE: join(home, 'rabbitmq-env.conf'),
  };
  const self: PrivateRabbitCluster = {
    nodes,
    url: nodes.map((n) => n.url).join(','),
    nodeOf(url) {
      const port = Number(new URL(url).port);
      const node = nodes.find((n) => n.port === port);
      if (!node) throw new Error(`${url} is no node of the cluster`);
      return node;
    },
    async ctl(node, ...args) {
      const { stdout } = await run(CTL, ['-n', node.nodeName, ...args], { env: ctlEnv, timeout: 60_000 });
      return stdout;
    },
    async runningNodes(node) {
      const status = JSON.parse(await self.ctl(node, 'cluster_status', '--formatter', 'json')) as { running_nodes: string[] };
      return status.running_nodes;
    },
    async remove() {
      await Promise.allSettled(nodes.map((n) => n.remove()));
      rmSync(home, { recursive: true, force: true });
      cleanup.remove();
    },
  };
  try {
    // The first node founds the cluster; the others, started once it runs, find it and join.
    const [founder, ...joiners] = nodes as [PrivateRabbit, ...PrivateRabbit[]];
    await founder.start();
    await Promise.all(joiners.map((n) => n.start()));
    const running = await self.runningNodes(founder);
    if (running.length !== size) throw new Error(`the cluster formed with ${running.length} of ${size} nodes running: ${running.join(', ')}`);
  } catch (err) {
    await self.remove();
    throw err;
  }
  return self;
}
