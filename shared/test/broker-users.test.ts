/**
 * The broker users made from the system map (shared/src/contracts/broker-users.ts, the kit's
 * shared/src/messaging/broker-permissions.ts): every routing key, queue, exchange, RPC method and
 * broadcast of the map is covered, a new one without an owner is a gap, and each user may do
 * what its party does and nothing more. The regular expressions are read back the way RabbitMQ
 * reads them (anchored, whole names). test/adversarial/broker-users.test.ts applies them to a
 * broker node and runs the stack and the attacks on it.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { authRpc } from '@warren/shared/contracts/auth-rpc';
import { BROKER_USERS, brokerUsers, methodsCalledBy, permissionGaps, type BrokerUserPermissions } from '@warren/shared/contracts/broker-users';
import { allResources, ROUTING_KEYS, topology, type EventRoute, type Topology } from '@warren/shared/contracts/topology';
import { anchored, escapeRegex, permissionsOf, publisherOf, type BrokerPermissions } from '@warren/shared/messaging/broker-permissions';
import { exchange, resourceNames, workQueue } from '@warren/shared/messaging/topology';
import { definitions, passwordVariable, rabbitPasswordHash } from '../../scripts/broker-permissions-output.js';

const NS = 'warren.dev';
const t = topology(NS);
const users = brokerUsers(t);
const of = (user: string): BrokerPermissions => (users.find((u) => u.user === user) as BrokerUserPermissions).permissions;
const matches = (regex: string, name: string) => new RegExp(regex).test(name);
const topic = (p: BrokerPermissions, x: string, side: 'write' | 'read') => p.topics.find((e) => e.exchange === x)?.[side] ?? '(no entry: every key)';
const mayPublish = (user: string, x: string, key: string) => matches(of(user).write, x) && matches(topic(of(user), x, 'write'), key);
const events = t.exchanges.events.name;
const rpc = t.exchanges.rpc.name;

describe('broker users from the system map', () => {
  it('When the map is read, then nothing of it is left out: every event, queue, exchange, RPC method and broadcast has who may use it', () => {
    assert.deepEqual(permissionGaps(t, users), []);
    assert.deepEqual(users.map((u) => u.name), BROKER_USERS.map((u) => `${NS}.${u}`));
  });

  it('When every routing key of the map is published, then exactly its publishers may publish it, and its queue\'s owner may bind and take it', () => {
    for (const e of Object.values(t.events) as EventRoute[]) {
      for (const user of BROKER_USERS) {
        const publishes = (e.publishers as readonly string[]).includes(user) || user === 'operator'; // the operator replays dead letters to their origin
        assert.equal(mayPublish(user, events, e.routingKey), publishes, `${user} publishing ${e.routingKey}`);
      }
      for (const q of e.deliversTo) {
        assert.ok(matches(topic(of(q.owner), events, 'read'), e.routingKey), `${q.owner} binds ${q.name} for ${e.routingKey}`);
        assert.ok(matches(of(q.owner).read, q.name), `${q.owner} takes from ${q.name}`);
      }
    }
    assert.deepEqual(Object.values(ROUTING_KEYS).sort(), Object.values(t.events).map((e) => e.routingKey).sort(), 'every key of ROUTING_KEYS is an event of the map');
  });

  it('When every queue of the namespace is named, then some user may declare it, and only the services ever configure anything', () => {
    for (const q of resourceNames(allResources(t)).queues) {
      assert.ok(['auth', 'main-backend', 'notification'].some((u) => matches(of(u).configure, q)), `${q} is declared by someone`);
    }
    for (const user of ['partner', 'operator']) assert.equal(of(user).configure, '^$', `${user} declares nothing`);
  });

  it('When a user\'s permissions are read, then every name they allow is one of its namespace\'s, the default exchange, or server-named queues', () => {
    const names = resourceNames(allResources(t));
    const known = new Set([...names.queues, ...names.exchanges, 'amq.default']);
    for (const u of users) {
      for (const side of ['configure', 'write', 'read'] as const) {
        const regex = u.permissions[side];
        if (regex === '^$') continue;
        const alternatives = /^\^\((.*)\)\$$/.exec(regex)?.[1]?.split('|') ?? [];
        for (const alt of alternatives) {
          if (alt === 'amq\\.gen-.*') continue;
          const name = alt.replace(/\\(.)/g, '$1');
          assert.ok(known.has(name), `${u.name} ${side}: ${name} is of the namespace`);
          assert.ok(!matches(regex, `warren.qa.${name.slice(NS.length + 1)}`), `${u.name} ${side}: nothing of warren.qa`);
        }
      }
      assert.deepEqual(u.permissions.topics.map((x) => x.exchange), [events, rpc], `${u.name}: an entry for each topic exchange, so no key is allowed by omission`);
    }
  });

  it('When the partner user is read, then it may publish notification requests, single and batch, to the events exchange and nothing else', () => {
    const partner = of('partner');
    assert.deepEqual({ configure: partner.configure, write: partner.write, read: partner.read }, { configure: '^$', write: `^(${escapeRegex(events)})$`, read: '^$' });
    assert.ok(mayPublish('partner', events, 'notification.requested') && mayPublish('partner', events, 'notification.batch.requested'));
    for (const key of ['session.ended', 'user.upserted', 'email.requested', 'notification.requested.x', 'notification.#', '#', '']) {
      assert.ok(!mayPublish('partner', events, key), `partner publishing ${key}`);
    }
    for (const m of Object.values(authRpc)) assert.ok(!mayPublish('partner', rpc, m.routingKey), `partner calling ${m.routingKey}`);
    assert.ok(!matches(partner.write, t.exchanges.live.name) && !matches(partner.write, 'amq.default') && !matches(partner.write, rpc));
  });

  it('When main-backend\'s and notification\'s users are read, then neither may publish what auth announces, and each may call only the methods it uses', () => {
    for (const key of ['user.upserted', 'session.ended', 'email.requested']) {
      assert.ok(!mayPublish('main-backend', events, key), `main-backend publishing ${key}`);
      assert.ok(!mayPublish('notification', events, key), `notification publishing ${key}`);
    }
    assert.ok(!matches(of('main-backend').write, 'amq.default'), 'main-backend cannot reach queues by name');
    assert.ok(!matches(of('main-backend').write, t.exchanges.live.name), 'main-backend cannot publish live deliveries');
    assert.deepEqual(methodsCalledBy('notification').sort(), ['auth.jwks', 'auth.users.lookup']);
    for (const m of Object.values(authRpc)) {
      for (const caller of ['main-backend', 'notification'] as const) {
        assert.equal(mayPublish(caller, rpc, m.routingKey), (m.callers as readonly string[]).includes(caller), `${caller} calling ${m.routingKey}`);
      }
      assert.ok(matches(topic(of('auth'), rpc, 'read'), m.routingKey), `auth binds ${m.routingKey}`);
      assert.ok(!mayPublish('auth', rpc, m.routingKey), `auth does not call itself: ${m.routingKey}`);
    }
    assert.ok(mayPublish('main-backend', rpc, authRpc.changeRole.routingKey) && !mayPublish('main-backend', rpc, authRpc.lookupUsers.routingKey));
  });

  it('When a method names no callers, then main-backend calls it: a new method is covered without more', () => {
    const defaults = Object.values(authRpc).filter((m) => m.routingKey !== 'auth.jwks' && m.routingKey !== 'auth.users.lookup');
    assert.ok(defaults.length > 10);
    for (const m of defaults) assert.deepEqual(m.callers, ['main-backend'], m.routingKey);
  });

  it('When a routing key, queue or broadcast is added to the map without an owner, then it is a gap (and npm run broker:permissions refuses to print)', () => {
    const withEvent = (e: EventRoute): Topology => ({ ...t, events: { ...t.events, extra: e } }) as unknown as Topology;
    const orphanQueue = workQueue({
      name: `${NS}.audit.events`,
      owner: 'notification',
      bindings: [{ exchange: t.exchanges.events, routingKey: 'audit.recorded' }],
      deadLetterExchange: t.exchanges.deadLetters,
      retryDelaysMs: [1_000],
    });
    // An event nobody publishes, bound to a queue its owner's user knows nothing of.
    const unowned = withEvent({ exchange: t.exchanges.events, routingKey: 'audit.recorded' as never, deliversTo: [orphanQueue], publishers: [] });
    const doctored = { ...unowned, queues: { ...t.queues, audit: orphanQueue } } as unknown as Topology;
    const gaps = permissionGaps(doctored, brokerUsers(t));
    assert.ok(gaps.includes('event audit.recorded: nobody publishes it'), gaps.join('\n'));
    assert.ok(gaps.includes(`queue ${NS}.audit.events: notification may not take from it`), gaps.join('\n'));
    assert.ok(gaps.some((g) => g.includes('audit.recorded (bound to') && g.endsWith('nobody may publish it')), gaps.join('\n'));
    // Given to a publisher and rebuilt from the map, the same event is covered.
    const owned = withEvent({ exchange: t.exchanges.events, routingKey: 'audit.recorded' as never, deliversTo: [], publishers: ['auth'] });
    assert.ok(permissionGaps(owned, brokerUsers(owned)).includes('event audit.recorded: no queue is bound for it'));
    const ownerless = { ...t, queues: { ...t.queues, audit: { ...orphanQueue, owner: 'reporting' } } } as unknown as Topology;
    assert.ok(permissionGaps(ownerless, brokerUsers(ownerless)).includes(`queue ${NS}.audit.events: its owner reporting has no broker user`));
    const deaf = { ...t, broadcasts: { ...t.broadcasts, audit: { exchange: t.exchanges.events, routingKey: 'audit.recorded', listeners: ['main-backend'], publishers: [] } } } as unknown as Topology;
    assert.ok(permissionGaps(deaf, users).some((g) => g.includes('audit.recorded: main-backend may not hear it')));
  });
});

describe('broker permissions kit', () => {
  const events = exchange('x.events', 'topic');
  const dlx = exchange('x.dlx', 'direct');

  it('When names hold regular-expression characters, then they are escaped and match only themselves', () => {
    const regex = anchored([{ exact: 'a.b-c' }, { exact: 'a.b-c' }, { pattern: 'amq\\.gen-.*' }]);
    assert.equal(regex, '^(a\\.b\\-c|amq\\.gen-.*)$');
    assert.ok(matches(regex, 'a.b-c') && !matches(regex, 'aXb-c') && !matches(regex, 'a.b-c.dlq') && !matches(regex, 'x.a.b-c'));
    assert.equal(anchored([]), '^$');
    assert.ok(!matches('^$', 'anything'));
  });

  it('When a publisher declares its route, then it needs the queue, its dead-letter path and its binding, not the delay queues nor the default exchange', () => {
    const q = workQueue({ name: 'x.q', owner: 'o', bindings: [{ exchange: events, routingKey: 'k' }], deadLetterExchange: dlx, retryDelaysMs: [1_000] });
    const p = permissionsOf(publisherOf({ exchange: events, routingKey: 'k', deliversTo: [q] }), [events]);
    assert.equal(p.configure, '^(x\\.dlx|x\\.events|x\\.q|x\\.q\\.dlq)$');
    assert.equal(p.write, '^(x\\.dlx|x\\.events|x\\.q|x\\.q\\.dlq)$');
    assert.equal(p.read, '^(x\\.dlx|x\\.events|x\\.q)$');
    assert.deepEqual(p.topics, [{ exchange: 'x.events', write: '^(k)$', read: '^(k)$' }]);
  });

  it('When a topic exchange is used but not given as one of the system\'s, then the permissions are refused rather than left open', () => {
    assert.throws(() => permissionsOf(publisherOf({ exchange: events, routingKey: 'k', deliversTo: [] }), []), /not among the system's topic exchanges/);
  });
});

describe('npm run broker:permissions', () => {
  const run = promisify(execFile);
  const cli = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    run(process.execPath, ['--import', 'tsx', 'scripts/broker-permissions.ts', ...args], { env: { ...process.env, ...env } });

  it('When definitions are asked for with passwords in the environment, then they hold salted hashes RabbitMQ checks, never the passwords', async () => {
    // Act
    const { stdout, stderr } = await cli(['--namespace', 'warren.qa', '--format', 'definitions', '--vhost', 'warren-qa'], {
      [passwordVariable('auth')]: 'auth password',
      [passwordVariable('partner')]: 'partner password',
    });

    // Assert
    const doc = JSON.parse(stdout) as ReturnType<typeof definitions>['document'];
    assert.ok(!stdout.includes('auth password') && !stdout.includes('partner password'));
    const auth = doc.users.find((u) => u.name === 'warren.qa.auth');
    const raw = Buffer.from(auth?.password_hash ?? '', 'base64');
    assert.equal(raw.length, 4 + 32);
    assert.deepEqual(raw.subarray(4), createHash('sha256').update(Buffer.concat([raw.subarray(0, 4), Buffer.from('auth password')])).digest());
    assert.notEqual(rabbitPasswordHash('auth password'), rabbitPasswordHash('auth password'), 'salted');
    assert.equal(doc.users.find((u) => u.name === 'warren.qa.main-backend')?.password_hash, '');
    assert.match(stderr, /warren\.qa\.main-backend has no password/);
    assert.ok(!/warren\.qa\.auth has no password/.test(stderr));
    assert.deepEqual(doc.vhosts, [{ name: 'warren-qa' }]);
    assert.equal(doc.topic_permissions.length, BROKER_USERS.length * 2);
    assert.ok(doc.permissions.every((p) => p.vhost === 'warren-qa'));
  });

  it('When the namespace is missing or malformed, or the format unknown, then it prints nothing and exits 1', async () => {
    for (const args of [[], ['--namespace', 'Warren.Dev'], ['--namespace', 'warren.dev; rm -rf /'], ['--namespace', 'warren.dev', '--format', 'yaml'], ['--namespace', 'warren.dev', 'extra']]) {
      await assert.rejects(cli(args), (err: { code?: number; stdout?: string }) => err.code === 1 && err.stdout === '', args.join(' '));
    }
  });
});
