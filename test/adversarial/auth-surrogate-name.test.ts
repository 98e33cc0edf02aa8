/**
 * Registration with a lone UTF-16 surrogate in the name ("Eve\ud800"): valid JSON, no control
 * character, so it passes the edge and auth's own checks; but the pending registration's payload
 * is jsonb, which refuses the escape JSON.stringify writes for it. Only a free address stores that
 * payload, so the answers differed by whether the address is taken (202 vs 500): the same
 * enumeration the U+0000 fix closed, through another character. Both must answer the same, 4xx.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { call } from '../support/http.js';
import { ADMIN, startStack, type Stack } from '../support/stack.js';

describe('Registration name with a lone surrogate', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(async () => {
    await stack?.stop();
  });

  it('when the name holds a lone surrogate, then a taken and a free address get the same answer, and no 5xx', async () => {
    const register = (email: string) =>
      call(`${stack.mainUrl}/auth/register`, { body: { email, password: 'a long enough passphrase 42', name: 'Eve\ud800' } });
    const taken = await register(ADMIN.email);
    const free = await register(`free-${randomUUID()}@warren.test`);
    assert.ok(free.status < 500, `free address: ${free.status} ${free.body?.code}`);
    assert.ok(taken.status < 500, `taken address: ${taken.status} ${taken.body?.code}`);
    assert.deepEqual({ status: free.status, code: free.body?.code }, { status: taken.status, code: taken.body?.code }, 'the answer tells a free address from a taken one');
  });
});
