/**
 * Builders of run images and DynamoDB stream records for the aggregation tests.
 */
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import type { RunImage } from '../../../functions/store/run-item';

/** A valid run image (what the Executions table holds), with overrides. */
export function runImage(overrides: Partial<RunImage> = {}): RunImage {
  const startMs = overrides.startMs ?? Date.parse('2026-11-01T10:15:00Z');
  const durationMs = overrides.durationMs ?? 150_000;
  return {
    executionId: 'run-1',
    startTime: new Date(startMs).toISOString(),
    endTime: new Date(startMs + durationMs).toISOString(),
    status: 'success',
    model: 'claude-sonnet-4',
    inputTokens: 1200,
    outputTokens: 300,
    cacheReadTokens: 800,
    cacheWriteTokens: 100,
    costNanos: 12_345_000n,
    llmCalls: 6,
    toolCalls: 9,
    filesModified: 2,
    ...overrides,
    durationMs,
    startMs,
  };
}

/** A TTL deletion's userIdentity, as DynamoDB Streams reports it. */
export const ttlIdentity = { type: 'Service', principalId: 'dynamodb.amazonaws.com' };

/** A stream record as Lambda delivers it; images are plain objects, marshalled here. */
export function streamRecord(
  eventName: 'INSERT' | 'MODIFY' | 'REMOVE',
  sequence: number | string,
  images: { oldImage?: object; newImage?: object; userIdentity?: object },
): DynamoDBRecord {
  const image = (value: object | undefined) =>
    value === undefined ? undefined : (marshall(value, { removeUndefinedValues: true }) as never);
  return {
    eventID: `event-${sequence}`,
    eventName,
    eventSource: 'aws:dynamodb',
    ...(images.userIdentity ? { userIdentity: images.userIdentity } : {}),
    dynamodb: {
      SequenceNumber: `1${String(sequence).padStart(20, '0')}`,
      OldImage: image(images.oldImage),
      NewImage: image(images.newImage),
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
  };
}
