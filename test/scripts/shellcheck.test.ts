/**
 * Every shell script in scripts/ and test/images/ is shellcheck-clean (warnings included). shellcheck comes
 * from Debian's packages; `npm test` installs it first (pretest: scripts/ensure-system-tools.sh).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from './fake-tools.js';

const scripts = readdirSync(join(REPO_ROOT, 'scripts'))
  .filter((name) => name.endsWith('.sh'))
  .map((name) => join('scripts', name));
/** Test helpers in shell: linted too, but not user-facing commands (no --help). */
const testScripts = readdirSync(join(REPO_ROOT, 'test', 'images'))
  .filter((name) => name.endsWith('.sh'))
  .map((name) => join('test', 'images', name));

describe('shell scripts', () => {
  it('When shellcheck reads every scripts/*.sh and test/images/*.sh, then it finds nothing', () => {
    assert.ok(scripts.length >= 4, `scripts found: ${scripts.join(', ')}`);
    assert.ok(testScripts.length >= 1, `test scripts found: ${testScripts.join(', ')}`);
    const result = spawnSync('shellcheck', ['--severity=style', '--shell=bash', ...scripts, ...testScripts], { cwd: REPO_ROOT, encoding: 'utf8' });
    if (result.error && (result.error as NodeJS.ErrnoException).code === 'ENOENT') {
      assert.fail('shellcheck is not installed: run `bash scripts/ensure-system-tools.sh` (as root) or `apt-get install shellcheck`');
    }
    assert.equal(result.status, 0, `shellcheck found problems:\n${result.stdout}${result.stderr}`);
  });

  it('When a script starts, then it is bash with set -euo pipefail and has --help', () => {
    for (const script of scripts) {
      const text = readFileSync(join(REPO_ROOT, script), 'utf8');
      assert.match(text, /^#!\/usr\/bin\/env bash\n/, `${script}: bash shebang`);
      assert.match(text, /^set -euo pipefail$/m, `${script}: set -euo pipefail`);
      assert.match(text, /--help/, `${script}: --help`);
    }
  });
});
