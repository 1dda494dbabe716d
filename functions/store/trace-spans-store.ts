/**
 * Where the spans of a trace wait for the rest of it: one item per trace in
 * the Executions table, keyed `spans#<traceId>` (`#` is not allowed in an
 * executionId, so no run can have that key), with a short TTL. It has no
 * `startShard`, so it is never in the `byStartTime` index, and the stream
 * reader skips it (store/stream-records.ts): it is never counted as a run.
 *
 * Writers merge under optimistic locking: read the item, add their spans,
 * put it back on condition that its `version` is still the one they read.
 * Spans already stored as they are cost no write.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import {
  deserializeTraceSpans,
  type GenAiSpan,
  MAX_SPANS_PER_TRACE,
  mergeTraceSpans,
  serializeTraceSpans,
} from '../domain/otlp-traces';
import { documentClient } from './clients';
import { putIf } from './executions-store';
import { type RetryOptions, withRetry } from './retry';

/** Marks the item as a trace's spans, not a run. */
const TRACE_SPANS_KIND = 'traceSpans';
/** How long a trace's spans wait for more: exporters send every few seconds, so a day is ample. */
const TRACE_SPANS_TTL_SECONDS = 86_400;
/** The stored spans' size limit: a DynamoDB item holds at most 400 KB. */
const MAX_TRACE_SPANS_BYTES = 350_000;
/** Merges retried after losing a race to another writer of the same trace. */
const MAX_MERGE_ATTEMPTS = 8;

/** Key prefix of trace-spans items; `#` is not allowed in an executionId. */
export const TRACE_SPANS_KEY_PREFIX = 'spans#';
const traceSpansKey = (traceId: string) => `${TRACE_SPANS_KEY_PREFIX}${traceId}`;

export interface TraceSpans {
  readonly spans: GenAiSpan[];
  readonly version: number;
  /** The stored text the spans were read from ('' when none). */
  readonly text?: string;
}

export class TraceTooLargeError extends Error {
  override name = 'TraceTooLargeError';
}

export class TraceContendedError extends Error {
  override name = 'TraceContendedError';
}

/** The trace's stored spans and their version (0 and none when nothing is stored). */
export async function readTraceSpans(
  tableName: string,
  traceId: string,
  retry?: RetryOptions,
): Promise<TraceSpans> {
  const answer = await withRetry(
    (abortSignal) =>
      documentClient.send(
        new GetCommand({
          TableName: tableName,
          Key: { executionId: traceSpansKey(traceId) },
          ConsistentRead: true,
        }),
        { abortSignal },
      ),
    retry,
  );
  const item = answer?.Item;
  if (item === undefined || typeof item.spans !== 'string') return { spans: [], version: 0, text: '' };
  return {
    spans: deserializeTraceSpans(traceId, item.spans),
    version: Number(item.version) || 0,
    text: item.spans,
  };
}

/**
 * Adds `arrived` to the stored spans of its trace and returns all of them,
 * with the version written. Throws TraceTooLargeError past
 * MAX_SPANS_PER_TRACE (nothing written), TraceContendedError when other
 * writers kept winning.
 */
export async function addTraceSpans(
  tableName: string,
  traceId: string,
  arrived: readonly GenAiSpan[],
  nowMs: number,
  retry?: RetryOptions,
): Promise<TraceSpans> {
  for (let attempt = 0; attempt < MAX_MERGE_ATTEMPTS; attempt++) {
    const stored = await readTraceSpans(tableName, traceId, retry);
    const spans = mergeTraceSpans(stored.spans, arrived);
    if (spans.length > MAX_SPANS_PER_TRACE) {
      throw new TraceTooLargeError(`trace ${traceId} has more than ${MAX_SPANS_PER_TRACE} spans`);
    }
    const text = serializeTraceSpans(spans);
    if (Buffer.byteLength(text) > MAX_TRACE_SPANS_BYTES) {
      throw new TraceTooLargeError(
        `trace ${traceId}: its spans take more than ${MAX_TRACE_SPANS_BYTES} bytes`,
      );
    }
    // A re-sent export (an exporter retrying) adds nothing: no write, same version.
    if (text === stored.text) return stored;
    const version = stored.version + 1;
    const written = await putIf(
      {
        TableName: tableName,
        Item: {
          executionId: traceSpansKey(traceId),
          kind: TRACE_SPANS_KIND,
          spans: text,
          version,
          expiresAt: Math.floor(nowMs / 1000) + TRACE_SPANS_TTL_SECONDS,
        },
        ...(stored.version === 0
          ? { ConditionExpression: 'attribute_not_exists(executionId)' }
          : {
              ConditionExpression: '#version = :version',
              ExpressionAttributeNames: { '#version': 'version' },
              ExpressionAttributeValues: { ':version': stored.version },
            }),
      },
      retry,
    );
    if (written) return { spans, version };
    // Not written: another writer of the trace won; read its spans and merge again.
  }
  throw new TraceContendedError(`trace ${traceId}: ${MAX_MERGE_ATTEMPTS} concurrent writers in a row`);
}
