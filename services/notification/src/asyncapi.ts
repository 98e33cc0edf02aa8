/**
 * The AsyncAPI 3.0 document of Warren's messages, served at GET /asyncapi.json: every WebSocket
 * frame of /ws both ways with its close codes, and every RabbitMQ message another team may
 * publish or consume (events, auth RPC, the live fanout). Payloads are the zod schemas that
 * validate the frames and messages, converted with zod's own z.toJSONSchema (draft-07, the
 * dialect AsyncAPI schemas extend); examples are parsed with their schema as the document is
 * built, so a wrong one fails the build. `npm run docs` writes it to docs/api/asyncapi.json.
 */
import { z } from 'zod';
import { authRpc, USER_LOOKUP_MAX } from '@warren/shared/contracts/auth-rpc';
import { emailRequestedSchema } from '@warren/shared/contracts/email';
import { liveMessageSchema } from '@warren/shared/contracts/live';
import { notificationBatchRequestedSchema, notificationRequestedSchema } from '@warren/shared/contracts/notifications';
import { sessionEndedSchema } from '@warren/shared/contracts/sessions';
import { topology, type Topology } from '@warren/shared/contracts/topology';
import { userUpsertedSchema } from '@warren/shared/contracts/users';
import { API_VERSION } from '@warren/shared/contracts/http-api';
import { REQUEST_ID_HEADER } from '@warren/shared/messaging/envelope';
import type { Exchange } from '@warren/shared/messaging/topology';
import { DEADLINE_HEADER, DIRECT_REPLY_TO, rpcErrorSchema } from '@warren/shared/messaging/rpc-protocol';
import { CLOSE } from './ws/close-codes.js';
import { inboundFrameSchemas } from './ws/inbound-frames.js';
import { outboundFrameSchemas } from './ws/outbound-frames.js';

type Json = Record<string, unknown>;

/** The dev partition's names; qa's are the same with `warren.qa` (BROKER_NAMESPACE). */
const NAMESPACE = 'warren.dev';
const map = topology(NAMESPACE);
const { events: eventsExchange, rpc: rpcExchange, live: liveExchange } = map.exchanges;

/** Every close code the server uses, what it means and what a client should do. */
const CLOSE_CODES: Record<keyof typeof CLOSE, { meaning: string; clientShould: string }> = {
  unauthorized: {
    meaning: 'Token missing, invalid or expired (not renewed in time, or not authenticated within 10 s), renewed with another user\u2019s token, or its session ended.',
    clientShould: 'get a new token, reconnect with ?after=',
  },
  slowConsumer: { meaning: 'Slow consumer: its unsent data passed WS_MAX_BUFFERED_BYTES.', clientShould: 'reconnect with ?after= (nothing is lost)' },
  tooManyConnections: { meaning: 'The user already has WS_MAX_CONNECTIONS_PER_USER sockets.', clientShould: 'close another socket first' },
  goingAway: { meaning: 'The replica is shutting down.', clientShould: 'reconnect with ?after= (any replica)' },
  policyViolation: { meaning: 'Invalid or out-of-range ?after=, more than 10 invalid frames, or more than 100 frames in 10 s.', clientShould: 'fix the client' },
  tooLarge: { meaning: 'A frame over WS_MAX_PAYLOAD_BYTES.', clientShould: 'send smaller frames' },
  internalError: { meaning: 'Internal error.', clientShould: 'reconnect with ?after=' },
  tryAgainLater: {
    meaning: 'The replica holds WS_MAX_CONNECTIONS sockets, the token\u2019s signing key cannot be looked up right now, or the database is unavailable.',
    clientShould: 'retry later (do not log out)',
  },
};

const closeCodes = (Object.keys(CLOSE) as (keyof typeof CLOSE)[])
  .map((name) => ({ code: CLOSE[name], name, ...CLOSE_CODES[name] }))
  .sort((a, b) => b.code - a.code);

/** zod → JSON Schema draft-07, as an AsyncAPI payload or header schema. */
function schema(s: z.ZodType, io: 'input' | 'output' = 'output'): Json {
  const { $schema: _dialect, ...json } = z.toJSONSchema(s, { target: 'draft-7', io, unrepresentable: 'any' }) as Json;
  return json;
}

/** An example, parsed by the schema it illustrates (a wrong one throws here). */
function example<S extends z.ZodType>(s: S, value: z.input<S>, name: string, headers?: Json): Json {
  s.parse(value);
  return { name, payload: value, ...(headers ? { headers } : {}) };
}

const eventHeaders = z.object({
  [REQUEST_ID_HEADER]: z.string().max(128).optional().meta({ description: 'Correlation id: it follows the message through every service\u2019s logs.' }),
});

const rpcHeaders = z.object({
  [DEADLINE_HEADER]: z.number().int().meta({ description: 'Epoch milliseconds after which the caller has given up: the server drops the request unanswered.' }),
  [REQUEST_ID_HEADER]: z.string().max(128).optional().meta({ description: 'Correlation id for the logs.' }),
});

const amqpMessageBinding = (messageType: string) => ({ amqp: { contentEncoding: 'utf-8', messageType, bindingVersion: '0.3.0' } });

function exchangeBinding(exchange: Exchange): Json {
  return { amqp: { is: 'routingKey', exchange: { name: exchange.name, type: exchange.type, durable: true, autoDelete: false, vhost: '/' }, bindingVersion: '0.3.0' } };
}

/** The durable queues an event reaches, with their dead-letter queues (from the system map). */
function queuesOf(id: keyof Topology['events']): string {
  return map.events[id].deliversTo.map((q) => `\`${q.name}\` (quorum; dead letters in \`${q.deadLetterQueue}\`)`).join(', ');
}

const userId = '5b0c8d8e-7a3e-4c1b-9a53-2f1d6c8e4a10';
const sessionId = '0f8e2a6c-3d4b-4e5f-8a9b-1c2d3e4f5a6b';
const at = '2030-01-01T09:00:00.000Z';
const sampleNotification = {
  id: '000000000000002a',
  notificationId: '3f1d2c4b-5a69-4788-9a0b-c1d2e3f4a5b6',
  sender: { id: userId, name: 'Grace Hopper' },
  type: 'report.ready',
  title: 'Quarterly report',
  body: 'The Q3 report is ready for review.',
  data: { reportId: 'q3-2030' },
  createdAt: at,
  readAt: null,
};

interface Event {
  title: string;
  summary: string;
  /** What another team does with it. */
  description: string;
  schema: z.ZodType;
  io: 'input' | 'output';
  example: Json;
}

/** Every event of the system map: a new one does not compile until it is described here. */
const EVENTS: Record<keyof Topology['events'], Event> = {
  notificationRequested: {
    title: 'Notification requested',
    summary: 'Send a notification to users and/or roles.',
    description: `Publish to \`${eventsExchange.name}\` with this routing key, persistent, with publisher confirms and \`mandatory\`, \`message-id\` = \`notificationId\`, \`content-type: application/json\`. It reaches ${queuesOf('notificationRequested')}, which any notification replica consumes. A message that fails this schema is dead-lettered at once; one that keeps failing, after 5 attempts. A redelivery with the same \`notificationId\` is stored once. Recipients see \`requestedBy\` as the sender, with the name auth holds for that user (null without \`requestedBy\`); a \`sender\` field is ignored.`,
    schema: notificationRequestedSchema,
    io: 'input',
    example: example(
      notificationRequestedSchema,
      {
        notificationId: '3f1d2c4b-5a69-4788-9a0b-c1d2e3f4a5b6',
        recipients: { userIds: [userId], roles: ['manager'] },
        title: 'Quarterly report',
        body: 'The Q3 report is ready for review.',
        type: 'report.ready',
        data: { reportId: 'q3-2030' },
        requestedBy: { userId },
        requestedAt: at,
      },
      'to a user and the managers',
      { [REQUEST_ID_HEADER]: 'b7e1c2d3-4f5a-4b6c-8d9e-0a1b2c3d4e5f' },
    ),
  },
  notificationBatchRequested: {
    title: 'Notification batch requested',
    summary: 'Send 1 to 100 notifications in one message, stored in one transaction in their order.',
    description: `Publish to \`${eventsExchange.name}\` with this routing key, like \`notification.requested\` (any unique \`message-id\`). It reaches the same queue, ${queuesOf('notificationBatchRequested')}, told apart by its shape. Each notification has its own \`notificationId\` (stored once per recipient, as for \`notification.requested\`); \`requestedBy\` and \`requestedAt\` are the batch's. Valid or dead-lettered as a whole. Each recipient gets the notifications in their order. POST /notifications/batch publishes one per request (a few when its notifications would take more than 256 KiB).`,
    schema: notificationBatchRequestedSchema,
    io: 'input',
    example: example(
      notificationBatchRequestedSchema,
      {
        notifications: [
          { notificationId: '3f1d2c4b-5a69-4788-9a0b-c1d2e3f4a5b6', recipients: { userIds: [userId] }, title: 'Shift starts at 9', body: 'Your shift starts at 9 tomorrow.' },
          { notificationId: '9c8b7a6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d', recipients: { roles: ['manager'] }, title: 'Rota published', body: 'Next week\u2019s rota is out.', type: 'rota' },
        ],
        requestedBy: { userId },
        requestedAt: at,
      },
      'two notifications',
      { [REQUEST_ID_HEADER]: 'b7e1c2d3-4f5a-4b6c-8d9e-0a1b2c3d4e5f' },
    ),
  },
  userUpserted: {
    title: 'User upserted',
    summary: 'A user exists, with this role (auth announces each change from its outbox).',
    description: `Published by the auth service to \`${eventsExchange.name}\`; reaches ${queuesOf('userUpserted')}. Bind a queue of your own to consume it. \`version\` grows with every change of that user: keep the highest, ignore late or repeated ones. \`name\` (since 0.5.0; absent from older events) is the user's display name, shown as the sender of what they send.`,
    schema: userUpsertedSchema,
    io: 'output',
    example: example(userUpsertedSchema, { userId, role: 'employee', name: 'Grace Hopper', version: 3, occurredAt: at }, 'a role change'),
  },
  sessionEnded: {
    title: 'Session ended',
    summary: 'A session ended (logout, logout-all, deleted session, password reset, reused refresh token, demotion).',
    description: `Published by the auth service to \`${eventsExchange.name}\`; reaches ${queuesOf('sessionEnded')} and an exclusive queue of every main-backend and notification replica. Refuse the session\u2019s access tokens until \`expiresAt\`. Repeats change nothing.`,
    schema: sessionEndedSchema,
    io: 'output',
    example: example(sessionEndedSchema, { sessionId, userId, endedAt: at, expiresAt: '2030-01-01T09:15:00.000Z' }, 'a logout'),
  },
  emailRequested: {
    title: 'Email requested',
    summary: 'Send one of Warren\u2019s templated emails.',
    description: `Published by the auth service to \`${eventsExchange.name}\`; reaches ${queuesOf('emailRequested')}, from which the notification service sends it over SMTP (once per \`message-id\`). Variables may hold a one-time code: never log the body.`,
    schema: emailRequestedSchema,
    io: 'input',
    example: example(emailRequestedSchema, { to: 'ada@example.com', template: 'verify_email', variables: { name: 'Ada', code: '123456', expiresInMinutes: 15 }, requestedAt: at }, 'a verification code'),
  },
};

function socketChannel(): Json {
  const message = (name: string, title: string, summary: string, s: z.ZodType, io: 'input' | 'output', examples: Json[]) => ({
    name,
    title,
    summary,
    contentType: 'application/json',
    payload: schema(s, io),
    examples,
  });
  const out = outboundFrameSchemas;
  const inb = inboundFrameSchemas;
  const table = ['| close code | meaning | client should |', '| --- | --- | --- |', ...closeCodes.map((c) => `| \`${c.code}\` | ${c.meaning} | ${c.clientShould} |`)].join('\n');
  return {
    address: '/ws',
    title: 'The live socket',
    servers: [{ $ref: '#/servers/websocket' }],
    description: [
      'Connect with the access token as `?token=` (or `Authorization: Bearer`), optionally `?after=<id>` (the newest notification id the client has).',
      'The server then sends `ready`, then with `?after=` every notification of the user newer than `<id>`, oldest first, without gap or duplicate, then live ones, still in id order.',
      'Frames are JSON text. Refusals are close codes, except one: a client address already holding WS_MAX_UNAUTHENTICATED_PER_ADDRESS (20) sockets that have not authenticated gets HTTP 429 on the upgrade.',
      'The server pings every WS_HEARTBEAT_MS and terminates a peer that did not answer the previous ping.',
      '',
      table,
    ].join('\n\n'),
    'x-close-codes': closeCodes.map(({ code, meaning, clientShould }) => ({ code, meaning, clientShould })),
    messages: {
      ready: message('ready', 'Ready', 'First frame after authentication: the exact unread count.', out.ready, 'output', [example(out.ready, { type: 'ready', unreadCount: 3 }, 'ready')]),
      notification: message('notification', 'Notification', 'A notification of the user (catch-up or live), in id order.', out.notification, 'output', [
        example(out.notification, { type: 'notification', notification: sampleNotification }, 'a notification'),
      ]),
      readChange: message('read', 'Read change', 'A read-state change from REST or any socket, reaching every socket of the user.', out.read, 'output', [
        example(out.read, { type: 'read', ids: ['000000000000002a'], unreadCount: 2 }, 'some read'),
        example(out.read, { type: 'read', all: true, unreadCount: 0 }, 'all read'),
      ]),
      unreadChange: message('unread', 'Unread again', 'Notifications marked unread again (`POST /inbox/:id/unread`), reaching every socket of the user.', out.unread, 'output', [
        example(out.unread, { type: 'unread', ids: ['000000000000002a'], unreadCount: 3 }, 'one unread again'),
      ]),
      authOk: message('auth_ok', 'Renewed', 'Answer to `auth`: the socket now lives until the new token expires.', out.authOk, 'output', [
        example(out.authOk, { type: 'auth_ok', expiresAt: '2030-01-01T09:15:00.000Z' }, 'renewed'),
      ]),
      pong: message('pong', 'Pong', 'Answer to `ping`.', out.pong, 'output', [example(out.pong, { type: 'pong' }, 'pong')]),
      error: message('error', 'Error', 'A frame that could not be handled (the socket stays open).', out.error, 'output', [
        example(out.error, { type: 'error', code: 'invalid_frame', message: 'Frames are JSON: auth, read or ping.' }, 'invalid frame'),
      ]),
      auth: message('auth', 'Renew', 'A fresh access token of the same user, before the current one expires (another user\u2019s: close 4001).', inb.auth, 'input', [
        example(inb.auth, { type: 'auth', token: 'eyJhbGciOiJFUzI1NiJ9.e30.c2ln' }, 'renew'),
      ]),
      readIds: message('read', 'Mark read', 'Mark 1 to 100 notifications read (an unknown id: error `notification_not_found`).', inb.readIds, 'input', [
        example(inb.readIds, { type: 'read', ids: ['000000000000002a'] }, 'mark one read'),
      ]),
      readAll: message('read', 'Mark all read', 'Mark every notification read.', inb.readAll, 'input', [example(inb.readAll, { type: 'read', all: true }, 'mark all read')]),
      ping: message('ping', 'Ping', 'Application-level keepalive (answered with `pong`).', inb.ping, 'input', [example(inb.ping, { type: 'ping' }, 'ping')]),
    },
    bindings: {
      ws: {
        method: 'GET',
        query: schema(
          z.object({
            token: z.string().optional().meta({ description: 'The access token (or send `Authorization: Bearer`).' }),
            after: z.string().regex(/^[0-9a-f]{16}$/).optional().meta({ description: 'The newest notification id the client has: everything newer is sent first.' }),
          }),
        ),
        headers: schema(z.object({ Authorization: z.string().optional().meta({ description: '`Bearer <access token>`, instead of `?token=`.' }) })),
        bindingVersion: '0.1.0',
      },
    },
  };
}

function eventChannels(): { channels: Json; operations: Json } {
  const channels: Json = {};
  const operations: Json = {};
  for (const [id, e] of Object.entries(EVENTS) as [keyof Topology['events'], Event][]) {
    const key = map.events[id].routingKey;
    channels[id] = {
      address: key,
      title: e.title,
      servers: [{ $ref: '#/servers/rabbitmq' }],
      description: `Routing key \`${key}\` on the ${eventsExchange.type} exchange \`${eventsExchange.name}\`.`,
      messages: {
        [id]: {
          name: key,
          title: e.title,
          summary: e.summary,
          description: e.description,
          contentType: 'application/json',
          headers: schema(eventHeaders),
          payload: schema(e.schema, e.io),
          correlationId: { location: `$message.header#/${REQUEST_ID_HEADER}` },
          bindings: amqpMessageBinding(key),
          examples: [e.example],
        },
      },
      bindings: exchangeBinding(eventsExchange),
    };
  }
  const op = (action: 'send' | 'receive', channel: string, description: string) => ({
    action,
    channel: { $ref: `#/channels/${channel}` },
    description,
    messages: [{ $ref: `#/channels/${channel}/messages/${channel}` }],
    bindings: { amqp: { deliveryMode: 2, mandatory: true, ack: true, bindingVersion: '0.3.0' } },
  });
  operations.receiveNotificationRequested = op('receive', 'notificationRequested', 'The notification service stores it in every recipient\u2019s inbox and pushes it live. Another team publishes it here to send a notification without the main backend.');
  operations.sendUserUpserted = op('send', 'userUpserted', 'The auth service announces users and their roles.');
  operations.receiveUserUpserted = op('receive', 'userUpserted', 'The notification service builds its user directory (for role fan-out) from these.');
  operations.sendSessionEnded = op('send', 'sessionEnded', 'The auth service announces ended sessions.');
  operations.receiveSessionEnded = op('receive', 'sessionEnded', 'Main-backend and notification replicas refuse the session\u2019s tokens and close its sockets (4001).');
  operations.sendEmailRequested = op('send', 'emailRequested', 'The auth service asks for an email (codes, alerts).');
  operations.receiveEmailRequested = op('receive', 'emailRequested', 'The notification service renders the template and sends it over SMTP.');
  return { channels, operations };
}

function liveChannel(): { channels: Json; operations: Json } {
  return {
    channels: {
      live: {
        address: null,
        title: 'Live delivery (internal)',
        servers: [{ $ref: '#/servers/rabbitmq' }],
        description: `The ${liveExchange.type} exchange \`${liveExchange.name}\`: every notification replica binds an exclusive, auto-deleted queue and pushes what arrives to its sockets. Transient: the database is the source of truth. Internal to the notification service: read it to follow deliveries, never publish to it.`,
        messages: {
          live: {
            name: 'live',
            title: 'Stored batch or read change',
            contentType: 'application/json',
            payload: schema(liveMessageSchema),
            examples: [
              example(liveMessageSchema, { kind: 'notifications', batch: 7, entries: [{ userId, seq: 42, notification: sampleNotification }] }, 'a stored batch'),
              example(liveMessageSchema, { kind: 'read', userId, ids: ['000000000000002a'], unreadCount: 2 }, 'a read change'),
              example(liveMessageSchema, { kind: 'unread', userId, ids: ['000000000000002a'], unreadCount: 3 }, 'unread again'),
            ],
          },
        },
        bindings: exchangeBinding(liveExchange),
      },
    },
    operations: {
      sendLive: { action: 'send', channel: { $ref: '#/channels/live' }, description: 'The replica that stored a batch (or changed a read state) publishes it.', messages: [{ $ref: '#/channels/live/messages/live' }] },
      receiveLive: { action: 'receive', channel: { $ref: '#/channels/live' }, description: 'Every replica delivers batches to its sockets in batch order.', messages: [{ $ref: '#/channels/live/messages/live' }] },
    },
  };
}

function rpcChannels(): { channels: Json; operations: Json } {
  const channels: Json = {
    authRpcReplies: {
      address: null,
      title: 'Auth RPC replies',
      servers: [{ $ref: '#/servers/rabbitmq' }],
      description: `Replies go to the request\u2019s \`reply-to\` (use RabbitMQ\u2019s direct reply-to, \`${DIRECT_REPLY_TO}\`) with its \`correlation-id\`: \`{"ok":true,"result":...}\` or \`{"ok":false,"error":{status, code, title, detail, errors?, headers?}}\` (the codes are the HTTP API\u2019s).`,
      messages: {} as Json,
    },
  };
  const operations: Json = {};
  const replies = (channels.authRpcReplies as { messages: Json }).messages;
  for (const [method, m] of Object.entries(authRpc)) {
    const id = `authRpc_${method}`;
    channels[id] = {
      address: m.routingKey,
      title: `Auth RPC ${m.routingKey}`,
      servers: [{ $ref: '#/servers/rabbitmq' }],
      description: `Routing key \`${m.routingKey}\` on the ${rpcExchange.type} exchange \`${rpcExchange.name}\`, bound to the classic queue \`${map.queues.authRpc.name}\` (transient requests, no dead letters: they may carry passwords). Called by ${m.callers.join(' and ')}: with per-service broker users, only theirs may publish it.`,
      messages: {
        request: {
          name: `${m.routingKey} request`,
          contentType: 'application/json',
          headers: schema(rpcHeaders),
          payload: schema(m.request, 'input'),
          correlationId: { location: '$message.header#/correlation_id', description: 'The AMQP correlation-id property, echoed on the reply.' },
          bindings: amqpMessageBinding(m.routingKey),
        },
      },
      bindings: exchangeBinding(rpcExchange),
    };
    replies[id] = {
      name: `${m.routingKey} reply`,
      contentType: 'application/json',
      payload: schema(z.discriminatedUnion('ok', [z.object({ ok: z.literal(true), result: m.response }), z.object({ ok: z.literal(false), error: rpcErrorSchema })])),
    };
    operations[id] = {
      action: 'receive',
      channel: { $ref: `#/channels/${id}` },
      description: `The auth service answers \`${m.routingKey}\`. Send it with \`reply-to\`, a \`correlation-id\`, an \`expiration\` (ms) and the \`${DEADLINE_HEADER}\` header.`,
      messages: [{ $ref: `#/channels/${id}/messages/request` }],
      reply: {
        address: { location: '$message.header#/reply_to', description: 'The request\u2019s AMQP reply-to property.' },
        channel: { $ref: '#/channels/authRpcReplies' },
        messages: [{ $ref: `#/channels/authRpcReplies/messages/${id}` }],
      },
    };
  }
  return { channels, operations };
}

export function asyncApiDocument(): Json {
  const events = eventChannels();
  const live = liveChannel();
  const rpc = rpcChannels();
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Warren messages: the live WebSocket and RabbitMQ',
      version: API_VERSION,
      description: [
        'What travels outside HTTP: the frames of the notification service\u2019s WebSocket `/ws` (both ways, with its close codes), and the RabbitMQ messages of every Warren service that another team may publish or consume.',
        `RabbitMQ names start with the partition\u2019s namespace (BROKER_NAMESPACE): \`${NAMESPACE}\` here, \`warren.qa\` for qa. Every message is JSON (\`content-type: application/json\`) with a \`message-id\`, a \`timestamp\`, a \`type\` equal to its routing key and the correlation id in the header \`${REQUEST_ID_HEADER}\`; events are persistent. Consumers that retry a message copy it to a delay queue with the headers \`x-warren-attempts\`, \`x-warren-failures\` and \`x-warren-routing-key\`; dead letters land in \`<queue>.dlq\` (docs/messaging.md).`,
        `Auth RPC: \`auth.users.lookup\` takes at most ${USER_LOOKUP_MAX} ids per call.`,
      ].join('\n\n'),
    },
    defaultContentType: 'application/json',
    servers: {
      websocket: {
        host: 'localhost:3002',
        protocol: 'ws',
        description: 'The notification service: NOTIFICATION_PORT (3002 dev, 4002 qa), or the gateway\u2019s origin.',
        security: [{ $ref: '#/components/securitySchemes/tokenQuery' }, { $ref: '#/components/securitySchemes/bearer' }],
      },
      rabbitmq: {
        host: 'localhost:5672',
        protocol: 'amqp',
        description: 'RABBITMQ_URL (default amqp://guest:guest@127.0.0.1:5672), vhost /.',
        security: [{ $ref: '#/components/securitySchemes/brokerUser' }],
      },
    },
    channels: { socket: socketChannel(), ...events.channels, ...live.channels, ...rpc.channels },
    operations: {
      sendServerFrames: {
        action: 'send',
        channel: { $ref: '#/channels/socket' },
        summary: 'Frames the server sends',
        messages: ['ready', 'notification', 'readChange', 'authOk', 'pong', 'error'].map((m) => ({ $ref: `#/channels/socket/messages/${m}` })),
      },
      receiveClientFrames: {
        action: 'receive',
        channel: { $ref: '#/channels/socket' },
        summary: 'Frames a client may send (anything else: an `error` frame; more than 10: close 1008)',
        messages: ['auth', 'readIds', 'readAll', 'ping'].map((m) => ({ $ref: `#/channels/socket/messages/${m}` })),
      },
      ...events.operations,
      ...live.operations,
      ...rpc.operations,
    },
    components: {
      securitySchemes: {
        tokenQuery: { type: 'httpApiKey', name: 'token', in: 'query', description: 'The access token of POST /login as `?token=`.' },
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'The access token as `Authorization: Bearer`.' },
        brokerUser: { type: 'userPassword', description: 'The broker user of RABBITMQ_URL.' },
      },
    },
  };
}
