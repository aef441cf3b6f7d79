import type { IncomingMessage, ServerResponse } from 'node:http';
import { RingmasterError, type ErrorCode } from '../errors.js';

/** Codes of errors that only exist at the HTTP layer (the others are RingmasterError codes). */
export type HttpErrorCode = 'ERR_NOT_FOUND' | 'ERR_METHOD_NOT_ALLOWED' | 'ERR_UNAUTHORIZED' | 'ERR_FORBIDDEN' | 'ERR_BAD_REQUEST' | 'ERR_INTERNAL';

/** A refusal with its status, thrown by a route and turned into the JSON error body. */
export class HttpError extends Error {
  readonly status: number;
  readonly code: HttpErrorCode | ErrorCode;
  readonly headers: Record<string, string>;

  constructor(status: number, code: HttpErrorCode | ErrorCode, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
    this.code = code;
    this.headers = headers;
  }
}

/**
 * What a route answers: a JSON value, or text (or bytes) with its own
 * content type, each with optional extra headers; or a stream the route
 * writes itself (the dashboard's live feed).
 */
export type Reply =
  | { status: number; json: unknown; headers?: Record<string, string> }
  | { status: number; text: string | Buffer; contentType: string; headers?: Record<string, string> }
  | { status: number; stream: (req: IncomingMessage, res: ServerResponse) => void };

// A RingmasterError says what went wrong in terms an operator can act on, so
// it keeps its code and message; only the status needs choosing.
const STATUS_BY_CODE: Partial<Record<ErrorCode, number>> = {
  ERR_NO_SUCH_ACTOR: 404,
  ERR_INVALID_OPTION: 400,
  ERR_INVALID_TREE: 400,
  ERR_ACTOR_STOPPED: 409,
  ERR_ESCALATED: 409,
};

/**
 * The HTTP error for anything a route threw. Errors that are neither an
 * HttpError nor a RingmasterError are bugs or foreign failures whose text
 * may say more than a client should see; they become a bare 500 and `log`
 * gets the details.
 */
export function toHttpError(err: unknown, log: (err: unknown) => void): HttpError {
  if (err instanceof HttpError) return err;
  if (err instanceof RingmasterError) return new HttpError(STATUS_BY_CODE[err.code] ?? 500, err.code, err.message);
  log(err);
  return new HttpError(500, 'ERR_INTERNAL', 'internal error (details are in the system log)');
}

export function sendReply(res: ServerResponse, reply: Exclude<Reply, { stream: unknown }>, headers: Record<string, string> = {}): void {
  const body = 'json' in reply ? JSON.stringify(reply.json) : reply.text;
  res.writeHead(reply.status, {
    ...headers,
    'content-type': 'json' in reply ? 'application/json; charset=utf-8' : reply.contentType,
    'content-length': String(Buffer.byteLength(body)),
    'cache-control': 'no-store',
    ...reply.headers,
  });
  res.end(body);
}

export function sendError(res: ServerResponse, err: HttpError, headers: Record<string, string> = {}): void {
  sendReply(res, { status: err.status, json: { error: { code: err.code, message: err.message } } }, { ...headers, ...err.headers });
}
