import { readFileSync, writeFileSync } from 'node:fs';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeOtlpProtobufExport,
  decodeOtlpProtobufResponse,
  encodeOtlpProtobufResponse,
} from '../../../functions/domain/otlp-protobuf';
import { parseOtlpJsonExport, planTraceRuns } from '../../../functions/domain/otlp-traces';
import { readableSpan } from '../../support/otlp-spans';

const jsonFixture = new URL('./fixtures/otlp-agent-trace.json', import.meta.url);
const protobufFixture = new URL('./fixtures/otlp-agent-trace.pb', import.meta.url);

interface JsonSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: { key: string; value: { stringValue?: string; intValue?: string } }[];
  status?: { code: number; message?: string };
}

/**
 * The spans of the JSON golden export as the OpenTelemetry SDK holds them,
 * so that the SDK's own serializer writes the protobuf golden export.
 */
function sdkSpansOfJsonFixture(): ReadableSpan[] {
  const body = JSON.parse(readFileSync(jsonFixture, 'utf8'));
  const spans: JsonSpan[] = body.resourceSpans[0].scopeSpans[0].spans;
  return spans.map((span) =>
    readableSpan({
      traceId: span.traceId,
      spanId: span.spanId,
      ...(span.parentSpanId ? { parentSpanId: span.parentSpanId } : {}),
      name: span.name,
      startTimeUnixNano: BigInt(span.startTimeUnixNano),
      endTimeUnixNano: BigInt(span.endTimeUnixNano),
      attributes: Object.fromEntries(
        span.attributes.map(({ key, value }) => [
          key,
          value.intValue === undefined ? value.stringValue : Number(value.intValue),
        ]),
      ),
      ...(span.status?.code === 2 ? { error: { message: span.status.message } } : {}),
    }),
  );
}

function runsOf(body: unknown) {
  const parsed = parseOtlpJsonExport(body);
  if (!parsed.ok) throw new Error(parsed.message);
  return { rejected: parsed.rejected, plan: planTraceRuns(parsed.spans) };
}

describe('OTLP protobuf', () => {
  it('keeps a golden export that is what the OpenTelemetry SDK serializer writes for the JSON golden export', () => {
    const written = ProtobufTraceSerializer.serializeRequest(sdkSpansOfJsonFixture()) as Uint8Array;
    // UPDATE_GOLDEN=1 rewrites the file after a deliberate change of the JSON golden export.
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(protobufFixture, written);
    expect(Buffer.from(readFileSync(protobufFixture)).equals(Buffer.from(written))).toBe(true);
  });

  it('decodes the golden protobuf export into exactly the runs of the JSON golden export', () => {
    const decoded = decodeOtlpProtobufExport(readFileSync(protobufFixture));
    if (!decoded.ok) throw new Error(decoded.message);
    const fromProtobuf = runsOf(decoded.body);
    const fromJson = runsOf(JSON.parse(readFileSync(jsonFixture, 'utf8')));

    expect(fromProtobuf.rejected).toEqual([]);
    expect(fromProtobuf.plan.rejected).toEqual([]);
    expect(fromProtobuf.plan.toStore).toHaveLength(2);
    expect(fromProtobuf.plan.toStore).toEqual(fromJson.plan.toStore);
    expect(fromProtobuf.plan.toStore[0]?.record).toMatchObject({
      executionId: '5b8efff798038103d269b633813fc60c:eee19b7ec3c1b174',
      endTime: '2026-11-01T10:01:30.000000123Z',
      model: 'claude-sonnet-4-5',
      inputTokens: 2400,
      filesModified: 3,
    });
  });

  it('writes an ExportTraceServiceResponse the SDK exporter reads, with or without partialSuccess', () => {
    const partial = encodeOtlpProtobufResponse({
      rejectedSpans: 2,
      errorMessage: '2 spans could not become runs',
    });
    expect(ProtobufTraceSerializer.deserializeResponse(partial)).toMatchObject({
      partialSuccess: { errorMessage: '2 spans could not become runs' },
    });
    expect(decodeOtlpProtobufResponse(partial)).toEqual({
      partialSuccess: { rejectedSpans: '2', errorMessage: '2 spans could not become runs' },
    });
    expect(encodeOtlpProtobufResponse()).toHaveLength(0);
  });

  it('names where decoding stopped for bytes that are not an export', () => {
    const golden = readFileSync(protobufFixture);
    expect(decodeOtlpProtobufExport(golden.subarray(0, golden.length - 7))).toEqual({
      ok: false,
      message: expect.stringMatching(/^body is not a protobuf ExportTraceServiceRequest: .+/),
    });
  });

  it('never throws on arbitrary or mutated bytes, and what it decodes is read as an export', () => {
    const golden = readFileSync(protobufFixture);
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 512 }),
          fc
            .tuple(fc.nat(golden.length - 1), fc.integer({ min: 0, max: 255 }))
            .map(([at, byte]) => Uint8Array.from(golden, (value, index) => (index === at ? byte : value))),
        ),
        (bytes) => {
          const decoded = decodeOtlpProtobufExport(bytes);
          if (decoded.ok) expect(() => parseOtlpJsonExport(decoded.body)).not.toThrow();
        },
      ),
      { numRuns: 500 },
    );
  });
});
