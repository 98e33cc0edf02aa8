import { randomUUID } from 'node:crypto';
import { Broker } from '@warren/shared/messaging/broker';
import { Publisher } from '@warren/shared/messaging/publisher';
import { createLogger } from '@warren/shared/logger';
import { notificationRequestedSchema } from '@warren/shared/contracts/notifications';
import { topology, ROUTING_KEYS } from '@warren/shared/contracts/topology';
import amqplib from 'amqplib';
const ns = 'warren.mbpub-' + randomUUID().slice(0, 6);
const logger = createLogger({ service: 'mb', env: 'dev', level: 'warn' });
const broker = new Broker({ url: 'amqp://guest:guest@127.0.0.1:5672', connectionName: 'mb', logger });
await broker.waitConnected(5000);
const pub = new Publisher(broker, ns, logger);
// bind a queue so mandatory publishes route
const c = await amqplib.connect('amqp://guest:guest@127.0.0.1:5672'); const ch = await c.createChannel();
const body = { recipients: { userIds: [randomUUID()] }, title: 'bench x 1', body: 'Your weekly report is ready. Open the dashboard to review the figures for your team and approve the pending items.', type: 'bench', data: {} };
await new Promise((r) => setTimeout(r, 500));
const N = 20000, C = 256; let i = 0;
async function worker() { while (i < N) { i++; await pub.publishValidated(topology(ns).eventsExchange, ROUTING_KEYS.notificationRequested, { ...body, notificationId: randomUUID(), requestedBy: { userId: randomUUID() }, requestedAt: new Date().toISOString() }); } }
for (let r = 0; r < 3; r++) { i = 0; const c0 = process.cpuUsage(); const t0 = performance.now(); await Promise.all(Array.from({ length: C }, worker)); const cu = process.cpuUsage(c0); console.log('publish', Math.round(N / (performance.now() - t0) * 1000), '/s cpu µs/publish', ((cu.user + cu.system) / N).toFixed(1)); await ch.purgeQueue(topology(ns).notificationRequestsQueue).catch(() => 0); }
await pub.close(); await broker.close();
for (const q of Object.values(topology(ns))) { if (typeof q === 'string') { await ch.deleteQueue(q).catch(() => 0); await ch.deleteExchange(q).catch(() => 0); } }
await c.close().catch(() => 0);
