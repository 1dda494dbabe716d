/**
 * Spans as the OpenTelemetry SDK holds them when it exports (`ReadableSpan`),
 * built from plain values, so that the SDK's own OTLP serializers
 * (`@opentelemetry/otlp-transformer`) write the exports tests and the bench send.
 */
import { type Attributes, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';

export interface PlainSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId?: string;
  readonly name: string;
  readonly startTimeUnixNano: bigint;
  readonly endTimeUnixNano: bigint;
  readonly attributes: Attributes;
  readonly error?: { readonly message?: string };
}

const resource = resourceFromAttributes({ 'service.name': 'fixer-agent' });

const hrTime = (nanos: bigint): [number, number] => [
  Number(nanos / 1_000_000_000n),
  Number(nanos % 1_000_000_000n),
];

export function readableSpan(span: PlainSpan): ReadableSpan {
  return {
    name: span.name,
    kind: SpanKind.INTERNAL,
    spanContext: () => ({ traceId: span.traceId, spanId: span.spanId, traceFlags: 1 }),
    parentSpanContext: span.parentSpanId
      ? { traceId: span.traceId, spanId: span.parentSpanId, traceFlags: 1 }
      : undefined,
    startTime: hrTime(span.startTimeUnixNano),
    endTime: hrTime(span.endTimeUnixNano),
    status: span.error
      ? {
          code: SpanStatusCode.ERROR,
          ...(span.error.message === undefined ? {} : { message: span.error.message }),
        }
      : { code: SpanStatusCode.UNSET },
    attributes: span.attributes,
    links: [],
    events: [],
    duration: hrTime(span.endTimeUnixNano - span.startTimeUnixNano),
    ended: true,
    resource,
    instrumentationScope: { name: 'fixer' },
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
}
