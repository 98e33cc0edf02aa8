/**
 * The limits on the partner user (shared/src/contracts/broker-limits.ts) and how
 * `npm run broker:permissions` prints them: a byte-limit policy whose pattern matches exactly the
 * queues the partner's events go to, in its namespace and no other, and the partner's connection
 * and channel limits; hostile flag values refused. test/adversarial/broker-limits.test.ts applies
 * them to a broker node.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { brokerLimits, DEFAULT_LIMITS, partnerQueues } from '@warren/shared/contracts/broker-limits';
import { allResources, topology } from '@warren/shared/contracts/topology';
import { resourceNames } from '@warren/shared/messaging/topology';
import type { definitions } from '../../scripts/broker-permissions-output.js';

const t = topology('warren.dev');
const matches = (regex: string, name: string) => new RegExp(regex).test(name);

describe('limits on the partner user', () => {
  it('When the policy is made, then its pattern matches the notification request queue (single and batch go there) and no other queue of either namespace', () => {
    // Act
    const [policy] = brokerLimits(t).policies;

    // Assert
    assert.deepEqual(partnerQueues(t), ['warren.dev.notification.requests']);
    assert.deepEqual(policy?.definition, { 'max-length-bytes': 1024 ** 3, overflow: 'reject-publish' });
    assert.ok(matches(policy?.pattern ?? '', 'warren.dev.notification.requests'));
    const others = [
      ...resourceNames(allResources(t)).queues.filter((q) => q !== 'warren.dev.notification.requests'),
      ...resourceNames(allResources(topology('warren.devx'))).queues,
      'warren.devXnotification.requests',
      'warren.dev.notification.requests.dlq',
      'x.warren.dev.notification.requests',
    ];
    for (const q of others) assert.ok(!matches(policy?.pattern ?? '', q), q);
  });

  it('When the policy is made, then the delay queues of the request queue are not covered: they keep the x-overflow their consumer declares', () => {
    const q = t.queues.notificationRequests;
    assert.equal(q.kind, 'work-queue');
    assert.ok(q.retryTiers.every((tier) => !matches(brokerLimits(t).policies[0]?.pattern ?? '', tier.queue)), 'the delay queues keep their own x-overflow');
  });

  it('When a limit is zero, negative, fractional or unsafe, then it is refused', () => {
    for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60]) {
      assert.throws(() => brokerLimits(t, { ...DEFAULT_LIMITS, maxConnections: bad }), RangeError, String(bad));
      assert.throws(() => brokerLimits(t, { ...DEFAULT_LIMITS, queueBytes: bad }), RangeError, String(bad));
    }
  });
});

describe('npm run broker:permissions: limits', () => {
  const run = promisify(execFile);
  const cli = (args: string[]) => run(process.execPath, ['--import', 'tsx', 'scripts/broker-permissions.ts', ...args]);

  it('When limits are given, then the script sets the policy with its priority and the partner\'s user limits, and the definitions hold both', async () => {
    // Act
    const flags = ['--partner-queue-bytes', '5000', '--partner-max-connections', '3', '--partner-max-channels', '7'];
    const { stdout: script } = await cli(['--namespace', 'warren.qa', '--vhost', 'qa', ...flags]);
    const { stdout: json } = await cli(['--namespace', 'warren.qa', '--vhost', 'qa', '--format', 'definitions', ...flags]);

    // Assert
    assert.ok(
      script.includes(
        `ctl set_policy -p 'qa' --priority 10 --apply-to queues 'warren.qa.partner-queues-limit' '^(warren\\.qa\\.notification\\.requests)$' '{"max-length-bytes":5000,"overflow":"reject-publish"}'`,
      ),
    );
    assert.ok(script.includes(`ctl set_user_limits 'warren.qa.partner' '{"max-connections":3,"max-channels":7}'`));
    assert.match(script, /--partner-queue-bytes 5000 --partner-max-connections 3 --partner-max-channels 7/);
    const doc = JSON.parse(json) as ReturnType<typeof definitions>['document'];
    assert.deepEqual(doc.policies, [
      { vhost: 'qa', name: 'warren.qa.partner-queues-limit', pattern: '^(warren\\.qa\\.notification\\.requests)$', 'apply-to': 'queues', priority: 10, definition: { 'max-length-bytes': 5000, overflow: 'reject-publish' } },
    ]);
    assert.deepEqual(doc.users.find((u) => u.name === 'warren.qa.partner')?.limits, { 'max-connections': 3, 'max-channels': 7 });
    assert.ok(doc.users.filter((u) => u.name !== 'warren.qa.partner').every((u) => u.limits === undefined), 'the services are not limited');
  });

  it('When a limit flag is malformed, then it prints nothing and exits 1', async () => {
    // (A NUL byte cannot reach argv at all.)
    const flags = ['--partner-queue-bytes', '--partner-max-connections', '--partner-max-channels'];
    const values = ['0', '-5', '1e9', '0x10', '1.5', '', ' 5', '99999999999999999', 'NaN'];
    await Promise.all(
      values.map((value, i) => {
        const flag = flags[i % flags.length] as string;
        return assert.rejects(cli(['--namespace', 'warren.dev', `${flag}=${value}`]), (err: { code?: number; stdout?: string }) => err.code === 1 && err.stdout === '', `${flag} ${value}`);
      }),
    );
  });
});
