/**
 * Reads the body of an OTLP/HTTP trace export: JSON or protobuf, plain or
 * gzip-compressed, under the same 1 MiB limit as every other body, counted
 * both as sent and once decompressed.
 */
import { gunzipSync } from 'node:zlib';
import type { MiddlewareObj } from '@middy/core';
import { decodeOtlpProtobufExport } from '../domain/otlp-protobuf';
import { InvalidBodyError, PayloadTooLargeError, UnsupportedMediaTypeError } from './errors';
import {
  type HttpEvent,
  type HttpResult,
  MAX_BODY_BYTES,
  parseContentType,
  parseJsonBytes,
  refuseNonUtf8Charset,
} from './middleware';

type OtlpEncoding = 'json' | 'protobuf';

/** An OTLP request whose body has been read: `jsonBody` is the export in its OTLP/JSON form. */
export type OtlpEvent = HttpEvent & { jsonBody: unknown; otlpEncoding: OtlpEncoding };

function encodingOf(mediaType: string): OtlpEncoding | undefined {
  if (mediaType === 'application/json') return 'json';
  if (mediaType === 'application/x-protobuf' || mediaType === 'application/protobuf') return 'protobuf';
  return undefined;
}

/**
 * gunzip, stopping at `maxBytes` of output: zlib refuses to produce more, so
 * a small body that inflates to gigabytes costs at most `maxBytes` of memory.
 */
function gunzipBounded(bytes: Buffer, maxBytes: number): Buffer {
  try {
    return gunzipSync(bytes, { maxOutputLength: maxBytes });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new PayloadTooLargeError(
        `the gzip body inflates to more than ${maxBytes} bytes; the limit is ${maxBytes} bytes (1 MiB) decompressed`,
      );
    }
    throw new InvalidBodyError(
      `body is not valid gzip (content-encoding: gzip): ${String((error as Error).message).slice(0, 100)}`,
    );
  }
}

/**
 * Checks in the order a client can fix them: media type and content
 * encoding (415), size as sent (413), decompression (400, or 413 past the
 * limit), then the encoding itself (400).
 */
export function otlpBody({
  maxBytes = MAX_BODY_BYTES,
}: {
  maxBytes?: number;
} = {}): MiddlewareObj<HttpEvent, HttpResult> {
  return {
    before: async (request) => {
      const event = request.event as OtlpEvent;
      const { mediaType, charset } = parseContentType(event.headers?.['content-type'] ?? '');
      const encoding = encodingOf(mediaType);
      if (encoding === undefined) {
        throw new UnsupportedMediaTypeError(
          `content-type must be application/json or application/x-protobuf, got ${
            mediaType ? JSON.stringify(mediaType.slice(0, 100)) : 'none'
          }`,
        );
      }
      if (encoding === 'json') refuseNonUtf8Charset(charset);
      const contentEncoding = (event.headers?.['content-encoding'] ?? '').trim().toLowerCase();
      if (contentEncoding !== '' && contentEncoding !== 'identity' && contentEncoding !== 'gzip') {
        throw new UnsupportedMediaTypeError(
          `content-encoding must be gzip or identity, got ${JSON.stringify(contentEncoding.slice(0, 40))}`,
        );
      }
      const raw = event.body ?? '';
      const sent = event.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
      if (sent.byteLength > maxBytes) {
        throw new PayloadTooLargeError(
          `body is ${sent.byteLength} bytes; the limit is ${maxBytes} bytes (1 MiB)`,
        );
      }
      const bytes = contentEncoding === 'gzip' ? gunzipBounded(sent, maxBytes) : sent;
      event.otlpEncoding = encoding;

      if (encoding === 'protobuf') {
        const decoded = decodeOtlpProtobufExport(bytes);
        if (!decoded.ok) throw new InvalidBodyError(decoded.message);
        event.jsonBody = decoded.body;
        return;
      }
      event.jsonBody = parseJsonBytes(bytes, 'an OTLP trace export');
    },
  };
}
