/** singleFlight: one run at a time, shared by everyone who asks meanwhile. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { singleFlight } from '../src/single-flight.js';

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('singleFlight', () => {
  it('When called many times while a run is in flight, then fn runs once and everyone gets its result', async () => {
    let runs = 0;
    const gate = deferred<string>();
    const once = singleFlight(() => {
      runs++;
      return gate.promise;
    });
    const all = Promise.all([once(), once(), once()]);
    gate.resolve('token');
    assert.deepEqual(await all, ['token', 'token', 'token']);
    assert.equal(runs, 1);
  });

  it('When the run has settled, then the next call starts a new run', async () => {
    let runs = 0;
    const once = singleFlight(async () => ++runs);
    assert.equal(await once(), 1);
    assert.equal(await once(), 2);
  });

  it('When the run fails, then every waiting caller gets the failure and the next call tries again', async () => {
    let runs = 0;
    const once = singleFlight(async () => {
      runs++;
      if (runs === 1) throw new Error('refused');
      return 'ok';
    });
    const results = await Promise.allSettled([once(), once()]);
    assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected']);
    assert.equal(await once(), 'ok');
    assert.equal(runs, 2);
  });

  it('When fn throws synchronously, then the call rejects (never throws) and the next call tries again', async () => {
    let runs = 0;
    const once = singleFlight((): Promise<void> => {
      runs++;
      if (runs === 1) throw new Error('sync');
      return Promise.resolve();
    });
    await assert.rejects(once(), /sync/);
    await once();
    assert.equal(runs, 2);
  });
});
