import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PeriodicJob } from '@warren/shared/periodic-job';
import { captureLogs } from '../../test/support/logs.js';
import { deferred, waitFor } from './helpers.js';

describe('PeriodicJob', () => {
  it('When a round is slow, then the next never starts before it ends, and a runNow meanwhile joins it', async () => {
    // Arrange: every round blocks until released
    const { logger } = captureLogs();
    let active = 0;
    let maxActive = 0;
    let rounds = 0;
    let release = deferred();
    const job = new PeriodicJob({
      name: 'slow job',
      everyMs: 1,
      firstRunInMs: 0,
      logger,
      run: async () => {
        rounds++;
        maxActive = Math.max(maxActive, ++active);
        await release.promise;
        active--;
      },
    }).start();

    // Act: a round is under way; ask for more while it runs
    await waitFor(() => rounds === 1, 'the first round');
    const joined = [job.runNow(), job.runNow()];
    release.resolve();
    await Promise.all(joined);
    release = deferred();
    release.resolve();
    await waitFor(() => rounds >= 5, 'more rounds');
    await job.stop();

    // Assert
    assert.equal(maxActive, 1, 'never two rounds at once');
  });

  it('When a round fails, then it is logged under the job name and the job goes on', async () => {
    // Arrange
    const { logger, lines } = captureLogs();
    let rounds = 0;
    const job = new PeriodicJob({
      name: 'flaky job',
      everyMs: 1,
      firstRunInMs: 0,
      logger,
      run: async () => {
        if (++rounds === 1) throw new Error('boom');
      },
    }).start();

    // Act
    await waitFor(() => rounds >= 3, 'rounds after the failure');
    await job.stop();

    // Assert
    const failed = lines.filter((l) => l.message === 'flaky job failed');
    assert.equal(failed.length, 1);
    assert.equal(failed[0]?.err, 'boom');
    assert.equal(failed[0]?.level, 'warn');
  });

  it('When stopped during a round, then stop() waits for it, the round sees the abort, and no round follows', async () => {
    // Arrange
    const { logger } = captureLogs();
    const inRound = deferred();
    const finish = deferred();
    let rounds = 0;
    let sawAbort = false;
    const job = new PeriodicJob({
      name: 'stopping job',
      everyMs: 1,
      firstRunInMs: 0,
      logger,
      run: async (signal) => {
        rounds++;
        inRound.resolve();
        await finish.promise;
        sawAbort = signal.aborted;
      },
    }).start();
    await inRound.promise;

    // Act
    let stopped = false;
    const stopping = job.stop().then(() => (stopped = true));
    await new Promise((r) => setImmediate(r));
    assert.equal(stopped, false, 'stop() waits for the round under way');
    finish.resolve();
    await stopping;

    // Assert: no new round even after several periods
    const after = rounds;
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(rounds, after);
    assert.equal(sawAbort, true);
  });
});
