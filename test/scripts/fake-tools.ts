/**
 * What the delivery scripts' tests run them against: a temporary git repository holding a
 * copy of the real scripts (so markers and history can be changed freely), and recording
 * stand-ins for `docker`, `aws` and `curl` first on PATH (this machine has no Docker engine,
 * and nothing may reach a real bucket). Each stand-in appends one line per call to a log:
 * start and end time (ms), exit status, TAG from its environment, then its arguments.
 */
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = join(fileURLToPath(import.meta.url), '..', '..', '..');
export const SERVICES = ['auth', 'main-backend', 'notification'] as const;

const SEP = '\x1f';

/**
 * One stand-in. FAKE_DOCKER_FAIL=<service> makes `docker build … SERVICE=<service> …` fail;
 * FAKE_BUILD_SECONDS is how long a build takes; `docker compose … ps` prints $FAKE_COMPOSE_PS.
 * `docker version` fails as without a daemon when FAKE_DOCKER_DAEMON=down; `docker compose
 * version --short` prints $FAKE_COMPOSE_VERSION (default 2.29.7), or fails when it is "none".
 */
const FAKE = `#!/usr/bin/env bash
start=$(date +%s%3N)
status=0
tool=$(basename "$0")
if [[ $tool == docker && \${1:-} == build ]]; then
  sleep "\${FAKE_BUILD_SECONDS:-0.4}"
  for arg in "$@"; do
    if [[ -n \${FAKE_DOCKER_FAIL:-} && $arg == "SERVICE=$FAKE_DOCKER_FAIL" ]]; then
      echo "fake docker: build of $FAKE_DOCKER_FAIL failed" >&2
      status=1
    fi
  done
  echo "fake docker: built"
fi
if [[ $tool == docker && \${1:-} == version && \${FAKE_DOCKER_DAEMON:-} == down ]]; then
  echo "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?" >&2
  status=1
fi
if [[ $tool == docker && \${1:-} == compose && \${2:-} == version ]]; then
  if [[ \${FAKE_COMPOSE_VERSION:-} == none ]]; then
    echo "docker: 'compose' is not a docker command." >&2
    status=1
  else
    echo "\${FAKE_COMPOSE_VERSION:-2.29.7}"
  fi
fi
if [[ $tool == docker && \${1:-} == compose && " $* " == *" ps "* ]]; then
  printf '%s\\n' "\${FAKE_COMPOSE_PS:-}"
fi
end=$(date +%s%3N)
line="$start${SEP}$end${SEP}$status${SEP}\${TAG:-}"
for arg in "$@"; do line+="${SEP}$arg"; done
printf '%s\\n' "$line" >>"$FAKE_LOG_DIR/$tool.log"
exit "$status"
`;

export interface Call {
  start: number;
  end: number;
  status: number;
  tag: string;
  args: string[];
}

export interface Sandbox {
  /** the temporary repository */
  repo: string;
  bin: string;
  logs: string;
  /** calls of one stand-in since the last reset, in order of their end */
  calls(tool: 'docker' | 'aws' | 'curl'): Call[];
  resetCalls(): void;
  git(...args: string[]): string;
  /** write a file in the repository and commit it */
  commit(path: string, content: string, message?: string): string;
  run(script: string, args: string[], env?: Record<string, string>): Promise<RunResult>;
  cleanup(): void;
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A temporary repository shaped like this one, with the real scripts, committed. */
export function createSandbox(extraFiles: Record<string, string> = {}): Sandbox {
  const base = mkdtempSync(join(tmpdir(), 'warren-scripts-'));
  const repo = join(base, 'repo');
  const bin = join(base, 'bin');
  const logs = join(base, 'logs');
  for (const dir of [repo, bin, logs]) mkdirSync(dir, { recursive: true });

  for (const tool of ['docker', 'aws', 'curl']) {
    writeFileSync(join(bin, tool), FAKE);
    chmodSync(join(bin, tool), 0o755);
  }
  cpSync(join(REPO_ROOT, 'scripts'), join(repo, 'scripts'), { recursive: true });
  const files: Record<string, string> = {
    'package.json': '{"name":"warren","private":true}\n',
    'package-lock.json': '{}\n',
    'Dockerfile': 'FROM scratch\n',
    '.dockerignore': '*\n',
    'tsconfig.base.json': '{}\n',
    'README.md': '# sandbox\n',
    'deploy/healthcheck.mjs': '\n',
    'docker-compose.dev.yml': 'name: warren-dev\n',
    'docker-compose.qa.yml': 'name: warren-qa\n',
    '.gitignore': 'build-logs/\n.build-markers/\n',
    'shared/src/config.ts': 'export {};\n',
    ...Object.fromEntries(SERVICES.map((s) => [`services/${s}/src/main.ts`, 'export {};\n'])),
    ...extraFiles,
  };
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(repo, path)), { recursive: true });
    writeFileSync(join(repo, path), content);
  }

  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=test', '-c', 'user.email=test@warren.test', '-c', 'commit.gpgsign=false', ...args], {
      cwd: repo,
      encoding: 'utf8',
    }).trim();
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('commit', '-q', '-m', 'initial');

  const sandbox: Sandbox = {
    repo,
    bin,
    logs,
    calls(tool) {
      let text = '';
      try {
        text = readFileSync(join(logs, `${tool}.log`), 'utf8');
      } catch {
        return [];
      }
      return text
        .split('\n')
        .filter(Boolean)
        .map((line) => {
          const [start, end, status, tag, ...args] = line.split(SEP);
          return { start: Number(start), end: Number(end), status: Number(status), tag: tag ?? '', args };
        });
    },
    resetCalls() {
      rmSync(logs, { recursive: true, force: true });
      mkdirSync(logs, { recursive: true });
    },
    git,
    commit(path, content, message = `change ${path}`) {
      mkdirSync(dirname(join(repo, path)), { recursive: true });
      writeFileSync(join(repo, path), content);
      git('add', '-A');
      git('commit', '-q', '-m', message);
      return git('rev-parse', 'HEAD');
    },
    run(script, args, env = {}) {
      // Started from another folder on purpose: every script must find the repository itself.
      return new Promise((resolve, reject) => {
        const child = spawn('bash', [join(repo, 'scripts', script), ...args], {
          cwd: base,
          env: {
            PATH: `${bin}:${process.env.PATH ?? ''}`,
            HOME: process.env.HOME ?? base,
            FAKE_LOG_DIR: logs,
            ...env,
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d) => (stdout += d));
        child.stderr.on('data', (d) => (stderr += d));
        child.on('error', reject);
        child.on('close', (code) => resolve({ code, stdout, stderr }));
      });
    },
    cleanup() {
      rmSync(base, { recursive: true, force: true });
    },
  };
  return sandbox;
}
