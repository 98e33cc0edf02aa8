/**
 * @warren/client: a typed client of Warren's public API for browsers and Node 20.
 * See packages/client/README.md; the browser bundle of this module is dist/warren-client.js.
 */
export { createWarrenClient } from './client.js';
export { WarrenProblem, type FieldError } from './problem.js';
export type * from './types.js';
