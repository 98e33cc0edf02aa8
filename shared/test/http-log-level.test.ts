import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { requestLogLevel } from '@warren/shared/http-log-level';

describe('requestLogLevel', () => {
  it('When health checks and metrics scrapes succeed, then they are logged at debug', () => {
    for (const path of ['/healthz', '/readyz', '/metrics', '/healthz/', '/Metrics', '/readyz?probe=k8s']) {
      assert.equal(requestLogLevel(path, 200), 'debug', path);
    }
  });

  it('When a scrape answers 5xx (not ready), then it is logged at info', () => {
    assert.equal(requestLogLevel('/readyz', 503), 'info');
  });

  it('When any other path is requested, then it is logged at info whatever its status', () => {
    for (const [path, status] of [['/notifications', 202], ['/login', 401], ['/healthzz', 200], ['/metrics/x', 404], ['/', 404]] as const) {
      assert.equal(requestLogLevel(path, status), 'info', path);
    }
  });
});
