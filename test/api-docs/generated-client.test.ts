/**
 * What a newcomer does with /openapi.json: generate a typed client with a standard generator
 * (openapi-typescript's CLI, pointed at the running service's URL), write a few lines with
 * openapi-fetch, type-check them with tsc, and call POST /login and GET /auth/me with it.
 * The type check includes a call the document forbids (a login without a password), which must
 * not compile: generated types that accepted anything would fail this test.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ADMIN, startStack, type Stack } from '../support/stack.js';
import { REPO_ROOT } from '../scripts/fake-tools.js';

const CLIENT = `import createClient from 'openapi-fetch';
import type { paths } from './main-backend.js';

const [baseUrl, email, password] = process.argv.slice(2) as [string, string, string];
const client = createClient<paths>({ baseUrl });

const { data, response } = await client.POST('/login', { body: { email, password } });
if (!data) throw new Error(\`login failed: \${response.status}\`);
const token: string = data.accessToken;
const role: 'admin' | 'manager' | 'employee' = data.user.role;

const me = await client.GET('/auth/me', { headers: { Authorization: \`Bearer \${token}\` } });
const wrong = await client.POST('/login', { body: { email, password: 'not the password' } });
const code: string | undefined = wrong.error?.code;

console.log(JSON.stringify({ status: response.status, tokenType: data.tokenType, role, me: me.data?.user.email, wrongStatus: wrong.response.status, code }));

export function notCompiled() {
  // @ts-expect-error the document says a login needs a password
  return client.POST('/login', { body: { email } });
}
`;

/** Runs node with `args`, asynchronously: the stack under test runs in this very process and must keep answering. */
async function run(args: string[], cwd: string): Promise<string> {
  try {
    const { stdout } = await promisify(execFile)(process.execPath, args, { cwd, encoding: 'utf8', timeout: 120_000 });
    return stdout;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${args.join(' ')}: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

describe('a client generated from /openapi.json', { timeout: 180_000 }, () => {
  let stack: Stack;
  let dir: string;

  before(async () => {
    stack = await startStack();
    // Inside the repository's node_modules, so that the client resolves openapi-fetch, tsx and the Node types from it.
    mkdirSync(join(REPO_ROOT, 'node_modules', '.cache'), { recursive: true });
    dir = mkdtempSync(join(REPO_ROOT, 'node_modules', '.cache', 'warren-client-'));
  });

  after(async () => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    await stack?.stop();
  });

  it('When openapi-typescript generates types from the served document, then a type-checked openapi-fetch client logs in with them', async () => {
    // Arrange: generate, write the client, type-check it.
    await run([join(REPO_ROOT, 'node_modules/openapi-typescript/bin/cli.js'), `${stack.mainUrl}/openapi.json`, '-o', join(dir, 'main-backend.ts')], dir);
    writeFileSync(join(dir, 'client.ts'), CLIENT);
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n');
    await run(
      [
        join(REPO_ROOT, 'node_modules/typescript/bin/tsc'),
        '--noEmit',
        '--strict',
        '--target',
        'es2022',
        '--module',
        'nodenext',
        '--moduleResolution',
        'nodenext',
        '--types',
        'node',
        'client.ts',
      ],
      dir,
    );

    // Act
    const out = await run(['--import', 'tsx', 'client.ts', stack.mainUrl, ADMIN.email, ADMIN.password], dir);

    // Assert
    assert.deepEqual(JSON.parse(out), { status: 200, tokenType: 'Bearer', role: 'admin', me: ADMIN.email, wrongStatus: 401, code: 'invalid_credentials' });
  });
});
