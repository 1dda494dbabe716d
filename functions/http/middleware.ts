/**
 * The middy middlewares our HTTP handlers share: a strict JSON body reader and
 * the one place where errors become responses.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { metricNames } from '../domain/alarm-rule';
import type { MetricsEmitter } from '../store/metrics-emitter';
import {
  HttpError,
  InvalidJsonError,
  MethodNotAllowedError,
  PayloadTooLargeError,
  UnsupportedMediaTypeError,
} from './errors';
import { jsonResponse } from './response';

export type HttpEvent = APIGatewayProxyEventV2;
export type HttpResult = APIGatewayProxyStructuredResultV2;
/** An HTTP event whose JSON body has been read; `jsonBody` is `unknown` until validated. */
export type JsonEvent = HttpEvent & { jsonBody: unknown };

export const MAX_BODY_BYTES = 1024 * 1024;

/** Charsets whose bytes are UTF-8: JSON must be UTF-8 (RFC 8259 §8.1). */
const UTF8_CHARSETS = new Set(['utf-8', 'utf8', 'us-ascii']);

/** The media type and charset of a Content-Type header value, lower-cased. */
export function parseContentType(header: string): { mediaType: string; charset: string | undefined } {
  const [mediaType = '', ...parameters] = header.split(';');
  let charset: string | undefined;
  for (const parameter of parameters) {
    const [name = '', value = ''] = parameter.split('=');
    if (name.trim().toLowerCase() === 'charset')
      charset = value
        .trim()
        .replace(/^"(.*)"$/, '$1')
        .toLowerCase();
  }
  return { mediaType: mediaType.trim().toLowerCase(), charset };
}

/** 415 for a JSON body declared in another charset than UTF-8. */
export function refuseNonUtf8Charset(charset: string | undefined): void {
  if (charset !== undefined && !UTF8_CHARSETS.has(charset)) {
    throw new UnsupportedMediaTypeError(
      `content-type charset must be utf-8, got ${JSON.stringify(charset.slice(0, 40))}`,
    );
  }
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/**
 * Reads the body as JSON, in the order a client can fix things: media type
 * (415), size (413), encoding and syntax (400). Sizes are counted in bytes of
 * the decoded body, as the client sent them. A leading byte-order mark is
 * dropped (RFC 8259 lets parsers ignore it); bytes that are not UTF-8 are an
 * error rather than silently replaced.
 */
export function jsonBody<TEvent extends HttpEvent = JsonEvent>({
  maxBytes = MAX_BODY_BYTES,
}: {
  maxBytes?: number;
} = {}): MiddlewareObj<TEvent, HttpResult> {
  return {
    before: async (request) => {
      const event = request.event as unknown as JsonEvent;
      const { mediaType, charset } = parseContentType(event.headers?.['content-type'] ?? '');
      if (mediaType !== 'application/json' && !/^application\/[a-z0-9.+-]+\+json$/.test(mediaType)) {
        throw new UnsupportedMediaTypeError(
          `content-type must be application/json, got ${mediaType ? JSON.stringify(mediaType.slice(0, 100)) : 'none'}`,
        );
      }
      refuseNonUtf8Charset(charset);
      const raw = event.body ?? '';
      const bytes = event.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
      if (bytes.byteLength > maxBytes) {
        throw new PayloadTooLargeError(
          `body is ${bytes.byteLength} bytes; the limit is ${maxBytes} bytes (1 MiB)`,
        );
      }
      event.jsonBody = parseJsonBytes(bytes, 'a JSON execution object');
    },
  };
}

/** Strict UTF-8, then JSON; each failure is a 400 `invalid_json` saying which. */
export function parseJsonBytes(bytes: Uint8Array, expected: string): unknown {
  let text: string;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    throw new InvalidJsonError('body is not valid UTF-8');
  }
  if (text.trim() === '') throw new InvalidJsonError(`body is empty; expected ${expected}`);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new InvalidJsonError(`body is not valid JSON: ${(error as Error).message.slice(0, 200)}`);
  }
}

/** Answers 405 with an `Allow` header to any method but the given ones, before the body is read. */
export function allowMethods<TEvent extends HttpEvent>(
  methods: readonly string[],
): MiddlewareObj<TEvent, HttpResult> {
  return {
    before: async (request) => {
      const method = request.event.requestContext.http.method;
      if (!methods.includes(method)) {
        throw new MethodNotAllowedError(
          `${method.slice(0, 20)} is not allowed on ${request.event.rawPath.slice(0, 200)}; use ${methods.join(' or ')}`,
          methods,
        );
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

/**
 * Counts every 5xx this handler answers itself (`ServerErrorResponses` by
 * `Function`): such an answer is a successful invocation for Lambda, so its
 * Errors metric never sees it. Register it before httpErrors, so that its
 * onError runs after the error has become a response.
 */
export function countServerErrors<TEvent extends HttpEvent = HttpEvent>(
  metrics: Pick<MetricsEmitter, 'emit'>,
  functionName: 'ingest' | 'query',
): MiddlewareObj<TEvent, HttpResult> {
  const count = async (request: { response: HttpResult | null | undefined }) => {
    if ((request.response?.statusCode ?? 0) < 500) return;
    metrics.emit([
      {
        dimensions: { [metricNames.functionDimension]: functionName },
        samples: [{ name: metricNames.serverErrors, unit: 'Count', value: 1 }],
      },
    ]);
  };
  return { after: count, onError: count };
}
