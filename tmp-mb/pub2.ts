import { randomUUID } from 'node:crypto';
import amqplib from 'amqplib';
import * as acm from 'amqp-connection-manager';
const url = 'amqp://guest:guest@127.0.0.1:5672';
const q = 'mbpub2-' + randomUUID().slice(0, 6);
const payload = Buffer.alloc(420, 'a');
const N = 20000, C = 256;
async function run(name: string, publishOne: () => Promise<unknown>) {
  for (let r = 0; r < 2; r++) { let i = 0; const c0 = process.cpuUsage(); const t0 = performance.now();
  await Promise.all(Array.from({ length: C }, async () => { while (i < N) { i++; await publishOne(); } }));
  const cu = process.cpuUsage(c0); console.log(name.padEnd(30), Math.round(N / (performance.now() - t0) * 1000), '/s cpu µs/publish', ((cu.user + cu.system) / N).toFixed(1)); }
}
const c = await amqplib.connect(url); const cch = await c.createConfirmChannel(); await cch.assertQueue(q, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
const props = () => ({ persistent: true, mandatory: true, messageId: randomUUID(), contentType: 'application/json', timestamp: Math.floor(Date.now() / 1000), headers: { 'x-request-id': randomUUID() } });
await run('amqplib confirm cb', () => new Promise<void>((res, rej) => { cch.publish('', q, payload, props(), (err) => (err ? rej(err) : res())); }));
await run('amqplib confirm no headers', () => new Promise<void>((res, rej) => { cch.publish('', q, payload, { persistent: true, messageId: 'x' }, (err) => (err ? rej(err) : res())); }));
const m = acm.connect([url]); const w = m.createChannel({ confirm: true }); await w.waitForConnect();
await run('acm ChannelWrapper.publish', () => w.publish('', q, payload, props()));
await cch.purgeQueue(q); await cch.deleteQueue(q); await w.close(); await m.close(); await c.close();
