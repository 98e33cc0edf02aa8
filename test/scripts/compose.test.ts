/**
 * docker-compose.dev.yml and docker-compose.qa.yml, read as YAML (this machine has no
 * `docker compose`; where it exists, `docker compose config` is run too): the partition's
 * services from the right images, healthchecks, restart policies, dependencies on health,
 * the environment that keeps dev and qa apart on one broker and one database server, host
 * ports that do not collide, and a gateway whose nginx routes reach those services.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { REPO_ROOT } from './fake-tools.js';

interface Service {
  image?: string;
  restart?: string;
  profiles?: string[];
  healthcheck?: { test?: string[] };
  environment?: Record<string, string>;
  ports?: string[];
  depends_on?: Record<string, { condition?: string; required?: boolean }>;
  volumes?: string[];
  networks?: Record<string, { aliases?: string[] }>;
  logging?: { driver?: string; options?: Record<string, string> };
}
interface ComposeFile {
  name: string;
  services: Record<string, Service>;
}

const PARTITIONS = {
  dev: {
    suffix: '',
    image: (s: string) => `\${REGISTRY:-warren}/${s}:dev-\${TAG:?`,
    servicePorts: { 'main-backend': 3000, auth: 3001, notification: 3002 },
    gatewayPort: 8080,
  },
  qa: {
    suffix: '_QA',
    image: (s: string) => `\${REGISTRY:-warren}/${s}_qa:qa-\${TAG:?`,
    servicePorts: { 'main-backend': 4000, auth: 4001, notification: 4002 },
    gatewayPort: 8081,
  },
} as const;
const APP_SERVICES = ['auth', 'main-backend', 'notification'] as const;
const DATABASE_VARIABLE = { auth: 'AUTH_DATABASE_URL', 'main-backend': 'MAIN_DATABASE_URL', notification: 'NOTIFICATION_DATABASE_URL' } as const;
/** Each service's own broker URL in a partition (`DEV_MAIN_RABBITMQ_URL`), named like its database variable. */
const BROKER_VARIABLE = { auth: 'AUTH_RABBITMQ_URL', 'main-backend': 'MAIN_RABBITMQ_URL', notification: 'NOTIFICATION_RABBITMQ_URL' } as const;

function load(env: 'dev' | 'qa'): ComposeFile {
  const text = readFileSync(join(REPO_ROOT, `docker-compose.${env}.yml`), 'utf8');
  return parse(text, { merge: true }) as ComposeFile;
}

/** The host port of a mapping, with a `${VAR:-default}` replaced by its default. */
function hostPort(mapping: string): number {
  const resolved = mapping.replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1');
  const parts = resolved.split(':');
  return Number(parts[parts.length - 2]);
}

for (const env of ['dev', 'qa'] as const) {
  const p = PARTITIONS[env];
  const other = env === 'dev' ? 'qa' : 'dev';

  describe(`docker-compose.${env}.yml`, () => {
    const compose = load(env);
    const services = compose.services;

    it(`When read, then it is the project warren-${env} with the partition's services and a gateway`, () => {
      assert.equal(compose.name, `warren-${env}`, 'its own project: the two partitions never replace each other');
      const always = Object.keys(services).filter((s) => !services[s]?.profiles?.length);
      assert.deepEqual(always.sort(), [...APP_SERVICES.map((s) => s + p.suffix), 'gateway'].sort());
    });

    it(`When read, then each service runs the ${env} image tagged with TAG`, () => {
      for (const s of APP_SERVICES) {
        const image = services[s + p.suffix]?.image ?? '';
        assert.ok(image.startsWith(p.image(s)), `${s + p.suffix}: ${image}`);
      }
    });

    it('When read, then every service has a healthcheck and restarts unless stopped', () => {
      for (const [name, service] of Object.entries(services)) {
        assert.ok(service.healthcheck?.test?.length, `${name}: healthcheck`);
        assert.equal(service.restart, 'unless-stopped', `${name}: restart`);
      }
      for (const s of APP_SERVICES) {
        assert.deepEqual(services[s + p.suffix]?.healthcheck?.test, ['CMD', 'node', '--conditions=warren-dist', '/app/deploy/healthcheck.mjs']);
      }
    });

    it('When read, then every container, the infrastructure included, caps its log at 3 files of 10 MB', () => {
      for (const [name, service] of Object.entries(load(env).services)) {
        assert.equal(service.logging?.driver, 'json-file', `${name}: log driver`);
        assert.equal(service.logging?.options?.['max-size'], '10m', `${name}: max-size`);
        assert.equal(service.logging?.options?.['max-file'], '3', `${name}: max-file`);
      }
    });

    it('When read, then every dependency exists and waits for health; local infrastructure is optional', () => {
      for (const [name, service] of Object.entries(services)) {
        for (const [dep, spec] of Object.entries(service.depends_on ?? {})) {
          assert.ok(services[dep], `${name} depends on ${dep}, which exists`);
          assert.equal(spec.condition, 'service_healthy', `${name} → ${dep}`);
          const local = services[dep]?.profiles?.includes('local') ?? false;
          assert.equal(spec.required === false, local, `${name} → ${dep}: required unless in the local profile`);
        }
      }
      assert.deepEqual(Object.keys(services.gateway?.depends_on ?? {}).sort(), [`main-backend${p.suffix}`, `notification${p.suffix}`]);
    });

    it(`When read, then the environment keeps ${env} apart: APP_ENV, broker namespace, databases named for ${env}`, () => {
      for (const s of APP_SERVICES) {
        const environment = services[s + p.suffix]?.environment ?? {};
        assert.equal(environment.APP_ENV, env);
        assert.equal(environment.BROKER_NAMESPACE, `warren.${env}`);
        // Its own broker user if the partition names one, else the shared URL (docs/operations.md, "Broker users").
        assert.match(environment.RABBITMQ_URL ?? '', new RegExp(`^\\$\\{${env.toUpperCase()}_${BROKER_VARIABLE[s]}:-\\$\\{RABBITMQ_URL:-amqp://[^}]+\\}\\}$`), `${s}: ${environment.RABBITMQ_URL}`);
        const db = environment[DATABASE_VARIABLE[s]] ?? '';
        assert.match(db, new RegExp(`^\\$\\{${env.toUpperCase()}_${DATABASE_VARIABLE[s]}:-\\$\\{POSTGRES_URL:-postgres://[^}]+\\}/warren_${s.replace('-', '_')}_${env}\\}$`), `${s}: ${db}`);
        for (const value of Object.values(environment)) {
          assert.doesNotMatch(String(value), new RegExp(`_${other}\\b|warren\\.${other}\\b|\\$\\{${other.toUpperCase()}_`), `${s}: nothing of ${other}`);
        }
      }
      assert.match(services[`main-backend${p.suffix}`]?.environment?.TRUST_PROXY ?? '', /:-1\}$/);
      assert.match(services[`notification${p.suffix}`]?.environment?.TRUST_PROXY ?? '', /:-1\}$/, 'notification: the /ws client address comes from the gateway');
      assert.ok(services[`notification${p.suffix}`]?.environment?.SMTP_URL, 'SMTP_URL: required in production');
      // The images run NODE_ENV=production, where auth refuses to start without a key: compose
      // stops early with the variable's name instead of handing it an empty one.
      assert.match(
        services[`auth${p.suffix}`]?.environment?.AUTH_KEY_ENCRYPTION_KEY ?? '',
        new RegExp(`^\\$\\{${env.toUpperCase()}_AUTH_KEY_ENCRYPTION_KEY:\\?[^}]+\\}$`),
        'AUTH_KEY_ENCRYPTION_KEY: required, never defaulted to empty',
      );
    });

    it(`When read, then the services are published on 127.0.0.1:${p.servicePorts['main-backend']}-${p.servicePorts.notification} and the gateway on ${p.gatewayPort}`, () => {
      for (const s of APP_SERVICES) {
        assert.deepEqual(services[s + p.suffix]?.ports, [`127.0.0.1:${p.servicePorts[s]}:8080`]);
      }
      assert.deepEqual(services.gateway?.ports?.map(hostPort), [p.gatewayPort]);
    });

    it('When the gateway config is read, then its upstreams are this file\u2019s main-backend and notification on their container port', () => {
      const volume = services.gateway?.volumes?.[0] ?? '';
      assert.equal(volume, `./deploy/nginx/${env}.conf:/etc/nginx/conf.d/default.conf:ro`);
      const conf = readFileSync(join(REPO_ROOT, 'deploy/nginx', `${env}.conf`), 'utf8');
      const hosts = Object.fromEntries([...conf.matchAll(/set \$(\w+) http:\/\/([\w.-]+):(\d+);/g)].map((m) => [m[1], { host: m[2], port: m[3] }]));
      const names = (service: string) => [service, ...(services[service]?.networks?.default?.aliases ?? [])];
      assert.ok(names(`main-backend${p.suffix}`).includes(hosts.main_backend?.host ?? ''), 'main-backend upstream resolves');
      assert.ok(names(`notification${p.suffix}`).includes(hosts.notification?.host ?? ''), 'notification upstream resolves');
      assert.equal(hosts.main_backend?.port, '8080');
      assert.equal(hosts.notification?.port, '8080');
      // What each path reaches, with which headers, is tested on a real nginx running this file
      // (test/e2e/gateway.test.ts); here: that its upstreams are this compose file's services.
      assert.match(conf, /proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;/);
      assert.match(conf, /proxy_http_version 1\.1;/);
    });

    it('When the gateway config is read, then the access log never holds a query (?token=)', () => {
      const conf = readFileSync(join(REPO_ROOT, 'deploy/nginx', `${env}.conf`), 'utf8');
      // Routing, /metrics in every spelling and body limits: test/e2e/gateway.test.ts, on a real nginx.
      const formats = Object.fromEntries([...conf.matchAll(/log_format (\w+)((?:\s+'[^']*')+);/g)].map((m) => [m[1], m[2] as string]));
      const used = [...conf.matchAll(/access_log \S+ (\w+);/g)].map((m) => m[1] as string);
      assert.ok(used.length > 0, 'the server names its access log format');
      for (const name of used) {
        const format = formats[name];
        assert.ok(format, `log_format ${name} is defined`);
        assert.match(format, /\$uri\b/);
        for (const leaky of ['$request ', '$request"', '$request_uri', '$args', '$query_string', '$arg_token', '$is_args']) {
          assert.ok(!format.includes(leaky), `log_format ${name} does not log ${leaky.trim()}`);
        }
      }
      assert.doesNotMatch(conf, /access_log [^;]*\b(main|combined)\s*;/, 'no stock format (they log $request)');
    });

    it('When the local profile is read, then it starts RabbitMQ, PostgreSQL and an SMTP catcher that the defaults point at', () => {
      const local = Object.keys(services).filter((s) => services[s]?.profiles?.includes('local'));
      assert.deepEqual(local.sort(), ['mailpit', 'postgres', 'rabbitmq']);
      const auth = services[`auth${p.suffix}`]?.environment ?? {};
      assert.match(auth.RABBITMQ_URL ?? '', /@rabbitmq:5672\}\}$/);
      assert.match(auth.AUTH_DATABASE_URL ?? '', /@postgres:5432\}/);
      assert.match(services[`notification${p.suffix}`]?.environment?.SMTP_URL ?? '', /smtp:\/\/mailpit:1025\}\}$/);
    });

    it('When docker compose is installed, then `docker compose config` accepts the file', (t) => {
      const version = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' });
      if (version.status !== 0) {
        t.skip('no `docker compose` on this machine: checked as YAML above');
        return;
      }
      const result = spawnSync('docker', ['compose', '-f', `docker-compose.${env}.yml`, 'config', '--quiet'], {
        cwd: REPO_ROOT,
        encoding: 'utf8',
        env: { ...process.env, TAG: '0123456789ab', [`${env.toUpperCase()}_AUTH_KEY_ENCRYPTION_KEY`]: Buffer.alloc(32, 1).toString('base64') },
      });
      assert.equal(result.status, 0, result.stderr);
    });
  });
}

describe('docker-compose partitions side by side', () => {
  it('When both run on one host, then no published host port is used twice', () => {
    const ports = (['dev', 'qa'] as const).flatMap((env) =>
      Object.values(load(env).services).flatMap((s: Service) => (s.ports ?? []).map(hostPort)),
    );
    assert.equal(new Set(ports).size, ports.length, `ports: ${ports.join(', ')}`);
  });
});

/** Is one of two paths (segments, `*` matching any one) inside the other, or equal? */
function nested(a: string, b: string): boolean {
  const x = a.split('/');
  const y = b.split('/');
  return x.slice(0, Math.min(x.length, y.length)).every((seg, i) => seg === '*' || y[i] === '*' || seg === y[i]);
}

describe('Dockerfile', () => {
  const dockerfile = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8');

  it('When read, then the runtime is slim, non-root, production, health-checked and runs node itself', () => {
    assert.match(dockerfile, /^ARG NODE_IMAGE=node:20-bookworm-slim$/m);
    assert.match(dockerfile, /^FROM \$\{NODE_IMAGE\} AS runtime$/m);
    assert.match(dockerfile, /^USER node$/m);
    assert.match(dockerfile, /NODE_ENV=production/);
    assert.match(dockerfile, /^EXPOSE 8080$/m);
    assert.match(dockerfile, /^HEALTHCHECK .*\n\s+CMD \["node", "--conditions=warren-dist", "\/app\/deploy\/healthcheck\.mjs"\]$/m);
    // Exec form (JSON), so node is PID 1 and gets SIGTERM; one CMD, on the last line.
    assert.match(dockerfile, /\nCMD \["node", "--conditions=warren-dist", "--enable-source-maps", "dist\/main\.js"\]\n$/);
    assert.equal(dockerfile.match(/^CMD /gm)?.length, 1);
    assert.match(dockerfile, /npm ci --omit=dev --workspace "services\/\$SERVICE" --include-workspace-root=false/);
  });

  it('When .dockerignore is read, then no exception has a wildcard (the classic builder would skip its folder) and each service is let in', () => {
    const exceptions = readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('!'));
    assert.deepEqual(exceptions.filter((e) => /[*?[]/.test(e)), []);
    for (const service of ['auth', 'main-backend', 'notification']) {
      for (const path of ['package.json', 'tsconfig.build.json', 'src']) {
        assert.ok(exceptions.includes(`!services/${service}/${path}`), `services/${service}/${path}`);
        assert.ok(existsSync(join(REPO_ROOT, 'services', service, path)), `services/${service}/${path} exists`);
      }
    }
  });

  it('When the build copies from the context, then .dockerignore lets each source through', () => {
    const allowed = readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('!'))
      .map((line) => line.slice(1));
    const sources = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => (m[1] ?? '').split(' '));
    assert.ok(sources.length >= 8, sources.join(' '));
    for (const source of sources) {
      const path = source.replace('${SERVICE}', '*').replace(/\/$/, '');
      assert.ok(allowed.some((a) => nested(a, path)), `COPY ${source}: allowed by .dockerignore`);
      if (!path.includes('*')) assert.ok(existsSync(join(REPO_ROOT, path)), `${path} exists`);
    }
  });
});
