/**
 * JSON request bodies: only `application/json`, anything else is a 415 (besides clear errors,
 * this keeps HTML forms, which cannot send application/json cross-site without a CORS
 * preflight, from reaching any endpoint); at most `limit` bytes (413); within the edge's limits
 * (body-limits.ts); an empty body is no body (clients that always send the JSON header POST
 * /auth/logout that way), not malformed JSON. Requests without a body (every GET) cost two
 * header reads.
 *
 * Nearly every body arrives the same way: a declared Content-Length within the limit, no
 * Content-Encoding, UTF-8. Those are read here, in a few lines: on the single-send path
 * express.json (body-parser, raw-body, iconv-lite, content-type, on-finished) cost ~5 % of
 * main-backend's CPU per request for that work. Every other body (compressed, chunked,
 * declared over the limit, another charset) goes to express.json as before, which has the code
 * for those cases and answers them exactly as it always did (a declared length over the limit
 * is read off and then a 413; an unsupported charset or encoding a 415).
 */
import type { IncomingMessage } from 'node:http';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { AppError } from '../errors.js';
import { bodyLimitBytes, bodyLimitError } from './body-limits.js';

const rawBody = Symbol('warren.http.rawBody');
type RawRequest = IncomingMessage & { [rawBody]?: Buffer; body?: unknown };

/** Called once the body is read (or was absent): `err` is what `next` would get. */
export type BodyDone = (err?: unknown) => void;

/** Reads the body of `req` into `req.body` and calls `done`: the middleware's work without Express's `next`. */
export type BodyReader = (req: Request, res: Response, done: BodyDone) => void;

/** As middleware (a route's own body, after its guards): the body's events run in another async context, so `next` is re-entered in the request's. */
export function jsonBody(limit: string | number, reenter: (req: Request, fn: () => void) => void = (_req, fn) => fn()): RequestHandler {
  const read = jsonBodyReader(limit);
  return (req: Request, res: Response, next: NextFunction) => read(req, res, (err) => reenter(req, () => next(err)));
}

export function jsonBodyReader(limit: string | number): BodyReader {
  const limitBytes = typeof limit === 'number' ? limit : bodyLimitBytes(limit);
  const parseJson = express.json({
    limit: limitBytes,
    // Any JSON value, as JSON.parse takes it; the route's schema says what shape it needs.
    strict: false,
    // The media type was checked before; the parser need not parse the header again.
    type: () => true,
    verify: (req: RawRequest, _res, buf) => void (req[rawBody] = buf),
  });
  return (req, res, done) => {
    if (!hasBody(req)) return done();
    const contentType = req.headers['content-type'];
    if (!isJson(contentType)) return done(unsupportedMediaType());
    const length = declaredLength(req, contentType as string, limitBytes);
    if (length < 0) {
      parseJson(req, res, (err?: unknown) => done(err ?? checkedBody(req)));
      return;
    }
    readPlain(req, length, done);
  };
}

/**
 * The common case: `length` bytes of UTF-8, Node's parser holding the request to that length.
 * A client that goes away mid-body gets no answer; its request ends with the stream's error.
 */
function readPlain(req: RawRequest, length: number, done: BodyDone): void {
  let first: Buffer | undefined;
  let chunks: Buffer[] | undefined;
  req.on('data', (chunk: Buffer) => {
    if (first === undefined) first = chunk;
    else (chunks ??= [first]).push(chunk);
  });
  req.on('error', (err) => done(Object.assign(err, { statusCode: 400, type: 'request.aborted' })));
  req.on('end', () => {
    const buf = chunks ? Buffer.concat(chunks) : first;
    if (buf === undefined || buf.length !== length) return done(Object.assign(new Error('request size did not match content length'), { statusCode: 400, type: 'request.size.invalid' }));
    // A UTF-8 byte order mark is allowed (iconv-lite, which express.json decodes with, drops it too).
    const text = buf.toString('utf8', hasBom(buf) ? 3 : 0);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return done(AppError.badRequest('malformed_json', 'The request body is not valid JSON.'));
    }
    req.body = body;
    done(bodyLimitError(text, body));
  });
}

/**
 * The declared length when this reader takes the body itself, or -1 for express.json: no
 * Content-Length (chunked), one over the limit, a Content-Encoding, or a charset other than UTF-8.
 */
function declaredLength(req: IncomingMessage, contentType: string, limit: number): number {
  const header = req.headers['content-length'];
  if (header === undefined || req.headers['content-encoding'] !== undefined) return -1;
  if (contentType !== 'application/json' && !UTF8_JSON.test(contentType)) return -1;
  // Node's parser accepts only digits here (anything else never reaches a handler).
  const length = Number(header);
  return length <= limit ? length : -1;
}

function hasBom(buf: Buffer): boolean {
  return buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf;
}

/** The edge's limits on a body express.json parsed (shared/src/http/body-limits.ts). */
function checkedBody(req: RawRequest): AppError | undefined {
  const raw = req[rawBody];
  if (!raw) return undefined;
  req[rawBody] = undefined;
  // latin1 is a byte-for-byte decode, cheaper than UTF-8: the checks look only at ASCII
  // (escapes and brackets), and no byte of a multi-byte UTF-8 character is ASCII.
  return bodyLimitError(raw.toString('latin1'), req.body);
}

function unsupportedMediaType(): AppError {
  return new AppError({
    status: 415,
    code: 'unsupported_media_type',
    title: 'Unsupported Media Type',
    detail: 'Send the body as application/json.',
  });
}

/** As Node's parser saw it: a declared length above zero, or a chunked body. */
export function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return length !== undefined ? length !== '0' : req.headers['transfer-encoding'] !== undefined;
}

const JSON_MEDIA_TYPE = /^application\/json\s*(?:;|$)/i;
/** `application/json`, bare or with charset UTF-8 only: the media types this reader decodes itself. */
const UTF8_JSON = /^application\/json\s*(?:;\s*charset=(?:utf-8|"utf-8")\s*)?$/i;

function isJson(contentType: string | undefined): boolean {
  return contentType !== undefined && (contentType === 'application/json' || JSON_MEDIA_TYPE.test(contentType));
}
