/**
 * A PostgreSQL cluster of the test's own (pg_createcluster on a free port, data in a temporary
 * folder, trust auth on loopback), so a fault test can stop, kill -9 and restart "the database"
 * without touching the machine's shared cluster. Cluster names are `warren_t_<owner pid>_<hex>`;
 * clusters whose owner process is gone are dropped at the next start.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { freePort, onExit, pidAlive, portOpen, privateFolder, run, waitFor } from './private-processes.js';

export interface PrivatePostgres {
  /** Server URL without a database: `postgres://postgres@127.0.0.1:<port>`. */
  url: string;
  port: number;
  name: string;
  /** A database URL on this cluster (the services create the database at start). */
  databaseUrl(database: string): string;
  /** Stops the cluster (`fast`: clients are disconnected, as in a routine restart). */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  /** SIGKILL to the postmaster: a crash, not a shutdown. */
  kill9(): Promise<void>;
  start(): Promise<void>;
  /** Stops and drops the cluster and its folder. */
  remove(): Promise<void>;
}

const PREFIX = 'warren_t_';

function version(): string {
  const versions = readdirSync('/etc/postgresql').filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
  if (!versions[0]) throw new Error('no PostgreSQL version under /etc/postgresql');
  return versions[0];
}

function dropSync(ver: string, name: string): void {
  execFileSync('pg_dropcluster', [ver, name, '--stop'], { stdio: 'ignore' });
}

/** Drops clusters that earlier test processes created and could not remove (they were killed). */
function dropOrphans(ver: string): void {
  let names: string[] = [];
  try {
    names = readdirSync(`/etc/postgresql/${ver}`);
  } catch {
    return;
  }
  for (const name of names) {
    const owner = Number(name.startsWith(PREFIX) ? name.slice(PREFIX.length).split('_')[0] : NaN);
    if (!Number.isInteger(owner) || pidAlive(owner)) continue;
    try {
      dropSync(ver, name);
    } catch {
      // another run may be dropping it at the same moment
    }
  }
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const ver = version();
  dropOrphans(ver);
  const name = `${PREFIX}${process.pid}_${randomBytes(3).toString('hex')}`;
  const port = await freePort();
  const folder = privateFolder('pg');
  // initdb runs as the postgres user, who must be able to reach the data folder inside.
  chmodSync(folder, 0o755);
  const dataDir = join(folder, 'data');
  const ctl = (...args: string[]) => run('pg_ctlcluster', ['--skip-systemctl-redirect', ver, name, ...args]);
  const cleanup = onExit(() => {
    try {
      dropSync(ver, name);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
  await run('pg_createcluster', [
    ver,
    name,
    '-p',
    String(port),
    '-d',
    dataDir,
    '-o',
    'fsync=off',
    '-o',
    'max_connections=200',
    '--',
    '--auth=trust',
  ]);
  const url = `postgres://postgres@127.0.0.1:${port}`;
  const ready = () => waitFor(`PostgreSQL ${name} accepting connections`, () => portOpen(port), 30_000);

  const self: PrivatePostgres = {
    url,
    port,
    name,
    databaseUrl: (database) => `${url}/${database}`,
    async start() {
      await ctl('start');
      await ready();
      // Accepting TCP is not accepting queries: wait until a query works (crash recovery).
      await waitFor(`PostgreSQL ${name} answering`, async () => {
        try {
          await run('psql', ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', 'postgres', '-Atc', 'select 1']);
          return true;
        } catch {
          return false;
        }
      }, 30_000);
    },
    async stop(mode = 'fast') {
      await ctl('stop', '-m', mode);
      await waitFor(`PostgreSQL ${name} stopped`, async () => !(await portOpen(port)), 30_000);
    },
    async kill9() {
      const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
      process.kill(pid, 'SIGKILL');
      await waitFor(`PostgreSQL ${name} gone`, async () => !pidAlive(pid) && !(await portOpen(port)), 30_000);
    },
    async remove() {
      await run('pg_dropcluster', [ver, name, '--stop']).catch(() => undefined);
      rmSync(folder, { recursive: true, force: true });
      cleanup.remove();
    },
  };
  await self.start();
  return self;
}
