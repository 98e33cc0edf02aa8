/** W3C traceparent handling: only the exact version-00 form is believed; everything else starts a new trace. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { childTraceparent, continueTrace, newTraceparent, parseTraceparent, traceIdOf } from '@warren/shared/trace-context';

const VALID = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const FORMAT = /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

describe('traceparent', () => {
  it('When a valid version-00 value arrives, then it is believed and continued under a new parent id', () => {
    assert.equal(parseTraceparent(VALID), VALID);
    const child = continueTrace(VALID);
    assert.match(child, FORMAT);
    assert.equal(traceIdOf(child), '4bf92f3577b34da6a3ce929d0e0e4736');
    assert.notEqual(child.slice(36, 52), '00f067aa0ba902b7');
    assert.equal(child.slice(52), '-01');
    assert.equal(childTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00').slice(52), '-00');
  });

  const hostile: [string, unknown][] = [
    ['too long', `${VALID}-${'a'.repeat(10_000)}`],
    ['one character more', `${VALID}0`],
    ['one character less', VALID.slice(0, -1)],
    ['bad hex', '00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01'],
    ['upper case hex', VALID.toUpperCase()],
    ['all-zero trace id', `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`],
    ['all-zero parent id', `00-4bf92f3577b34da6a3ce929d0e0e4736-${'0'.repeat(16)}-01`],
    ['version ff', `ff${VALID.slice(2)}`],
    ['another version', `01${VALID.slice(2)}`],
    ['a log-forging newline', `${VALID.slice(0, 54)}\n`],
    ['spaces instead of dashes', VALID.replaceAll('-', ' ')],
    ['an array (a repeated header)', [VALID, VALID]],
    ['a number', 42],
    ['nothing', undefined],
  ];
  for (const [what, value] of hostile) {
    it(`When the value is ${what}, then it is ignored and a new trace starts`, () => {
      assert.equal(parseTraceparent(value), undefined);
      const started = continueTrace(value);
      assert.match(started, FORMAT);
      assert.notEqual(traceIdOf(started), '4bf92f3577b34da6a3ce929d0e0e4736');
      assert.ok(!String(value).includes(traceIdOf(started)));
    });
  }

  it('When new traces start, then their ids are random, sampled and never zero', () => {
    const ids = new Set(Array.from({ length: 100 }, () => newTraceparent()));
    assert.equal(ids.size, 100);
    for (const id of ids) assert.equal(parseTraceparent(id), id);
  });
});
