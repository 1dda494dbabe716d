/**
 * The middy middlewares our HTTP handlers share: a strict JSON body reader and
 * the one place where errors become responses.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { HttpError, InvalidJsonError, PayloadTooLargeError, UnsupportedMediaTypeError } from './errors';
import { jsonResponse } from './response';

export type HttpEvent = APIGatewayProxyEventV2;
export type HttpResult = APIGatewayProxyStructuredResultV2;
/** An HTTP event whose JSON body has been read; `jsonBody` is `unknown` until validated. */
export type JsonEvent = HttpEvent & { jsonBody: unknown };

export const MAX_BODY_BYTES = 1024 * 1024;

/**
 * Reads the body as JSON, in the order a client can fix things: media type
 * (415), size (413), syntax (400). Sizes are counted in bytes of the decoded
 * body, as the client sent them.
 */
export function jsonBody({
  maxBytes = MAX_BODY_BYTES,
}: {
  maxBytes?: number;
} = {}): MiddlewareObj<JsonEvent, HttpResult> {
  return {
    before: async (request) => {
      const event = request.event;
      const contentType = event.headers?.['content-type'] ?? '';
      const mediaType = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
      if (mediaType !== 'application/json' && !/^application\/[a-z0-9.+-]+\+json$/.test(mediaType)) {
        throw new UnsupportedMediaTypeError(
          `content-type must be application/json, got ${mediaType ? `"${mediaType.slice(0, 100)}"` : 'none'}`,
        );
      }
      const raw = event.body ?? '';
      const bytes = event.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
      if (bytes.byteLength > maxBytes) {
        throw new PayloadTooLargeError(
          `body is ${bytes.byteLength} bytes; the limit is ${maxBytes} bytes (1 MiB)`,
        );
      }
      const text = bytes.toString('utf8');
      if (text.trim() === '') throw new InvalidJsonError('body is empty; expected a JSON execution object');
      try {
        event.jsonBody = JSON.parse(text);
      } catch (error) {
        throw new InvalidJsonError(`body is not valid JSON: ${(error as Error).message}`);
      }
    },
  };
}

/**
 * Maps named HttpErrors to their JSON responses. Anything else is a bug: it is
 * logged with its stack and answered with a generic 500 that leaks nothing.
 */
export function httpErrors<TEvent extends HttpEvent = HttpEvent>(
  logger: Logger,
): MiddlewareObj<TEvent, HttpResult> {
  return {
    onError: async (request) => {
      const error = request.error;
      if (error instanceof HttpError) {
        if (error.statusCode >= 500)
          logger.warn('request failed', { error: error.code, message: error.message });
        request.response = jsonResponse(
          error.statusCode,
          { error: error.code, message: error.message, ...error.details },
          error.headers,
        );
        return;
      }
      logger.error('unhandled error', error as Error);
      request.response = jsonResponse(500, {
        error: 'internal_error',
        message: 'internal error; see the logs',
      });
    },
  };
}
