/**
 * The broker rows of the fault table (restarted, killed, down) with every service on its own broker user
 * (docs/decisions/0032-broker-users.md): after a clean restart, a kill -9 and an outage of the broker,
 * each service reconnects as its user and declares again what it declares on every connection
 * (durable queues, delay queues, its replica queues, the RPC reply consumer) without a refusal,
 * and nothing accepted is lost or duplicated.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { brokerUserName } from '@warren/shared/contracts/broker-users';
import { login } from '../support/stack.js';
import { startChaosStack, type ChaosStack } from './chaos-stack.js';
import { markdownTable } from './fault-table.js';
import { SHORT } from './profiles.js';
import { runRow } from './run-row.js';
import { SCENARIOS } from './scenarios.js';

const REFUSAL = /the broker refused|ACCESS_REFUSED|ACCESS-REFUSED/;

describe('chaos: the broker restarted, killed and down, every service on its own broker user', () => {
  let stack: ChaosStack;
  before(async () => {
    stack = await startChaosStack({ brokerUsers: true });
  });
  after(async () => {
    await stack?.remove();
  });

  for (const id of ['broker-restart', 'broker-killed', 'broker-down']) {
    it(`When ${id} under a steady send load on per-service users, then nothing accepted is lost or duplicated, no re-declaration is refused, and every service is back as its user`, async (t) => {
      const scenario = SCENARIOS.find((s) => s.id === id);
      assert.ok(scenario);
      const row = await runRow(stack, scenario, SHORT);
      t.diagnostic(markdownTable([row]).split('\n').at(-1) as string);
      if (row.problems.length) t.diagnostic(`the services' logs: ${stack.saveLogs()}`);
      assert.deepEqual(row.problems, [], JSON.stringify(row, null, 1));
      for (const s of stack.services()) {
        const refused = s.output().split('\n').filter((l) => REFUSAL.test(l));
        assert.deepEqual(refused, [], `${s.label} was refused something`);
      }
      const users = (await stack.rabbit.ctl('list_connections', 'user', '--silent')).split('\n').map((l) => l.trim());
      for (const u of ['auth', 'main-backend', 'notification'] as const) assert.ok(users.includes(brokerUserName(stack.env.BROKER_NAMESPACE as string, u)), `${u} reconnected as its user`);
      // An RPC round trip (auth's reply through the default exchange to direct reply-to) after the fault.
      assert.ok((await login(stack)).accessToken);
    });
  }
});
