/**
 * Warren's dependency rules, checked by dependency-cruiser in `npm test` (`npm run deps:check`).
 * Why and how to read a violation: docs/decisions/0015-ports-and-dependency-rule.md.
 * Each rule is one entry of `forbidden`; a new rule is one more entry. Paths are relative to the
 * repository root, resolved as Node resolves them (so `@warren/shared/x` is `shared/src/x.ts`).
 */

/** A use case's own folder: `$1` is the service the importing file is in. */
const DOMAIN = '^services/([^/]+)/src/domain/';

/**
 * The only places a service's domain may import from. Anything else (its db/, messaging/,
 * email/, http/, ws/, the shared messaging, database and HTTP kits, pg, amqplib, express, ws,
 * nodemailer) is reached through the service's `domain/ports.ts`, implemented outside the domain.
 */
const DOMAIN_MAY_IMPORT = [
  // its own use cases and ports
  '^services/$1/src/domain/',
  // the message and RPC schemas every service shares, and the one error type
  '^shared/src/contracts/',
  '^shared/src/errors[.]ts$',
  // pure rules: which text PostgreSQL can store (no I/O)
  '^shared/src/json-limits[.]ts$',
  // pure rules: page cursors encoded and decoded (base64url JSON; no I/O)
  '^shared/src/opaque-cursor[.]ts$',
  // pure rules: W3C traceparent parsing and the trace id a log line carries (no I/O)
  '^shared/src/trace-context[.]ts$',
  // the logger's type (re-exported by each ports.ts); the rule below refuses a value import of it
  '^shared/src/logger[.]ts$',
  // computation, not transport: hashing, signing, schemas, canonical JSON, the common-password list
  '(^|/)node_modules/(argon2|jsonwebtoken|zod|safe-stable-stringify|@zxcvbn-ts/language-common)/',
  // node's own: only what computes (randomness, hashes, promisify)
  '^(crypto|util)$',
];

module.exports = {
  forbidden: [
    {
      name: 'domain-imports-only-ports',
      comment:
        'A use case in services/<name>/src/domain/ imports only its own domain files (ports.ts among them), ' +
        '@warren/shared/contracts/*, errors, json-limits, opaque-cursor, trace-context, the Logger type and computation libraries. ' +
        'Put what it needs from a database, the broker, SMTP or HTTP behind an interface in domain/ports.ts ' +
        'and implement it in db/, messaging/ or email/ (wired in service.ts).',
      severity: 'error',
      from: { path: DOMAIN },
      to: { pathNot: DOMAIN_MAY_IMPORT },
    },
    {
      name: 'domain-logger-type-only',
      comment: 'The domain may name the Logger type (import type); the logger itself is handed in by service.ts.',
      severity: 'error',
      from: { path: DOMAIN },
      to: { path: '^shared/src/logger[.]ts$', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'kit-imports-no-contracts',
      comment:
        'The platform kit (shared/src messaging, http, db, config, lifecycle, service-kit, logger, metrics, errors and ' +
        'their helpers) knows no system: it imports nothing from Warren\'s contracts and system map (shared/src/contracts/) ' +
        'nor from Warren\'s client code for auth (shared/src/auth/). Hand it what it needs as a value (resources, RPC ' +
        'methods, schemas, variable definitions) from the service or contract that uses it (docs/decisions/0016).',
      severity: 'error',
      from: { path: '^shared/src/(messaging|http|db|config|lifecycle|service-kit|logger|metrics|errors|periodic-job|request-context|json-limits|trace-context)' },
      to: { path: '^shared/src/(contracts|auth)/' },
    },
    {
      name: 'no-cycles',
      comment: 'No import cycles in shared/src, a service or a package: a cycle makes load order matter and layers meaningless.',
      severity: 'error',
      from: { path: '^(shared/src|services/[^/]+/src|packages/[^/]+/src)/' },
      to: { circular: true },
    },
    {
      name: 'no-cross-service-imports',
      comment:
        'A service never imports another service\'s files: services talk over RabbitMQ, and share code only through @warren/shared.',
      severity: 'error',
      from: { path: '^services/([^/]+)/' },
      to: { path: '^services/', pathNot: '^services/$1/' },
    },
    {
      name: 'shared-imports-no-service',
      comment: '@warren/shared is what services build on; it never reaches into one of them.',
      severity: 'error',
      from: { path: '^shared/' },
      to: { path: '^services/' },
    },
    {
      name: 'client-runtime-self-contained',
      comment:
        '@warren/client runs in browsers as one bundle: its code imports only its own files, and what it takes from ' +
        '@warren/shared (the contracts) or zod it takes as types (import type), so no zod or server code reaches the bundle.',
      severity: 'error',
      from: { path: '^packages/client/src/' },
      to: { pathNot: '^packages/client/src/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'resolvable',
      comment:
        'Every import resolves: an import the checker cannot follow is one no rule above can judge, so it fails the check too.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: '(^|/)node_modules/' },
    // node_modules is not excluded: the domain rule has to see which packages are imported.
    exclude: { path: '(^|/)dist/' },
    // `import type` counts: a type from db/ ties the domain to db/ as surely as a value does.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.d.ts'],
    },
  },
};
