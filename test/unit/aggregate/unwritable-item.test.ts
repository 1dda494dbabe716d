/**
 * An aggregate item that DynamoDB refuses to write (ValidationException) is
 * never a reason to stall a shard: the batch succeeds, the item's records are
 * named in an UNWRITTEN entry and in the log, and every other item counts.
 */
import {
  DynamoDBClient,
  PutItemCommand,
  type PutItemCommandInput,
  UpdateItemCommand,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type AggregateEvent, createAggregateHandler } from '../../../functions/aggregate';
import { aggregateSeriesPk, decodeAggregateItem } from '../../../functions/store/aggregate-keys';
import { UNWRITTEN_PK } from '../../../functions/store/unwritten-items';
import { FakeAggregatesTable } from './fake-aggregates';
import { runImage, streamRecord } from './runs';

vi.hoisted(() => {
  process.env.AGGREGATES_TABLE_NAME ??= 'Aggregates';
  process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
});

const dynamodb = mockClient(DynamoDBClient);
const SHARD = 'shardId-00000001700000000000-unwritable';
const HUGE = 'model-too-big';

let table: FakeAggregatesTable;
let updatesOfHugeHour: number;

const aggregate = createAggregateHandler({
  aggregatesTableName: 'Aggregates',
  emfSink: () => undefined,
  retry: { attempts: 3, baseDelayMs: 0, sleep: async () => undefined },
});

/** Runs of two models in one hour; the HUGE model's hour item cannot be written. */
function batch() {
  return Array.from({ length: 6 }, (_, index) =>
    streamRecord('INSERT', index + 1, {
      newImage: runImage({
        executionId: `r${index}`,
        model: index % 2 === 0 ? HUGE : 'model-ok',
        startMs: Date.parse('2026-11-01T10:15:00Z') + index * 1_000,
      }),
    }),
  );
}

const deliver = (records = batch()) =>
  aggregate({ Records: records, shardId: SHARD } as AggregateEvent, {
    getRemainingTimeInMillis: () => 60_000,
  });

beforeEach(() => {
  dynamodb.reset();
  table = new FakeAggregatesTable();
  updatesOfHugeHour = 0;
  dynamodb.on(PutItemCommand).callsFake((input: PutItemCommandInput) => table.put(input));
  dynamodb.on(UpdateItemCommand).callsFake((input: UpdateItemCommandInput) => {
    if (input.Key?.pk?.S === aggregateSeriesPk('hour', HUGE)) {
      updatesOfHugeHour++;
      throw Object.assign(new Error('Item size to update has exceeded the maximum allowed size'), {
        name: 'ValidationException',
        $metadata: { httpStatusCode: 400 },
      });
    }
    return table.update(input);
  });
});

afterEach(() => dynamodb.reset());

describe('an aggregate item DynamoDB refuses to write', () => {
  it('lets the batch succeed with one attempt, counts everything else, and names the records left out', async () => {
    // Act
    const response = await deliver();

    // Assert
    expect(response.batchItemFailures).toEqual([]);
    expect(updatesOfHugeHour).toBe(1);
    const okHour = decodeAggregateItem(table.item(aggregateSeriesPk('hour', 'model-ok'), '2026-11-01T10'));
    const hugeDay = decodeAggregateItem(table.item(aggregateSeriesPk('day', HUGE), '2026-11-01'));
    expect(okHour.byStatus.success.counters.executions).toBe(3);
    expect(hugeDay.byStatus.success.counters.executions).toBe(3);
    const entries = [...table.items.values()].filter((item) => item.pk?.S === UNWRITTEN_PK);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      granularity: { S: 'hour' },
      model: { S: HUGE },
      bucket: { S: '2026-11-01T10' },
      shardId: { S: SHARD },
      records: { N: '3' },
      sequenceNumbers: {
        S: ['100000000000000000001', '100000000000000000003', '100000000000000000005'].join(','),
      },
      eventIds: { S: 'event-1,event-3,event-5' },
    });
    expect(entries[0]?.error?.S).toContain('maximum allowed size');
  });

  it('keeps a redelivered batch exactly-once for the other items and records the same entry once', async () => {
    // Arrange
    await deliver();

    // Act
    const response = await deliver();

    // Assert
    expect(response.batchItemFailures).toEqual([]);
    const okHour = decodeAggregateItem(table.item(aggregateSeriesPk('hour', 'model-ok'), '2026-11-01T10'));
    expect(okHour.byStatus.success.counters.executions).toBe(3);
    expect([...table.items.values()].filter((item) => item.pk?.S === UNWRITTEN_PK)).toHaveLength(1);
  });

  it('still fails the batch on an error that may pass (throttling), so Lambda retries it', async () => {
    // Arrange
    dynamodb
      .on(UpdateItemCommand)
      .rejects(Object.assign(new Error('slow down'), { name: 'ThrottlingException', $metadata: {} }));

    // Act (no invocation deadline: the handler's own bounded retries)
    const outcome = aggregate({ Records: batch(), shardId: SHARD } as AggregateEvent);

    // Assert
    await expect(outcome).rejects.toThrow(/gave up after|slow down/);
  });
});
