/**
 * The two forms `npm run broker:permissions` prints a namespace's broker users in: a shell script
 * of rabbitmqctl commands, and a definitions document (JSON) for `rabbitmqctl import_definitions`
 * or the management UI. Neither ever holds a password: the script takes each from a variable or a
 * prompt when it creates the user; the document holds salted hashes, made from those variables
 * or given as hashes, or none (docs/operations.md, "Broker users").
 */
import { createHash, randomBytes } from 'node:crypto';
import type { BrokerLimits } from '@warren/shared/contracts/broker-limits';
import type { BrokerUser, BrokerUserPermissions } from '@warren/shared/contracts/broker-users';

/** The variable holding a user's password: `BROKER_PASSWORD_MAIN_BACKEND`. */
export function passwordVariable(user: BrokerUser): string {
  return `BROKER_PASSWORD_${user.toUpperCase().replace(/-/g, '_')}`;
}

/** The variable holding a user's password hash (definitions only): `BROKER_PASSWORD_HASH_AUTH`. */
export function passwordHashVariable(user: BrokerUser): string {
  return `BROKER_PASSWORD_HASH_${user.toUpperCase().replace(/-/g, '_')}`;
}

/** One shell word: single-quoted, with any single quote closed, escaped and reopened. */
function sh(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

export function rabbitmqctlScript(opts: { namespace: string; vhost: string; users: readonly BrokerUserPermissions[]; limits: BrokerLimits; command: string }): string {
  const { namespace, vhost, users, limits } = opts;
  const lines = [
    '#!/bin/sh',
    `# RabbitMQ users of the broker namespace ${namespace} (vhost ${vhost}) and their permissions, made`,
    `# from Warren's system map by: ${opts.command}`,
    '# Run it where rabbitmqctl reaches a node of the broker (RABBITMQCTL="rabbitmqctl -n rabbit@mq-1" names',
    '# one). Safe to run again: permissions are set, never added to, and a user that exists keeps its',
    '# password. A user that does not exist yet is created with the password in its variable or, without',
    '# it, one typed at the prompt:',
    ...users.map((u) => `#   ${u.name}  ${passwordVariable(u.user)}`),
    '# No password is ever written here. docs/operations.md, "Broker users".',
    'set -eu',
    '# shellcheck disable=SC2086 # RABBITMQCTL may hold options',
    'ctl() { ${RABBITMQCTL:-rabbitmqctl} "$@"; }',
    'ensure_user() {',
    '  if ctl list_users --silent | cut -f1 | grep -qxF "$1"; then',
    '    echo "user $1 exists: its password is unchanged"',
    '    return',
    '  fi',
    '  eval "password=\\${$2:-}"',
    '  if [ -z "$password" ]; then',
    '    # From the terminal, not standard input: the script itself may come through a pipe.',
    '    if ! { : </dev/tty; } 2>/dev/null; then',
    '      echo "$2 is not set (the password of $1) and there is no terminal to ask on" >&2',
    '      exit 1',
    '    fi',
    '    printf "password for %s: " "$1" >/dev/tty',
    '    stty -echo </dev/tty',
    '    IFS= read -r password </dev/tty',
    '    stty echo </dev/tty',
    '    echo >/dev/tty',
    '    [ -n "$password" ] || { echo "no password given for $1" >&2; exit 1; }',
    '  fi',
    '  # On standard input, so that it never shows in the process list.',
    '  printf "%s\\n" "$password" | ctl add_user "$1" >/dev/null',
    '  echo "user $1 created"',
    '}',
    `ctl list_vhosts --silent | grep -qxF ${sh(vhost)} || ctl add_vhost ${sh(vhost)}`,
  ];
  for (const u of users) {
    const p = u.permissions;
    lines.push('', `ensure_user ${sh(u.name)} ${passwordVariable(u.user)}`);
    lines.push(`ctl set_permissions -p ${sh(vhost)} ${sh(u.name)} ${sh(p.configure)} ${sh(p.write)} ${sh(p.read)}`);
    for (const t of p.topics) lines.push(`ctl set_topic_permissions -p ${sh(vhost)} ${sh(u.name)} ${sh(t.exchange)} ${sh(t.write)} ${sh(t.read)}`);
  }
  for (const p of limits.policies) {
    lines.push(
      '',
      `# At most ${p.definition['max-length-bytes']} bytes of messages in ${p.queues.join(', ')}: past that a publish is refused`,
      '# (a publisher-confirm nack) and the queue keeps what it holds, so a flood from the partner cannot fill',
      '# the broker and set off its memory or disk alarm (which blocks every publisher). Replaces any policy of',
      `# this name; one of a higher priority than ${p.priority} on these queues would override it.`,
      `ctl set_policy -p ${sh(vhost)} --priority ${p.priority} --apply-to ${p.applyTo} ${sh(p.name)} ${sh(p.pattern)} ${sh(JSON.stringify(p.definition))}`,
    );
  }
  for (const u of limits.userLimits) {
    lines.push('', `# ${u.user}: at most ${u.limits['max-connections']} connections and ${u.limits['max-channels']} channels (all its connections together).`);
    lines.push(`ctl set_user_limits ${sh(u.user)} ${sh(JSON.stringify(u.limits))}`);
  }
  lines.push('', `echo "broker users of ${namespace} set up"`, '');
  return lines.join('\n');
}

/** RabbitMQ's default password hash (rabbit_password_hashing_sha256): base64(salt + sha256(salt + password)), 4 random bytes of salt. */
export function rabbitPasswordHash(password: string): string {
  const salt = randomBytes(4);
  return Buffer.concat([salt, createHash('sha256').update(Buffer.concat([salt, Buffer.from(password, 'utf8')])).digest()]).toString('base64');
}

export interface Definitions {
  /** `limits`: a user's limits (max-connections, max-channels); RabbitMQ 3.10 and later import them. */
  users: { name: string; password_hash: string; hashing_algorithm: string; tags: string[]; limits?: Record<string, number> }[];
  vhosts: { name: string }[];
  policies: { vhost: string; name: string; pattern: string; 'apply-to': string; priority: number; definition: Record<string, unknown> }[];
  permissions: { user: string; vhost: string; configure: string; write: string; read: string }[];
  topic_permissions: { user: string; vhost: string; exchange: string; write: string; read: string }[];
}

/**
 * The definitions document, and the users it gives no password (their hash is empty: they cannot
 * log in until `rabbitmqctl change_password` sets one). Importing it again resets each user's
 * hash to the document's.
 */
export function definitions(opts: { vhost: string; users: readonly BrokerUserPermissions[]; limits: BrokerLimits; env: NodeJS.ProcessEnv }): { document: Definitions; withoutPassword: string[] } {
  const { vhost, users, limits, env } = opts;
  const withoutPassword: string[] = [];
  const document: Definitions = {
    users: users.map((u) => {
      const password = env[passwordVariable(u.user)];
      const hash = env[passwordHashVariable(u.user)] ?? (password ? rabbitPasswordHash(password) : '');
      if (!hash) withoutPassword.push(u.name);
      const userLimits = limits.userLimits.find((l) => l.user === u.name)?.limits;
      return { name: u.name, password_hash: hash, hashing_algorithm: 'rabbit_password_hashing_sha256', tags: [], ...(userLimits ? { limits: userLimits } : {}) };
    }),
    vhosts: [{ name: vhost }],
    policies: limits.policies.map((p) => ({ vhost, name: p.name, pattern: p.pattern, 'apply-to': p.applyTo, priority: p.priority, definition: p.definition })),
    permissions: users.map((u) => ({ user: u.name, vhost, configure: u.permissions.configure, write: u.permissions.write, read: u.permissions.read })),
    topic_permissions: users.flatMap((u) => u.permissions.topics.map((t) => ({ user: u.name, vhost, exchange: t.exchange, write: t.write, read: t.read }))),
  };
  return { document, withoutPassword };
}
