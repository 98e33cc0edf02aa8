/**
 * `npm run bench`: the benchmark of issue 4, in one run, against a running stack.
 *
 * By default it starts that stack itself (three child processes, isolated namespace and
 * databases, dropped afterwards); with `--external` it measures a stack that is already
 * running (MAIN_URL, NOTIFICATION_URL, ADMIN_EMAIL, ADMIN_PASSWORD). Phases, in this order:
 * idle sockets (first, so the memory baseline is not a heap already grown by the load phases),
 * raw broker ceiling, pipeline throughput (single sends, then batches of 100), latency at a
 * fixed rate, replay on reconnect.
 * Writes bench/results/latest.json and latest.svg; exits 0 even when a target is missed.
 *
 * Options: --external · --quick (small counts, a smoke run) · --phases=idle,raw,pipeline,batch,latency,replay
 *          --cpu-prof=notification,main-backend (child profiles under bench/results/profiles) · --concurrency=64
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { login, registerUsers, startCodeInbox, type CodeInbox, type Session } from './accounts.js';
import { writeChart } from './chart-svg.js';
import { cpuSnapshot } from './cpu-accounting.js';
import { HttpClient } from './http-client.js';
import { SendConnections } from './send-connections.js';
import { measureIdleSockets } from './idle-sockets.js';
import { measureLatency } from './latency.js';
import { measurePipeline } from './pipeline.js';
import { measureRawBroker } from './raw-broker.js';
import { measureReplay } from './replay.js';
import { buildReport, printReport, writeReport, type Figures } from './report.js';
import { nodeOptionsOf } from '../scripts/node-options.mjs';
import { SERVICES, spawnStack, type ServiceName, type SpawnedStack, type StackEndpoints } from './stack-processes.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RESULTS = join(ROOT, 'bench', 'results');
const PHASES = ['idle', 'raw', 'pipeline', 'batch', 'latency', 'replay'] as const;
type Phase = (typeof PHASES)[number];

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(`--${name}`);
const option = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const external = flag('external');
const quick = flag('quick');
const phases = new Set<Phase>((option('phases')?.split(',') as Phase[] | undefined) ?? PHASES);
for (const p of phases) if (!PHASES.includes(p)) throw new Error(`unknown phase ${p}: use ${PHASES.join(',')}`);
const cpuProfile = (option('cpu-prof')?.split(',') ?? []).filter((s): s is ServiceName => (SERVICES as readonly string[]).includes(s));

const COUNTS = quick
  ? { raw: 5000, pipeline: 2000, batch: 5000, warmup: 200, latencySeconds: 3, replay: 1000, sockets: 500, socketUsers: 2 }
  : { raw: 20_000, pipeline: 10_000, batch: 30_000, warmup: 3000, latencySeconds: 10, replay: 5000, sockets: 5000, socketUsers: 10 };
/** The batch phase: notifications per POST /notifications/batch, and such requests in flight. */
const BATCH = { perRequest: 100, inFlight: 16 } as const;
const LATENCY_RATE = 200;
/** Sends in flight in the throughput and replay phases (--concurrency=N to explore). */
const DEFAULT_CONCURRENCY = 256;
const CONCURRENCY = Number(option('concurrency') ?? DEFAULT_CONCURRENCY);
if (!Number.isInteger(CONCURRENCY) || CONCURRENCY < 1 || CONCURRENCY > 1024) throw new Error('--concurrency must be 1 to 1024');
/** One user may hold at most this many sockets on the stack the benchmark starts (config maximum: 1000). */
const SOCKETS_PER_USER = 1000;
const RABBITMQ_URL = process.env.RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const POSTGRES_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432';

const log = (msg: string) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}`);

function env(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`--external needs ${name}`);
  return v;
}

/** Runs one phase under a time limit; a failure is recorded and the other phases still run. */
async function phase<T>(name: string, timeoutMs: number, errors: Record<string, string>, run: () => Promise<T>): Promise<T | undefined> {
  log(`${name}…`);
  let timer: NodeJS.Timeout | undefined;
  try {
    const limit = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs / 1000} s`)), timeoutMs)));
    return await Promise.race([run(), limit]);
  } catch (err) {
    errors[name] = (err as Error).message;
    log(`${name} failed: ${(err as Error).message}`);
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}

async function main(): Promise<void> {
  mkdirSync(RESULTS, { recursive: true });
  const loadAtStart = os.loadavg()[0] ?? 0;
  if (loadAtStart > os.cpus().length / 2) log(`the machine is busy (1-min load ${loadAtStart.toFixed(2)}): figures will be pessimistic`);
  const http = new HttpClient(CONCURRENCY);
  const runId = randomBytes(3).toString('hex');
  let stack: SpawnedStack | undefined;
  let inbox: CodeInbox | undefined;
  const cleanup = async () => {
    http.close();
    await stack?.stop().catch((err: Error) => console.error(`stopping the stack: ${err.message}`));
    await inbox?.stop();
  };
  // Ctrl-C or an overall overrun still stops the children and drops the bench databases.
  process.once('SIGINT', () => void cleanup().finally(() => process.exit(130)));
  const watchdog = setTimeout(() => {
    console.error('benchmark overran 20 minutes; stopping');
    void cleanup().finally(() => process.exit(1));
  }, 20 * 60_000);
  watchdog.unref();

  let endpoints: StackEndpoints;
  let admin: Session;
  let socketUsers: Session[];
  let namespace: string;
  const stackNotes: Record<string, string> = {};
  try {
    if (external) {
      endpoints = { mainUrl: env('MAIN_URL'), notificationUrl: env('NOTIFICATION_URL'), notificationWsUrl: `${env('NOTIFICATION_URL').replace(/^http/, 'ws')}/ws` };
      namespace = `warren.bench-${runId}`;
      admin = await login(http, endpoints.mainUrl, env('ADMIN_EMAIL'), env('ADMIN_PASSWORD'));
      // Optional extra accounts ("email:password,…") so that sockets can exceed the per-user limit.
      const extra = (process.env.BENCH_SOCKET_USERS ?? '').split(',').filter(Boolean);
      socketUsers = [admin];
      for (const pair of extra) {
        const at = pair.indexOf(':');
        socketUsers.push(await login(http, endpoints.mainUrl, pair.slice(0, at), pair.slice(at + 1)));
      }
      stackNotes.mode = 'external: an already running stack; its own configuration applies';
    } else {
      const adminCredentials = { email: 'bench-admin@warren.test', password: `bench admin ${randomBytes(8).toString('hex')}` };
      inbox = await startCodeInbox();
      log('starting auth, main-backend and notification as child processes…');
      const overrides = { WS_MAX_CONNECTIONS_PER_USER: String(SOCKETS_PER_USER) };
      stack = await spawnStack({
        root: ROOT,
        rabbitmqUrl: RABBITMQ_URL,
        postgresUrl: POSTGRES_URL,
        admin: adminCredentials,
        smtpUrl: inbox.url,
        overrides,
        logFile: join(RESULTS, 'stack.log'),
        cpuProfile,
        profileDir: join(RESULTS, 'profiles'),
      });
      endpoints = stack;
      namespace = stack.namespace;
      admin = await login(http, endpoints.mainUrl, adminCredentials.email, adminCredentials.password);
      const needed = phases.has('idle') ? COUNTS.socketUsers : 0;
      log(`registering ${needed} socket users through the emailed-code flow…`);
      socketUsers = await registerUsers(http, endpoints.mainUrl, inbox, needed);
      Object.assign(stackNotes, {
        mode: 'spawned: three child processes started by the benchmark (node <its options> --import tsx services/<name>/src/main.ts)',
        nodeOptions: SERVICES.map((s) => `${s}: ${nodeOptionsOf(s).join(' ') || 'none'}`).join('; '),
        LOG_LEVEL: 'warn',
        WS_MAX_CONNECTIONS_PER_USER: String(SOCKETS_PER_USER),
        AUTH_RATE_LIMIT_PER_MINUTE: '100000',
        SMTP_URL: 'an SMTP server inside the benchmark (reads the socket users\' codes)',
        other: 'defaults (NOTIFICATION_BATCH_SIZE 100, NOTIFICATION_BATCH_WAIT_MS 10, DATABASE_POOL_MAX 10)',
      });
    }
  } catch (err) {
    await cleanup();
    throw err;
  }

  const figures: Figures = {};
  const errors: Record<string, string> = {};
  // The admin's sends: keep-alive connections, as many as sends in flight.
  const sender = new SendConnections(endpoints.mainUrl, admin.accessToken, CONCURRENCY);
  const common = { sender, wsUrl: endpoints.notificationWsUrl, admin, runId };
  // CPU by process during the throughput phases (services only when the benchmark started them).
  const snapshot = () => cpuSnapshot({ bench: process.pid, ...(stack?.pids ?? {}) }, stack?.databasePrefix);
  try {
    if (phases.has('idle')) {
      // This process and the notification service each hold one descriptor per socket; Node cannot raise the limit itself.
      const fdLimit = Number(execFileSync('sh', ['-c', 'ulimit -n']).toString().trim());
      if (fdLimit < COUNTS.sockets + 500) log(`ulimit -n is ${fdLimit}: raise it (ulimit -n ${COUNTS.sockets * 2}) or sockets will be refused`);
      figures.idleSockets = await phase('idleSockets', 5 * 60_000, errors, () =>
        measureIdleSockets({ http, notificationUrl: endpoints.notificationUrl, wsUrl: endpoints.notificationWsUrl, users: socketUsers, count: COUNTS.sockets }),
      );
    }
    if (phases.has('raw')) {
      figures.rawBroker = await phase('rawBroker', 3 * 60_000, errors, () => measureRawBroker({ rabbitmqUrl: RABBITMQ_URL, namespace, userId: admin.userId, count: COUNTS.raw, repetitions: 3, cpuSnapshot: snapshot }));
    }
    if (phases.has('pipeline')) {
      figures.pipeline = await phase('pipeline', 5 * 60_000, errors, () => measurePipeline({ ...common, count: COUNTS.pipeline, concurrency: CONCURRENCY, warmup: COUNTS.warmup, repetitions: 3, cpuSnapshot: snapshot }));
      if (figures.pipeline && figures.rawBroker) figures.pipeline.ratioToRaw = figures.pipeline.perSecond / figures.rawBroker.perSecond;
    }
    if (phases.has('batch')) {
      figures.batchPipeline = await phase('batchPipeline', 5 * 60_000, errors, () =>
        measurePipeline({ ...common, count: COUNTS.batch, concurrency: BATCH.inFlight, perRequest: BATCH.perRequest, phasePrefix: 'batch', warmup: COUNTS.warmup, repetitions: 3, cpuSnapshot: snapshot }),
      );
      if (figures.batchPipeline && figures.rawBroker) figures.batchPipeline.ratioToRaw = figures.batchPipeline.perSecond / figures.rawBroker.perSecond;
    }
    if (phases.has('latency')) {
      figures.latency = await phase('latency', 2 * 60_000, errors, () => measureLatency({ ...common, rate: LATENCY_RATE, seconds: COUNTS.latencySeconds }));
    }
    if (phases.has('replay')) {
      figures.replay = await phase('replay', 3 * 60_000, errors, () =>
        measureReplay({ ...common, http, notificationUrl: endpoints.notificationUrl, count: COUNTS.replay, concurrency: CONCURRENCY }),
      );
    }
  } finally {
    sender.close();
    log('stopping the stack and dropping its databases and queues…');
    await cleanup();
  }

  const report = buildReport(ROOT, external ? 'external' : 'spawned', stackNotes, figures, errors, loadAtStart);
  // Only a full run replaces latest.* (the README shows it); smoke and partial runs go aside.
  const name = quick ? 'quick' : phases.size < PHASES.length || CONCURRENCY !== DEFAULT_CONCURRENCY ? 'partial' : 'latest';
  writeReport(report, join(RESULTS, `${name}.json`));
  writeChart(report, join(RESULTS, `${name}.svg`));
  printReport(report);
  console.log(`\nWrote bench/results/${name}.json and bench/results/${name}.svg`);
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    console.error(`benchmark failed: ${err.stack ?? err.message}`);
    process.exit(1);
  },
);
