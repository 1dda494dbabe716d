/**
 * Stream records as Lambda delivers them: GetRecords answers (AWS SDK v3 shapes)
 * turned into the JSON of a DynamoDB stream event. Pure functions, no I/O.
 */
import type { _Record, AttributeValue as SdkAttributeValue } from '@aws-sdk/client-dynamodb-streams';
import type { AttributeValue, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';

/** The event of a mapping with a tumbling window; that is what gives the handler `shardId`. */
export interface WindowedStreamEvent extends DynamoDBStreamEvent {
  shardId: string;
  eventSourceARN: string;
  window: { start: string; end: string };
  state: Record<string, unknown>;
  isFinalInvokeForWindow: boolean;
  isWindowTerminatedEarly: boolean;
}

/** What a handler may answer: nothing (all done), or the records to retry, and window state. */
export type StreamHandlerResult =
  | {
      batchItemFailures?: { itemIdentifier?: string | null }[] | null;
      state?: Record<string, unknown>;
    }
  | null
  | undefined
  // biome-ignore lint/suspicious/noConfusingVoidType: aws-lambda's DynamoDBStreamHandler may resolve to void
  | void;

export type StreamHandler = (event: WindowedStreamEvent) => Promise<StreamHandlerResult>;

const toBase64 = (bytes: Uint8Array) =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');

/**
 * The SDK decodes binary attributes into Uint8Array; Lambda's event carries
 * them base64-encoded, as in the JSON wire format.
 */
function toLambdaAttributeValue(value: SdkAttributeValue): AttributeValue {
  if (value.B !== undefined) return { B: toBase64(value.B) };
  if (value.BS !== undefined) return { BS: value.BS.map(toBase64) };
  if (value.L !== undefined) return { L: value.L.map(toLambdaAttributeValue) };
  if (value.M !== undefined) return { M: toLambdaImage(value.M) };
  if (value.S !== undefined) return { S: value.S };
  if (value.N !== undefined) return { N: value.N };
  if (value.BOOL !== undefined) return { BOOL: value.BOOL };
  if (value.NULL !== undefined) return { NULL: value.NULL };
  if (value.SS !== undefined) return { SS: value.SS };
  if (value.NS !== undefined) return { NS: value.NS };
  throw new TypeError(`unknown attribute value type: ${Object.keys(value).join(',')}`);
}

function toLambdaImage(image: Record<string, SdkAttributeValue>): Record<string, AttributeValue> {
  const converted: Record<string, AttributeValue> = {};
  for (const [name, value] of Object.entries(image)) converted[name] = toLambdaAttributeValue(value);
  return converted;
}

/** One GetRecords record as an entry of `event.Records`. */
export function toLambdaRecord(
  record: _Record,
  eventSourceArn: string,
  fallbackRegion: string,
): DynamoDBRecord {
  const stream = record.dynamodb ?? {};
  const created = stream.ApproximateCreationDateTime;
  const dynamodb: NonNullable<DynamoDBRecord['dynamodb']> = {
    // Lambda sends epoch seconds; the SDK has parsed them into a Date.
    ...(created !== undefined
      ? { ApproximateCreationDateTime: Math.floor(new Date(created).getTime() / 1000) }
      : {}),
    ...(stream.Keys ? { Keys: toLambdaImage(stream.Keys) } : {}),
    ...(stream.NewImage ? { NewImage: toLambdaImage(stream.NewImage) } : {}),
    ...(stream.OldImage ? { OldImage: toLambdaImage(stream.OldImage) } : {}),
    ...(stream.SequenceNumber !== undefined ? { SequenceNumber: stream.SequenceNumber } : {}),
    ...(stream.SizeBytes !== undefined ? { SizeBytes: stream.SizeBytes } : {}),
    ...(stream.StreamViewType !== undefined ? { StreamViewType: stream.StreamViewType } : {}),
  };
  return {
    ...(record.eventID !== undefined ? { eventID: record.eventID } : {}),
    ...(record.eventName !== undefined ? { eventName: record.eventName } : {}),
    eventVersion: record.eventVersion ?? '1.1',
    eventSource: record.eventSource ?? 'aws:dynamodb',
    awsRegion: record.awsRegion ?? fallbackRegion,
    dynamodb,
    eventSourceARN: eventSourceArn,
    ...(record.userIdentity ? { userIdentity: { ...record.userIdentity } } : {}),
  };
}

/** The tumbling window [start, end) that contains `now`, aligned on the epoch as Lambda's are. */
export function tumblingWindowAt(now: number, windowSeconds: number): { start: string; end: string } {
  const size = windowSeconds * 1000;
  const start = Math.floor(now / size) * size;
  return { start: new Date(start).toISOString(), end: new Date(start + size).toISOString() };
}

export function buildStreamEvent(input: {
  records: readonly DynamoDBRecord[];
  shardId: string;
  eventSourceArn: string;
  window: { start: string; end: string };
  state: Record<string, unknown>;
}): WindowedStreamEvent {
  return {
    Records: [...input.records],
    shardId: input.shardId,
    eventSourceARN: input.eventSourceArn,
    window: input.window,
    state: input.state,
    isFinalInvokeForWindow: false,
    isWindowTerminatedEarly: false,
  };
}

/**
 * Reads a handler's answer the way the event source mapping does.
 * - nothing, or an empty `batchItemFailures`: the whole batch succeeded;
 * - identifiers that all name records of the batch: retry from the lowest one;
 * - any identifier that is empty or not in the batch: the whole batch failed.
 */
export function interpretBatchResponse(
  result: StreamHandlerResult,
  batchSequenceNumbers: readonly string[],
): { kind: 'success' } | { kind: 'partial'; firstFailedIndex: number } | { kind: 'invalid'; reason: string } {
  const failures = result?.batchItemFailures;
  if (failures === undefined || failures === null || failures.length === 0) return { kind: 'success' };
  let firstFailedIndex = Number.POSITIVE_INFINITY;
  for (const failure of failures) {
    const identifier = failure?.itemIdentifier;
    const index =
      typeof identifier === 'string' && identifier !== '' ? batchSequenceNumbers.indexOf(identifier) : -1;
    if (index < 0) {
      return {
        kind: 'invalid',
        reason: `batchItemFailures names ${JSON.stringify(identifier)}, not a record of the batch`,
      };
    }
    firstFailedIndex = Math.min(firstFailedIndex, index);
  }
  return { kind: 'partial', firstFailedIndex };
}

/** Orders DynamoDB stream sequence numbers (decimal strings of 21–40 digits). */
export function compareSequenceNumbers(left: string, right: string): number {
  const a = BigInt(left);
  const b = BigInt(right);
  return a < b ? -1 : a > b ? 1 : 0;
}
