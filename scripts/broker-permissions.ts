/**
 * `npm run broker:permissions -- --namespace warren.dev [--vhost /] [--format rabbitmqctl|definitions]`:
 * prints the RabbitMQ users of one partition's broker namespace (one per service, `partner` for
 * other teams' publishers, `operator` for `npm run dlq`) with their permissions, made from the
 * system map (shared/src/contracts/broker-users.ts), so a new queue, event or RPC method is in
 * them as soon as it is in the map. It refuses to print permissions that leave something of the
 * map out (an event nobody may publish, a queue its owner may not read). With them go the limits on
 * the partner (shared/src/contracts/broker-limits.ts): a byte limit on the queues its events go to,
 * and its connections and channels. Nothing is sent to a
 * broker: the operator runs what it prints (docs/operations.md, "Broker users").
 */
import { parseArgs } from 'node:util';
import { brokerLimits, DEFAULT_LIMITS, type LimitOptions } from '@warren/shared/contracts/broker-limits';
import { brokerUsers, permissionGaps } from '@warren/shared/contracts/broker-users';
import { topology } from '@warren/shared/contracts/topology';
import { definitions, passwordHashVariable, passwordVariable, rabbitmqctlScript } from './broker-permissions-output.js';

const USAGE = `Usage: npm run broker:permissions -- --namespace <namespace> [--vhost <vhost>] [--format rabbitmqctl|definitions]

Prints the broker users of one partition and their permissions (configure, write, read; topic
permissions per topic exchange), made from Warren's system map.

  --namespace NS     the partition's BROKER_NAMESPACE, e.g. warren.dev (required)
  --vhost V          the virtual host of the services' RABBITMQ_URL (default /)
  --format rabbitmqctl   (default) a shell script of rabbitmqctl commands: sets every permission and
                     creates the users that do not exist yet, each with the password in its variable
                     (BROKER_PASSWORD_AUTH, _MAIN_BACKEND, _NOTIFICATION, _PARTNER, _OPERATOR) or
                     typed at a prompt; pipe it to sh
  --format definitions   JSON for rabbitmqctl import_definitions or the management UI; each user's
                     password hash is made from BROKER_PASSWORD_<USER>, or taken from
                     BROKER_PASSWORD_HASH_<USER>, or left empty (set it with rabbitmqctl change_password)
  --partner-queue-bytes N   at most N bytes of messages in each queue the partner's events go to
                     (<namespace>.notification.requests); a publish past it is refused (default
                     ${DEFAULT_LIMITS.queueBytes}, 1 GiB). A policy, <namespace>.partner-queues-limit
  --partner-max-connections N   the partner user's connections (default ${DEFAULT_LIMITS.maxConnections})
  --partner-max-channels N      the partner user's channels, all its connections together (default ${DEFAULT_LIMITS.maxChannels})
  -h, --help         this text

Exit status: 0 printed, 1 bad usage or a gap in the permissions.`;

class UsageError extends Error {}

/** A limit given on the command line: digits only (no 1e9, no 0x, no sign), at least 1, a safe integer. */
function count(text: string | undefined, flag: string, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!/^[0-9]{1,16}$/.test(text) || !Number.isSafeInteger(n) || n < 1) throw new UsageError(`${flag} takes a whole number of at least 1, not "${text}"`);
  return n;
}

function main(argv: string[]): number {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      namespace: { type: 'string' },
      vhost: { type: 'string', default: '/' },
      format: { type: 'string', default: 'rabbitmqctl' },
      'partner-queue-bytes': { type: 'string' },
      'partner-max-connections': { type: 'string' },
      'partner-max-channels': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const namespace = values.namespace;
  // The services' own rule for BROKER_NAMESPACE (shared/src/config.ts).
  if (!namespace || !/^[a-z0-9][a-z0-9._-]{0,62}$/.test(namespace)) throw new UsageError('--namespace takes a namespace: lowercase letters, digits, ".", "_" or "-"');
  const vhost = values.vhost as string;
  if (vhost === '') throw new UsageError('--vhost must not be empty');
  if (values.format !== 'rabbitmqctl' && values.format !== 'definitions') throw new UsageError(`unknown format "${values.format}"`);

  const limitOptions: LimitOptions = {
    queueBytes: count(values['partner-queue-bytes'], '--partner-queue-bytes', DEFAULT_LIMITS.queueBytes),
    maxConnections: count(values['partner-max-connections'], '--partner-max-connections', DEFAULT_LIMITS.maxConnections),
    maxChannels: count(values['partner-max-channels'], '--partner-max-channels', DEFAULT_LIMITS.maxChannels),
  };

  const t = topology(namespace);
  const users = brokerUsers(t);
  const limits = brokerLimits(t, limitOptions);
  const gaps = permissionGaps(t, users);
  if (gaps.length > 0) {
    process.stderr.write(`broker:permissions: the system map leaves these out; fix shared/src/contracts/ first:\n${gaps.map((g) => `  ${g}`).join('\n')}\n`);
    return 1;
  }
  if (values.format === 'rabbitmqctl') {
    const flags = (['partner-queue-bytes', 'partner-max-connections', 'partner-max-channels'] as const).flatMap((f) => (values[f] === undefined ? [] : [` --${f} ${values[f]}`]));
    const command = `npm run broker:permissions -- --namespace ${namespace}${vhost === '/' ? '' : ` --vhost ${vhost}`}${flags.join('')}`;
    process.stdout.write(rabbitmqctlScript({ namespace, vhost, users, limits, command }));
    return 0;
  }
  const { document, withoutPassword } = definitions({ vhost, users, limits, env: process.env });
  process.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
  for (const name of withoutPassword) {
    const u = users.find((x) => x.name === name);
    process.stderr.write(
      `broker:permissions: ${name} has no password (neither ${u ? passwordVariable(u.user) : ''} nor ${u ? passwordHashVariable(u.user) : ''} is set): ` +
        `it cannot log in until "rabbitmqctl change_password ${name}" sets one, and importing this again empties it again\n`,
    );
  }
  return 0;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (err) {
  if (err instanceof UsageError || String((err as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS')) {
    process.stderr.write(`broker:permissions: ${(err as Error).message}\n\n${USAGE}\n`);
    process.exitCode = 1;
  } else {
    throw err;
  }
}
