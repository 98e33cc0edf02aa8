/**
 * /readyz for a load balancer: a check that hangs (a database whose connections stopped
 * answering) counts as down after READINESS_CHECK_TIMEOUT_MS, so the probe gets a 503 naming it
 * instead of waiting out the pool's 15 s query timeout; one that throws is down too; the other
 * checks are still reported. Probes share one check at a time and its answer for
 * READINESS_CACHE_MS, so a flood of /readyz is not a flood of database queries.
 */
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { createHttpApp } from '@warren/shared/http/app';
import { KIT_PROBLEM_CODES } from '@warren/shared/http/problem-codes';
import { READINESS_CACHE_MS, READINESS_CHECK_TIMEOUT_MS } from '@warren/shared/http/standard-routes';
import { close, listen, portOf } from '@warren/shared/http/server';
import { createMetrics } from '@warren/shared/metrics';
import { captureLogs } from '../../test/support/logs.js';

describe('readiness checks with a deadline', () => {
  let server: Server;
  let base: string;
  let database: () => Promise<boolean>;
  before(async () => {
    const app = await createHttpApp({
      logger: captureLogs('readiness-test').logger,
      metrics: createMetrics('readiness-test', 'test'),
      corsOrigins: [],
      bodyLimit: '1kb',
      readiness: [
        { name: 'database', check: () => database() },
        { name: 'broker', check: () => true },
      ],
      api: { title: 't', description: 't', routes: [], docs: false, version: '0', problems: KIT_PROBLEM_CODES, guardProblems: { token: [], permission: [] }, bearerDescription: '' },
      mount: () => undefined,
    });
    server = await listen(app, 0, '127.0.0.1');
    base = `http://127.0.0.1:${portOf(server)}`;
  });
  after(() => close(server));

  it('When a check never answers, then /readyz is 503 naming it, within the deadline (not the caller\'s patience)', async () => {
    database = () => new Promise<boolean>(() => undefined);
    const started = Date.now();
    const res = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(READINESS_CHECK_TIMEOUT_MS + 5000) });
    assert.equal(res.status, 503);
    assert.deepEqual(await res.json(), { status: 'not_ready', checks: { database: 'down', broker: 'ok' } });
    assert.ok(Date.now() - started >= READINESS_CHECK_TIMEOUT_MS - 50, 'the check was given its time');
  });

  const pastCache = () => new Promise((r) => setTimeout(r, READINESS_CACHE_MS + 50));

  it('When a check throws, then it is down; when it answers in time, ok', async () => {
    await pastCache();
    database = () => Promise.reject(new Error('connection refused'));
    assert.equal((await fetch(`${base}/readyz`)).status, 503);
    await pastCache();
    database = () => new Promise((resolve) => setTimeout(() => resolve(true), 100));
    const res = await fetch(`${base}/readyz`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: 'ready', checks: { database: 'ok', broker: 'ok' } });
  });

  it('When 100 probes arrive at once, and again, then the database is asked once', async () => {
    await pastCache();
    let calls = 0;
    database = () => {
      calls += 1;
      return new Promise((resolve) => setTimeout(() => resolve(true), 50));
    };
    for (let round = 0; round < 2; round++) {
      const answers = await Promise.all(Array.from({ length: 100 }, () => fetch(`${base}/readyz`).then((r) => r.status)));
      assert.ok(answers.every((s) => s === 200));
    }
    assert.equal(calls, 1);
    await pastCache();
    assert.equal((await fetch(`${base}/readyz`)).status, 200);
    assert.equal(calls, 2, 'asked again once the answer is a second old');
  });
});
