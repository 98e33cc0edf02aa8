/**
 * The user lookup's guard against an auth outage: after a failed call, calls fail at once for a
 * few seconds (so batches behind do not each wait out the deadline), then one tries again.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RpcClient } from '@warren/shared/messaging/rpc-client';
import { UnavailableError } from '@warren/shared/messaging/failure-kind';
import { createUserLookup } from '../src/messaging/user-lookup.js';

function fakeRpc(answer: () => Promise<unknown>) {
  let calls = 0;
  const rpc = {
    call: async () => {
      calls++;
      return answer();
    },
  } as unknown as RpcClient;
  return { rpc, calls: () => calls };
}

describe('user lookup', () => {
  it('When auth fails to answer, then the next calls fail at once without asking, and one asks again after the pause', async () => {
    let now = 1_000_000;
    let authUp = false;
    const user = { userId: '7c9e6679-7425-40de-944b-e07fc1f90ae7', role: 'employee', version: 1 };
    const { rpc, calls } = fakeRpc(async () => {
      if (!authUp) throw new Error('upstream_timeout');
      return { users: [user] };
    });
    const lookup = createUserLookup(rpc, () => now);

    await assert.rejects(lookup([user.userId]), /upstream_timeout/);
    await assert.rejects(lookup([user.userId]), UnavailableError);
    assert.equal(calls(), 1, 'paused: auth was not asked again');

    authUp = true;
    now += 3_001;
    assert.deepEqual(await lookup([user.userId]), [user]);
    assert.equal(calls(), 2);
  });
});
