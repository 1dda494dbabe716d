/**
 * OTLP/HTTP in its protobuf encoding: an `ExportTraceServiceRequest` read
 * with protobufjs into the shape of the OTLP/JSON encoding, so both encodings
 * go through one reader (`parseOtlpJsonExport`), and the
 * `ExportTraceServiceResponse` written back.
 *
 * The descriptor below is the part of the OpenTelemetry protocol's .proto
 * files (opentelemetry/proto/{collector/trace,trace,common,resource}/v1, field
 * numbers as published there) that a run is made from. Every other field is
 * skipped by protobufjs as an unknown field, without being decoded: that
 * includes the recursive `AnyValue` members (`arrayValue`, `kvlistValue`),
 * span events and links, so no payload can make the decoder recurse deeper
 * than the five levels of the messages listed here.
 */
import protobuf from 'protobufjs/light.js';

const descriptor = {
  nested: {
    common: {
      nested: {
        AnyValue: {
          oneofs: { value: { oneof: ['stringValue', 'boolValue', 'intValue', 'doubleValue'] } },
          fields: {
            stringValue: { type: 'string', id: 1 },
            boolValue: { type: 'bool', id: 2 },
            intValue: { type: 'int64', id: 3 },
            doubleValue: { type: 'double', id: 4 },
          },
        },
        KeyValue: {
          fields: { key: { type: 'string', id: 1 }, value: { type: 'AnyValue', id: 2 } },
        },
      },
    },
    trace: {
      nested: {
        ResourceSpans: {
          fields: { scopeSpans: { rule: 'repeated', type: 'ScopeSpans', id: 2 } },
        },
        ScopeSpans: {
          fields: { spans: { rule: 'repeated', type: 'Span', id: 2 } },
        },
        Span: {
          fields: {
            traceId: { type: 'bytes', id: 1 },
            spanId: { type: 'bytes', id: 2 },
            parentSpanId: { type: 'bytes', id: 4 },
            name: { type: 'string', id: 5 },
            startTimeUnixNano: { type: 'fixed64', id: 7 },
            endTimeUnixNano: { type: 'fixed64', id: 8 },
            attributes: { rule: 'repeated', type: 'common.KeyValue', id: 9 },
            status: { type: 'Status', id: 15 },
          },
        },
        Status: {
          fields: { message: { type: 'string', id: 2 }, code: { type: 'int32', id: 3 } },
        },
        ExportTraceServiceRequest: {
          fields: { resourceSpans: { rule: 'repeated', type: 'ResourceSpans', id: 1 } },
        },
        ExportTraceServiceResponse: {
          fields: { partialSuccess: { type: 'ExportTracePartialSuccess', id: 1 } },
        },
        ExportTracePartialSuccess: {
          fields: { rejectedSpans: { type: 'int64', id: 1 }, errorMessage: { type: 'string', id: 2 } },
        },
      },
    },
  },
};

const root = protobuf.Root.fromJSON(descriptor);
const requestType = root.lookupType('trace.ExportTraceServiceRequest');
const responseType = root.lookupType('trace.ExportTraceServiceResponse');

/** protobufjs' conversion: 64-bit integers as decimal strings, as OTLP/JSON writes them. */
const asJson = { longs: String, enums: Number, bytes: Array, defaults: false, arrays: false } as const;

const hexOf = (bytes: unknown) =>
  Array.isArray(bytes) ? Buffer.from(bytes as number[]).toString('hex') : undefined;

/**
 * OTLP/JSON writes trace and span ids as hex where protobuf has bytes; an
 * empty id is absent, as in proto3.
 */
function idsAsHex(span: Record<string, unknown>): Record<string, unknown> {
  const ids: Record<string, unknown> = {};
  for (const name of ['traceId', 'spanId', 'parentSpanId'] as const) {
    const hex = hexOf(span[name]);
    if (hex !== undefined && hex !== '') ids[name] = hex;
  }
  return { ...span, ...ids };
}

export type DecodedExport =
  | { readonly ok: true; readonly body: unknown }
  | { readonly ok: false; readonly message: string };

/**
 * Decodes a protobuf `ExportTraceServiceRequest` into its OTLP/JSON form.
 * Bytes that are not one (truncated, wrong wire types) give a message naming
 * where decoding stopped, never an exception.
 */
export function decodeOtlpProtobufExport(bytes: Uint8Array): DecodedExport {
  let message: protobuf.Message;
  try {
    message = requestType.decode(bytes);
  } catch (error) {
    return {
      ok: false,
      message: `body is not a protobuf ExportTraceServiceRequest: ${String((error as Error).message).slice(0, 200)}`,
    };
  }
  const body = requestType.toObject(message, asJson) as {
    resourceSpans?: { scopeSpans?: { spans?: Record<string, unknown>[] }[] }[];
  };
  for (const resource of body.resourceSpans ?? [])
    for (const scope of resource.scopeSpans ?? []) if (scope.spans) scope.spans = scope.spans.map(idsAsHex);
  return { ok: true, body };
}

/** The `ExportTraceServiceResponse` of an export, with `partialSuccess` when some spans were rejected. */
export function encodeOtlpProtobufResponse(partialSuccess?: {
  readonly rejectedSpans: number;
  readonly errorMessage: string;
}): Uint8Array {
  return responseType
    .encode(responseType.fromObject(partialSuccess === undefined ? {} : { partialSuccess }))
    .finish();
}

/** Reads an `ExportTraceServiceResponse` (for tests and clients of this module). */
export function decodeOtlpProtobufResponse(bytes: Uint8Array): {
  partialSuccess?: { rejectedSpans?: string; errorMessage?: string };
} {
  return responseType.toObject(responseType.decode(bytes), asJson);
}
