import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AppError } from '@warren/shared/errors';
import { PROBLEM_CONTENT_TYPE, toAppError, toProblem } from '@warren/shared/http/problem';

describe('toAppError / toProblem', () => {
  it('When given an AppError, then it passes through unchanged with its code', () => {
    // Arrange
    const original = AppError.notFound('user_not_found', 'No such user.');

    // Act
    const appError = toAppError(original);
    const problem = toProblem(appError, '/users/1');

    // Assert
    assert.equal(appError, original);
    assert.deepEqual(problem, {
      type: 'https://warren.dev/problems/user_not_found',
      title: 'Not Found',
      status: 404,
      detail: 'No such user.',
      code: 'user_not_found',
      instance: '/users/1',
    });
  });

  it('When an AppError has field errors, then the problem lists them', () => {
    // Arrange
    const errors = [{ path: 'email', message: 'Invalid email' }];

    // Act
    const problem = toProblem(AppError.validation(errors));

    // Assert
    assert.equal(problem.status, 400);
    assert.equal(problem.code, 'validation_failed');
    assert.deepEqual(problem.errors, errors);
    assert.equal('instance' in problem, false);
  });

  it('When express.json reports unparseable JSON, then it becomes 400 malformed_json', () => {
    // Arrange
    const err = Object.assign(new SyntaxError('Unexpected token } in JSON at position 7'), {
      status: 400,
      statusCode: 400,
      type: 'entity.parse.failed',
    });

    // Act
    const appError = toAppError(err);

    // Assert
    assert.equal(appError.status, 400);
    assert.equal(appError.code, 'malformed_json');
    assert.doesNotMatch(toProblem(appError).detail, /position 7/);
  });

  it('When express.json reports a body over the limit, then it becomes 413 payload_too_large', () => {
    // Arrange
    const err = { status: 413, statusCode: 413, type: 'entity.too.large' };

    // Act
    const appError = toAppError(err);

    // Assert
    assert.equal(appError.status, 413);
    assert.equal(appError.code, 'payload_too_large');
  });

  it('When an http-error carries only statusCode 4xx, then it becomes a generic client error with that status', () => {
    // Arrange
    const err = { statusCode: 405, type: 'something.else' };

    // Act
    const appError = toAppError(err);

    // Assert
    assert.equal(appError.status, 405);
    assert.equal(appError.code, 'bad_request');
  });

  it('When given a plain Error, then it becomes 500 internal_error without the original message', () => {
    // Arrange
    const err = new Error('relation "users" does not exist at db-7.internal');

    // Act
    const problem = toProblem(toAppError(err));

    // Assert
    assert.equal(problem.status, 500);
    assert.equal(problem.code, 'internal_error');
    assert.ok(!problem.detail.includes('users'), 'detail must not leak the original message');
    assert.ok(!JSON.stringify(problem).includes('db-7.internal'));
  });

  it('When given something that is not an error at all, then it is a 500 internal_error', () => {
    // Act
    const results = [toAppError(undefined), toAppError(null), toAppError('boom'), toAppError({ status: 302 })];

    // Assert
    for (const r of results) assert.equal(r.code, 'internal_error');
    assert.equal(PROBLEM_CONTENT_TYPE, 'application/problem+json');
  });
});
