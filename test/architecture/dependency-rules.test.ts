/**
 * The dependency rules of .dependency-cruiser.cjs (docs/decisions/0015) hold on the real tree,
 * and bite: in a copy of the tree with one planted violation per rule, `npm run deps:check` (the
 * same command `npm test` runs) fails and names each rule and file, and nothing else. The copy
 * holds only what the checker reads (sources, package and TypeScript manifests) with
 * node_modules linked in, so a violation can never be left behind in the working tree.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SERVICES = ['auth', 'main-backend', 'notification'];

interface Violation {
  rule: string;
  from: string;
  to: string;
}

/** Runs `npm run deps:check` in `cwd`: its exit status and the violations it prints. */
function depsCheck(cwd: string): { status: number | null; violations: Violation[]; output: string } {
  const run = spawnSync('npm', ['run', '--silent', 'deps:check'], { cwd, encoding: 'utf8' });
  // What a developer reads: "  error <rule>: <from> → <to>", then the rule's comment.
  const violations = [...run.stdout.matchAll(/^ *error (\S+): (\S+) →\s*(\S+)/gm)].map(([, rule, from, to]) => ({
    rule: rule as string,
    from: from as string,
    to: to as string,
  }));
  return { status: run.status, violations, output: `${run.stdout}\n${run.stderr}` };
}

/** A copy of what the checker reads, with node_modules linked so packages resolve as in the repo. */
function copyTree(): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'warren-deps-')));
  for (const file of ['.dependency-cruiser.cjs', 'package.json', 'tsconfig.json', 'tsconfig.base.json']) {
    cpSync(join(ROOT, file), join(dir, file));
  }
  for (const pkg of ['shared', 'packages/client', ...SERVICES.map((s) => `services/${s}`)]) {
    cpSync(join(ROOT, pkg, 'package.json'), join(dir, pkg, 'package.json'));
    cpSync(join(ROOT, pkg, 'src'), join(dir, pkg, 'src'), { recursive: true });
  }
  mkdirSync(join(dir, 'node_modules', '@warren'), { recursive: true });
  for (const name of readdirSync(join(ROOT, 'node_modules'))) {
    if (name !== '@warren') symlinkSync(join(ROOT, 'node_modules', name), join(dir, 'node_modules', name));
  }
  // The workspace links point into the copy, as npm's point into the repo.
  symlinkSync('../../shared', join(dir, 'node_modules/@warren/shared'));
  symlinkSync('../../packages/client', join(dir, 'node_modules/@warren/client'));
  for (const s of SERVICES) symlinkSync(`../../services/${s}`, join(dir, `node_modules/@warren/${s}`));
  return dir;
}

function plant(dir: string, file: string, source: string): void {
  mkdirSync(dirname(join(dir, file)), { recursive: true });
  writeFileSync(join(dir, file), source);
}

describe('the dependency rules', () => {
  it('When the real tree is checked, then it passes', () => {
    // Act
    const result = depsCheck(ROOT);

    // Assert
    assert.deepEqual(result.violations, []);
    assert.equal(result.status, 0, result.output);
  });

  describe('When each rule is broken once in a copy of the tree', () => {
    let dir: string;
    let result: ReturnType<typeof depsCheck>;
    /** Each breach: the rule it breaks and the files that break it (a cycle takes two). */
    const breaches: { rule: string; files: Record<string, string> }[] = [
      {
        rule: 'domain-imports-only-ports',
        files: {
          'services/auth/src/domain/probe-repository.ts':
            "import type { UsersRepository } from '../db/users-repository.js';\nexport type Probe = UsersRepository;\n",
        },
      },
      {
        rule: 'domain-imports-only-ports',
        files: { 'services/notification/src/domain/probe-broker.ts': "import amqplib from 'amqplib';\nexport const probe = amqplib.connect;\n" },
      },
      {
        rule: 'domain-imports-only-ports',
        files: {
          'services/main-backend/src/domain/probe-kit.ts':
            "import type { Publisher } from '@warren/shared/messaging/publisher';\nexport type Probe = Publisher;\n",
        },
      },
      {
        rule: 'domain-imports-only-ports',
        files: { 'services/auth/src/domain/probe-socket.ts': "import { connect } from 'node:net';\nexport const probe = connect;\n" },
      },
      {
        rule: 'domain-logger-type-only',
        files: {
          'services/notification/src/domain/probe-logger.ts': "import { createLogger } from '@warren/shared/logger';\nexport const probe = createLogger;\n",
        },
      },
      {
        rule: 'kit-imports-no-contracts',
        files: {
          'shared/src/messaging/probe-system-map.ts':
            "import { topology } from '../contracts/topology.js';\nexport const probe = topology;\n",
        },
      },
      {
        rule: 'kit-imports-no-contracts',
        files: {
          'shared/src/http/probe-auth.ts': "import type { VerifiedAccessToken } from '../auth/access-token-verifier.js';\nexport type Probe = VerifiedAccessToken;\n",
        },
      },
      {
        rule: 'kit-imports-no-contracts',
        files: { 'shared/src/config-probe.ts': "import { ROUTING_KEYS } from './contracts/topology.js';\nexport const probe = ROUTING_KEYS;\n" },
      },
      {
        rule: 'no-cycles',
        files: {
          'shared/src/probe-cycle-a.ts': "import { b } from './probe-cycle-b.js';\nexport const a = () => b;\n",
          'shared/src/probe-cycle-b.ts': "import { a } from './probe-cycle-a.js';\nexport const b = () => a;\n",
        },
      },
      {
        rule: 'no-cross-service-imports',
        files: {
          'services/main-backend/src/http/probe-other-service.ts':
            "import { hashRefreshToken } from '../../../auth/src/domain/tokens.js';\nexport const probe = hashRefreshToken;\n",
        },
      },
      {
        rule: 'shared-imports-no-service',
        files: {
          'shared/src/probe-service.ts':
            "import { toPublicId } from '../../services/notification/src/domain/notification-id.js';\nexport const probe = toPublicId;\n",
        },
      },
      {
        rule: 'client-runtime-self-contained',
        files: { 'packages/client/src/probe-zod.ts': "import { z } from 'zod';\nexport const probe = z.string();\n" },
      },
      {
        rule: 'client-runtime-self-contained',
        files: {
          'packages/client/src/probe-contract.ts': "import { ROLES } from '@warren/shared/contracts/notifications';\nexport const probe = ROLES;\n",
        },
      },
      {
        rule: 'resolvable',
        files: { 'services/auth/src/messaging/probe-missing.ts': "import { nothing } from './no-such-file.js';\nexport const probe = nothing;\n" },
      },
    ];
    const breaks = (b: (typeof breaches)[number], v: Violation) => v.rule === b.rule && v.from in b.files;

    before(() => {
      dir = copyTree();
      for (const b of breaches) for (const [file, source] of Object.entries(b.files)) plant(dir, file, source);
      result = depsCheck(dir);
    });
    after(() => {
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('Then the check fails', () => {
      assert.notEqual(result.status, 0, result.output);
    });

    it('Then every breach is reported under the rule it breaks', () => {
      for (const b of breaches) {
        assert.ok(result.violations.some((v) => breaks(b, v)), `${b.rule} in ${Object.keys(b.files).join(', ')}\n${result.output}`);
      }
    });

    it('Then nothing else is reported', () => {
      const others = result.violations.filter((v) => !breaches.some((b) => breaks(b, v)));
      assert.deepEqual(others, [], result.output);
    });

    it('Then a domain import names what it reached for', () => {
      const to = (from: string) => result.violations.filter((v) => v.from === from).map((v) => v.to);
      assert.deepEqual(to('services/auth/src/domain/probe-repository.ts'), ['services/auth/src/db/users-repository.ts']);
      assert.match(to('services/notification/src/domain/probe-broker.ts').join(), /node_modules\/amqplib\//);
      assert.deepEqual(to('services/main-backend/src/domain/probe-kit.ts'), ['shared/src/messaging/publisher.ts']);
      assert.deepEqual(to('services/auth/src/domain/probe-socket.ts'), ['net']);
    });
  });
});
