/**
 * Named HTTP errors. Handlers and middlewares throw these; one middleware
 * (./middleware.ts) turns them into the API's JSON error shape, so status codes
 * are decided in exactly one place.
 */
import type { FieldError } from '../domain/execution';

export abstract class HttpError extends Error {
  abstract readonly statusCode: number;
  abstract readonly code: string;
  /** Extra members of the JSON body besides error and message. */
  readonly details: Record<string, unknown> = {};
  readonly headers: Record<string, string> = {};
}

export class InvalidJsonError extends HttpError {
  readonly statusCode = 400;
  readonly code = 'invalid_json';
}

/** A body that is not what its content type or content encoding says (gzip, protobuf). */
export class InvalidBodyError extends HttpError {
  readonly statusCode = 400;
  readonly code = 'invalid_body';
}

export class BatchTooLargeError extends HttpError {
  readonly statusCode = 400;
  readonly code = 'batch_too_large';
}

export class ValidationFailedError extends HttpError {
  readonly statusCode = 400;
  readonly code = 'validation_failed';
  constructor(message: string, rejected: unknown[]) {
    super(message);
    this.details.rejected = rejected;
  }
}

export class InvalidQueryError extends HttpError {
  readonly statusCode = 400;
  readonly code = 'invalid_query';
  constructor(issues: readonly FieldError[]) {
    super(issues.map((issue) => issue.message).join('; ') || 'invalid query');
    this.details.issues = issues;
  }
}

export class NotFoundError extends HttpError {
  readonly statusCode = 404;
  readonly code = 'not_found';
}

export class MethodNotAllowedError extends HttpError {
  readonly statusCode = 405;
  readonly code = 'method_not_allowed';
  /** @param allow the methods the resource does answer, for the `Allow` header (RFC 9110 requires it on a 405) */
  constructor(message: string, allow?: readonly string[]) {
    super(message);
    if (allow) this.headers.allow = allow.join(', ');
  }
}

export class PayloadTooLargeError extends HttpError {
  readonly statusCode = 413;
  readonly code = 'payload_too_large';
}

export class UnsupportedMediaTypeError extends HttpError {
  readonly statusCode = 415;
  readonly code = 'unsupported_media_type';
}

/** The store stayed throttled or unreachable through every retry; the client should retry later. */
export class ServiceUnavailableError extends HttpError {
  readonly statusCode = 503;
  readonly code = 'service_unavailable';
  constructor(message: string, retryAfterSeconds: number) {
    super(message);
    this.headers['retry-after'] = String(retryAfterSeconds);
  }
}
